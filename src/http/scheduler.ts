// The durable scheduler's runner: every node polls the store for jobs that fell due and runs each
// with the consumer registered for its topic. The store's take is atomic and leased, so a job is
// run by one node at a time; a job whose node died is taken again when its lease runs out, so
// consumers guard their effect (a scheduled send moves its message scheduled -> sending first).
// Generic on purpose: scheduled messages use it now; deferral (quiet hours) and pacing can too.

import type { FastifyBaseLogger } from 'fastify';
import type { ScheduledJob, SchedulerStore } from '../store/types.js';

export type JobHandler = (job: ScheduledJob) => Promise<void>;

export interface SchedulerOptions {
  pollMs: number;
  /** How long a node holds a job it runs (longer than a run can take). */
  leaseMs: number;
  /** Jobs one poll takes at most. */
  batch: number;
}

export class JobScheduler {
  private readonly handlers = new Map<string, JobHandler>();
  private timer: NodeJS.Timeout | null = null;
  private polling = false;
  private closed = false;
  private readonly inflight = new Set<Promise<void>>();

  constructor(
    private readonly store: SchedulerStore,
    private readonly log: FastifyBaseLogger,
    private readonly opts: SchedulerOptions,
  ) {}

  /** The consumer of one topic; a job of a topic nobody registered is left done and logged. */
  on(topic: string, handler: JobHandler): void {
    this.handlers.set(topic, handler);
  }

  start(): void {
    if (this.timer !== null || this.closed) return;
    this.timer = setInterval(() => void this.poll(), this.opts.pollMs);
    this.timer.unref();
  }

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
      const due = await this.store.takeDue(new Date(now).toISOString(), new Date(now + this.opts.leaseMs).toISOString(), this.opts.batch);
      await Promise.all(due.map((job) => this.track(this.run(job))));
    } catch (e) {
      if (!this.closed) this.log.warn({ err: e }, 'scheduler poll failed');
    } finally {
      this.polling = false;
    }
  }

  private track(p: Promise<void>): Promise<void> {
    this.inflight.add(p);
    return p.finally(() => this.inflight.delete(p));
  }

  private async run(job: ScheduledJob): Promise<void> {
    const handler = this.handlers.get(job.topic);
    try {
      if (handler === undefined) this.log.error({ job: job.id, topic: job.topic }, 'no consumer for a scheduled job; dropped');
      else await handler(job);
      await this.store.complete(job.id);
    } catch (e) {
      // Left running: its lease runs out and the job is taken again (the consumer's guard decides).
      this.log.warn({ err: e, job: job.id, attempt: job.attempts }, 'scheduled job failed; retried when its lease ends');
    }
  }
}
