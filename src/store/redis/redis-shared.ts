// Fast shared state in Redis (ioredis): rate-limit counters (one atomic Lua script per check,
// auto-pipelined), recent-traffic sketches (HyperLogLog) and the change channel (pub/sub).
//
// Failure mode: counters and sketches fail OPEN. If Redis cannot answer within commandTimeoutMs the
// check is allowed, marked failedOpen, and a warning is logged (at most once per 10 s). The change
// channel degrades to the projections' polling: a lost notification delays, never loses, a change.

import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { ChangeChannel, ChangeTopic, Counters, RateLimitResult, Sketches } from '../types.js';

// Fixed window opened at the key's first use: INCR, set the expiry on the first unit, report TTL.
const TAKE = `
local n = redis.call('INCRBY', KEYS[1], tonumber(ARGV[2] or '1'))
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {n, ttl}`;

const DISTINCT = `
redis.call('PFADD', KEYS[1], ARGV[1])
if redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return redis.call('PFCOUNT', KEYS[1])`;

type WardenRedis = Redis & {
  wardenTake(key: string, windowMs: number, units: number): Promise<[number, number]>;
  wardenDistinct(key: string, member: string, windowMs: number): Promise<number>;
};

export interface RedisOptions {
  prefix?: string;
  log?: (msg: string) => void;
  /** A check not answered within this time fails open. */
  commandTimeoutMs?: number;
}

export class RedisShared {
  readonly counters: Counters;
  readonly sketches: Sketches;
  readonly changes: ChangeChannel;
  readonly nodeId = randomUUID();
  private lastWarn = new Map<string, number>();

  static async open(url: string, opts: RedisOptions = {}): Promise<RedisShared> {
    const shared = new RedisShared(url, opts);
    await shared.connected();
    return shared;
  }

  private readonly cmd: WardenRedis;
  private readonly sub: Redis;
  private readonly prefix: string;
  private readonly log: (msg: string) => void;
  private readonly handlers: Array<(topic: ChangeTopic, seq: number) => void> = [];

  private constructor(url: string, opts: RedisOptions) {
    this.prefix = opts.prefix ?? 'warden:';
    this.log = opts.log ?? ((m) => process.stderr.write(`warden redis: ${m}\n`));
    const common = {
      lazyConnect: true,
      connectTimeout: 2000,
      maxRetriesPerRequest: 1,
      retryStrategy: (times: number) => Math.min(times * 200, 2000),
    };
    this.cmd = new Redis(url, {
      ...common,
      enableAutoPipelining: true,
      enableOfflineQueue: false,
      commandTimeout: opts.commandTimeoutMs ?? 500,
    }) as WardenRedis;
    this.sub = new Redis(url, { ...common, enableOfflineQueue: true });
    this.cmd.defineCommand('wardenTake', { numberOfKeys: 1, lua: TAKE });
    this.cmd.defineCommand('wardenDistinct', { numberOfKeys: 1, lua: DISTINCT });
    this.cmd.on('error', (e: Error) => this.warn(`connection: ${e.message}`));
    this.sub.on('error', (e: Error) => this.warn(`subscriber connection: ${e.message}`));
    const channel = `${this.prefix}changes`;
    this.sub.on('message', (ch: string, message: string) => {
      if (ch !== channel) return;
      try {
        const m = JSON.parse(message) as { t: ChangeTopic; s: number; n: string };
        if (m.n === this.nodeId) return; // delivered locally at publish time
        for (const h of this.handlers) h(m.t, m.s);
      } catch {
        this.warn('ignored a malformed change notification');
      }
    });

    const failOpen = (limit: number, e: unknown): RateLimitResult => {
      this.warn(`rate-limit check failed open: ${(e as Error).message}`);
      return { allowed: true, remaining: limit, retryAfterMs: 0, failedOpen: true };
    };
    const result = (limit: number, [n, ttl]: [number, number]): RateLimitResult => {
      const allowed = n <= limit;
      return { allowed, remaining: Math.max(0, limit - n), retryAfterMs: allowed ? 0 : Math.max(1, ttl) };
    };
    const key = (k: string) => `${this.prefix}rl:${k}`;
    this.counters = {
      take: async (k, limit, windowMs, _now, units = 1) => {
        try {
          return result(limit, await this.cmd.wardenTake(key(k), windowMs, units));
        } catch (e) {
          return failOpen(limit, e);
        }
      },
      takeMany: async (requests) => {
        if (requests.length === 0) return [];
        try {
          const p = this.cmd.pipeline() as unknown as {
            wardenTake(k: string, w: number, units: number): void;
            exec(): Promise<Array<[Error | null, unknown]> | null>;
          };
          for (const r of requests) p.wardenTake(key(r.key), r.windowMs, r.units ?? 1);
          const out = (await p.exec()) ?? [];
          return requests.map((r, i) => {
            const [err, v] = out[i] ?? [new Error('no reply'), null];
            return err !== null ? failOpen(r.limit, err) : result(r.limit, v as [number, number]);
          });
        } catch (e) {
          return requests.map((r) => failOpen(r.limit, e));
        }
      },
    };
    this.sketches = {
      addDistinct: async (k, member, windowMs) => {
        try {
          return await this.cmd.wardenDistinct(`${this.prefix}hll:${k}`, member, windowMs);
        } catch (e) {
          this.warn(`sketch update failed open: ${(e as Error).message}`);
          return 0;
        }
      },
    };
    this.changes = {
      publish: async (topic, seq) => {
        for (const h of this.handlers) h(topic, seq);
        await this.cmd.publish(channel, JSON.stringify({ t: topic, s: seq, n: this.nodeId }));
      },
      subscribe: (h) => {
        this.handlers.push(h);
      },
      close: async () => {
        this.handlers.length = 0;
      },
    };
  }

  private async connected(): Promise<void> {
    try {
      await Promise.all([this.cmd.connect(), this.sub.connect()]);
      await this.sub.subscribe(`${this.prefix}changes`);
    } catch (e) {
      // Start anyway: counters fail open and state is kept current by polling until Redis is back.
      this.warn(`Redis unreachable at start: ${(e as Error).message}; counters fail open until it is back`);
      if (this.sub.status !== 'ready') void this.sub.subscribe(`${this.prefix}changes`).catch(() => undefined);
    }
  }

  /** True when commands can be sent now. */
  get ready(): boolean {
    return this.cmd.status === 'ready';
  }

  /** Logs at most once per 10 s per kind of message (the text before the first colon). */
  private warn(msg: string): void {
    const kind = msg.split(':')[0];
    const now = Date.now();
    if (now - (this.lastWarn.get(kind) ?? 0) < 10_000) return;
    this.lastWarn.set(kind, now);
    this.log(msg);
  }

  async close(): Promise<void> {
    this.sub.disconnect();
    await this.cmd.quit().catch(() => this.cmd.disconnect());
  }
}
