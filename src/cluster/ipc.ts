// Shared fast state for `warden serve --workers N` without Redis: the primary process holds the
// counters and the recent-traffic sketches, and relays change notifications between workers.
// Workers reach it over the cluster IPC channel (process.send / cluster 'message').
//
//   change:   worker -> primary -> every other worker (the sender applies its own at once)
//   counters: worker -> primary (one MemoryCounters for the machine) -> reply to that worker
//
// Counters are exact: every take is decided in one place. A worker that cannot reach the primary
// (channel gone, no reply within the timeout) refuses the take instead of admitting it, so the
// machine never admits more than a limit.

import type { Worker } from 'node:cluster';
import { EventEmitter } from 'node:events';
import type { ChangeChannel, ChangeTopic, Counters, RateLimitResult, Sketches } from '../store/types.js';
import { MemoryCounters, MemorySketches } from '../store/memory/memory-counters.js';

const TOPICS: ReadonlySet<string> = new Set<ChangeTopic>(['consent', 'enforcement', 'tenancy', 'policy']);

interface ChangeMessage {
  warden: 'change';
  topic: ChangeTopic;
  seq: number;
}
interface TakeMessage {
  warden: 'take';
  id: number;
  requests: Array<{ key: string; limit: number; windowMs: number; units?: number }>;
  now: number;
}
interface DistinctMessage {
  warden: 'distinct';
  id: number;
  key: string;
  member: string;
  windowMs: number;
}
interface ReplyMessage {
  warden: 'reply';
  id: number;
  results?: RateLimitResult[];
  count?: number;
  error?: string;
}
export type IpcMessage = ChangeMessage | TakeMessage | DistinctMessage | ReplyMessage;

function isMessage(m: unknown): m is IpcMessage {
  return typeof m === 'object' && m !== null && typeof (m as { warden?: unknown }).warden === 'string';
}

/** The IPC endpoint of a worker process (process.send / process 'message'). */
export interface WorkerPort {
  send(msg: IpcMessage): boolean;
  connected: boolean;
  on(event: 'message', listener: (msg: unknown) => void): unknown;
  off(event: 'message', listener: (msg: unknown) => void): unknown;
}

function processPort(): WorkerPort {
  if (typeof process.send !== 'function') throw new Error('not a cluster worker: no IPC channel to the primary');
  const send = process.send.bind(process);
  return {
    send: (msg) => send(msg),
    get connected() {
      return process.connected;
    },
    on: (e, l) => process.on(e, l),
    off: (e, l) => process.off(e, l),
  };
}

/** Worker side: one request/reply client for counters and sketches, and the change channel. */
export class WorkerIpc {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (m: ReplyMessage) => void; timer: NodeJS.Timeout }>();
  private readonly emitter = new EventEmitter();
  private readonly listener: (msg: unknown) => void;
  private closed = false;

  constructor(
    private readonly port: WorkerPort = processPort(),
    private readonly timeoutMs = 2000,
  ) {
    this.emitter.setMaxListeners(0);
    this.listener = (msg) => {
      if (!isMessage(msg)) return;
      if (msg.warden === 'reply') {
        const p = this.pending.get(msg.id);
        if (p === undefined) return;
        this.pending.delete(msg.id);
        clearTimeout(p.timer);
        p.resolve(msg);
      } else if (msg.warden === 'change' && TOPICS.has(msg.topic) && typeof msg.seq === 'number') {
        this.emitter.emit('change', msg.topic, msg.seq);
      }
    };
    port.on('message', this.listener);
  }

  /** Sends a request to the primary; resolves null when it cannot be reached or does not answer. */
  request(msg: Omit<TakeMessage, 'id'> | Omit<DistinctMessage, 'id'>): Promise<ReplyMessage | null> {
    if (this.closed || !this.port.connected) return Promise.resolve(null);
    const id = this.nextId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        resolve(null);
      }, this.timeoutMs);
      timer.unref();
      this.pending.set(id, { resolve, timer });
      try {
        this.port.send({ ...msg, id } as IpcMessage);
      } catch {
        clearTimeout(timer);
        this.pending.delete(id);
        resolve(null);
      }
    });
  }

  readonly changes: ChangeChannel = {
    publish: async (topic, seq) => {
      // This worker hears its own change at once; the primary relays it to the others.
      this.emitter.emit('change', topic, seq);
      if (this.closed || !this.port.connected) throw new Error('no IPC channel to the primary');
      this.port.send({ warden: 'change', topic, seq });
    },
    subscribe: (handler) => {
      this.emitter.on('change', handler);
    },
    close: async () => this.close(),
  };

  readonly counters: Counters = {
    take: async (key, limit, windowMs, now, units) =>
      (await this.takeMany([{ key, limit, windowMs, ...(units !== undefined ? { units } : {}) }], now))[0],
    takeMany: (requests, now) => this.takeMany(requests, now),
  };

  readonly sketches: Sketches = {
    addDistinct: async (key, member, windowMs) => {
      const r = await this.request({ warden: 'distinct', key, member, windowMs });
      if (r === null || typeof r.count !== 'number') throw new Error(r?.error ?? 'primary process unreachable');
      return r.count;
    },
  };

  private async takeMany(
    requests: Array<{ key: string; limit: number; windowMs: number; units?: number }>,
    now: number,
  ): Promise<RateLimitResult[]> {
    const r = await this.request({ warden: 'take', requests, now });
    if (r !== null && Array.isArray(r.results) && r.results.length === requests.length) return r.results;
    // Fail closed: without the primary no worker can know what the others admitted.
    return requests.map((q) => ({ allowed: false, remaining: 0, retryAfterMs: Math.min(q.windowMs, 1000), failedClosed: true }));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.port.off('message', this.listener);
    this.emitter.removeAllListeners();
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.resolve({ warden: 'reply', id, error: 'closed' });
    }
    this.pending.clear();
  }
}

/** Primary side: answers counter and sketch requests and relays changes to the other workers. */
export class PrimarySharedState {
  readonly counters = new MemoryCounters();
  readonly sketches = new MemorySketches();

  constructor(private readonly workers: () => Iterable<Worker>) {}

  /** Handles one message from a worker; false when it was not one of these. */
  handle(from: Worker, msg: unknown): boolean {
    if (!isMessage(msg)) return false;
    switch (msg.warden) {
      case 'change': {
        if (!TOPICS.has(msg.topic) || typeof msg.seq !== 'number') return true;
        for (const w of this.workers()) {
          if (w.id !== from.id && w.isConnected()) w.send({ warden: 'change', topic: msg.topic, seq: msg.seq } satisfies ChangeMessage);
        }
        return true;
      }
      case 'take': {
        const results = msg.requests.map((q) =>
          this.counters.takeSync(q.key, q.limit, q.windowMs, msg.now, typeof q.units === 'number' && q.units >= 1 ? q.units : 1),
        );
        this.reply(from, { warden: 'reply', id: msg.id, results });
        return true;
      }
      case 'distinct': {
        void this.sketches.addDistinct(msg.key, msg.member, msg.windowMs).then(
          (count) => this.reply(from, { warden: 'reply', id: msg.id, count }),
          (e: unknown) => this.reply(from, { warden: 'reply', id: msg.id, error: (e as Error).message }),
        );
        return true;
      }
      default:
        return false;
    }
  }

  private reply(to: Worker, msg: ReplyMessage): void {
    if (to.isConnected()) to.send(msg);
  }
}
