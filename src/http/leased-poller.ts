// The loop every durable queue on a node shares: poll the store on an interval for items that
// fell due (the store's take is atomic and leased, so one node runs each), run them, never two
// polls at once, and on close wait for the runs in flight. The status-callback outbox and the
// job scheduler each supply what to take and how to run it.

import type { FastifyBaseLogger } from 'fastify';

export interface LeasedPollerOptions<T> {
  pollMs: number;
  /** Items due at `now`, each leased to this node. */
  take: (now: number) => Promise<T[]>;
  run: (item: T) => Promise<void>;
  log: FastifyBaseLogger;
  /** Names the queue in the log line of a failed poll. */
  name: string;
}

export class LeasedPoller<T> {
  private timer: NodeJS.Timeout | null = null;
  private polling = false;
  private closed = false;
  private readonly inflight = new Set<Promise<void>>();

  constructor(private readonly opts: LeasedPollerOptions<T>) {}

  start(): void {
    if (this.timer !== null || this.closed) return;
    this.timer = setInterval(() => void this.poll(), this.opts.pollMs);
    this.timer.unref();
  }

  /** Stops polling and waits for the runs in flight. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    await Promise.allSettled([...this.inflight]);
  }

  /** One poll: takes what is due and runs it; never two polls at once on a node. */
  async poll(now = Date.now()): Promise<void> {
    if (this.polling || this.closed) return;
    this.polling = true;
    try {
      const due = await this.opts.take(now);
      await Promise.all(due.map((item) => this.track(this.opts.run(item))));
    } catch (e) {
      if (!this.closed) this.opts.log.warn({ err: e }, `${this.opts.name} poll failed`);
    } finally {
      this.polling = false;
    }
  }

  /** A run started elsewhere (a first attempt), waited for on close like the polled ones. */
  track(p: Promise<void>): Promise<void> {
    this.inflight.add(p);
    return p.finally(() => this.inflight.delete(p));
  }
}
