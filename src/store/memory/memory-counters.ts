// In-process counters and change channel: the single-node (SQLite) deployment needs no other service.

import { EventEmitter } from 'node:events';
import type { ChangeChannel, ChangeTopic, Counters, RateLimitResult, Sketches } from '../types.js';

/**
 * Fixed windows that open at a key's first use: a limit of N per window admits exactly N between
 * the first take and the window's end, whatever the alignment of the clock. Same rule as Redis.
 */
export class MemoryCounters implements Counters {
  private windows = new Map<string, { count: number; resetAt: number }>();
  private sweeps = 0;

  takeSync(key: string, limit: number, windowMs: number, now: number, units = 1): RateLimitResult {
    if (++this.sweeps % 10_000 === 0) this.sweep(now);
    let w = this.windows.get(key);
    if (w === undefined || w.resetAt <= now) {
      w = { count: 0, resetAt: now + windowMs };
      this.windows.set(key, w);
    }
    w.count += units;
    const allowed = w.count <= limit;
    return { allowed, remaining: Math.max(0, limit - w.count), retryAfterMs: allowed ? 0 : w.resetAt - now };
  }

  async take(key: string, limit: number, windowMs: number, now: number, units = 1): Promise<RateLimitResult> {
    return this.takeSync(key, limit, windowMs, now, units);
  }

  async takeMany(
    requests: Array<{ key: string; limit: number; windowMs: number; units?: number }>,
    now: number,
  ): Promise<RateLimitResult[]> {
    return requests.map((r) => this.takeSync(r.key, r.limit, r.windowMs, now, r.units));
  }

  private sweep(now: number): void {
    for (const [k, w] of this.windows) if (w.resetAt <= now) this.windows.delete(k);
  }
}

export class MemoryChangeChannel implements ChangeChannel {
  private emitter = new EventEmitter();

  constructor() {
    this.emitter.setMaxListeners(0);
  }

  async publish(topic: ChangeTopic, seq: number): Promise<void> {
    this.emitter.emit('change', topic, seq);
  }

  subscribe(handler: (topic: ChangeTopic, seq: number) => void): void {
    this.emitter.on('change', handler);
  }

  async close(): Promise<void> {
    this.emitter.removeAllListeners();
  }
}

/** Exact distinct sets per window, in process. */
export class MemorySketches implements Sketches {
  private sets = new Map<string, { members: Set<string>; resetAt: number }>();

  async addDistinct(key: string, member: string, windowMs: number): Promise<number> {
    const now = Date.now();
    let s = this.sets.get(key);
    if (s === undefined || s.resetAt <= now) {
      if (this.sets.size > 100_000) for (const [k, v] of this.sets) if (v.resetAt <= now) this.sets.delete(k);
      s = { members: new Set(), resetAt: now + windowMs };
      this.sets.set(key, s);
    }
    s.members.add(member);
    return s.members.size;
  }
}
