// Records every decision twice: in the DecisionStore (recipient hashed when the customer asked for
// it, body dropped when the customer keeps none) and as one structured log line with recipient
// and body masked according to the gateway configuration. Writes are effects after the decision
// and nobody waits for them: records and their log lines are gathered for a few milliseconds and
// written together, so one durable commit covers hundreds of decisions instead of one commit
// stalling the event loop per request (on SQLite the commit itself runs on a worker thread, see
// store/sqlite/decision-writer.ts). Nothing of a record is kept once it is handed to the store:
// a read of an ID the store does not have yet waits for the writes in flight instead, so a decision
// can still be fetched the moment its response is sent. (Keeping every record until its commit, for
// those reads, kept ~300 bytes a request alive through two young-generation collections: the
// garbage collector's copying and old-space marking cost 6-14% of the gateway's CPU per request,
// measured with `npm run bench:http -- --cpu`.) Decisions are the log of what happened, not state that gates a
// send (consent and enforcement are written synchronously by their own stores): a crash loses at
// most the last flush interval of them.

import { createHmac } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { Decision, Message } from '../core/types.js';
import type { CustomerRecord, DecisionRecord, DecisionStore } from '../store/types.js';
import type { GatewayMetrics } from './metrics.js';

export type RecipientMasking = 'mask' | 'hash' | 'full';

export interface MaskingOptions {
  /** How recipient and sender numbers appear in logs. */
  recipients: RecipientMasking;
  /** Whether message bodies appear in logs at all. */
  bodies: boolean;
  /** Key of the hashes of numbers in log lines (`recipients: 'hash'`). */
  hashKey: string;
}

export function maskNumber(n: string): string {
  if (n.length <= 5) return '*'.repeat(n.length);
  return n.slice(0, 3) + '*'.repeat(n.length - 5) + n.slice(-2);
}

export function hashNumber(n: string, key: string): string {
  return 'h:' + createHmac('sha256', key).update(n).digest('base64url').slice(0, 22);
}

export function maskFor(n: string, how: RecipientMasking, key: string): string {
  return how === 'full' ? n : how === 'hash' ? hashNumber(n, key) : maskNumber(n);
}

/** What a buffered record needs beyond itself: its log line's sources, or a caller waiting for the commit. */
interface Extra {
  at: number;
  d?: Decision;
  m?: Message;
  done?: (err?: Error) => void;
}

/** `new Date().toISOString()` once per millisecond: at 10,000+ decisions a second most share one. */
let isoMs = -1;
let isoText = '';
function nowIso(): string {
  const ms = Date.now();
  if (ms !== isoMs) {
    isoMs = ms;
    isoText = new Date(ms).toISOString();
  }
  return isoText;
}

export class DecisionLog {
  /** Records enqueued and not yet committed (backpressure; reads of a missing ID wait for them). */
  private pending = 0;
  /**
   * The batch being gathered. Most records need nothing else (an allowed decision's log line is
   * only built at debug level), so they are kept alone: fewer objects live through the flush
   * interval, which is what the garbage collector pays for at this rate.
   */
  private buffer: DecisionRecord[] = [];
  private extras: Extra[] = [];
  private timer: NodeJS.Timeout | null = null;
  private readonly inflight = new Set<Promise<void>>();
  /** How long records wait to share a commit, ms. */
  flushIntervalMs = 10;
  /**
   * Records not yet committed beyond which callers wait for the commit. The writer runs off the
   * request thread, so without this a stalled disk would let the backlog grow without bound;
   * with it, a gateway that cannot log as fast as it screens slows to the disk's pace instead.
   */
  maxBacklog = 50_000;
  /** How long a read of an ID not in the store waits for the writes in flight, ms. */
  readWaitMs = 1_000;

  constructor(
    private readonly store: DecisionStore,
    private readonly log: FastifyBaseLogger,
    private readonly masking: MaskingOptions,
    private readonly metrics: GatewayMetrics,
    /** The recipient as the store keeps it for the customer (number or keyed hash). */
    private readonly storeRecipient: (hashRecipients: boolean | undefined, to: string) => string,
  ) {}

  toRecord(d: Decision, m: Message, customer: CustomerRecord): DecisionRecord {
    const settings = customer.settings ?? {};
    const rec: DecisionRecord = {
      id: d.id,
      customer: customer.id,
      messageId: m.id,
      channel: m.channel,
      action: d.action,
      score: d.score,
      policyVersion: d.policyVersion,
      reasons: d.reasons,
      to: this.storeRecipient(settings.hashRecipients, m.to),
      from: m.from,
      body: settings.bodyRetentionDays === 0 ? null : m.body,
      at: nowIso(),
    };
    if (m.endUser !== undefined) rec.endUser = m.endUser;
    return rec;
  }

  /**
   * Logs the decision and queues its durable write. Returns null when nobody needs to wait; a
   * promise that settles at the commit (never rejecting: a failed write is logged and counted)
   * when the caller asked to wait (`durable`), or when the backlog is over maxBacklog, which the
   * caller awaits before answering: backpressure.
   */
  record(d: Decision, m: Message, customer: CustomerRecord, durable = false): Promise<void> | null {
    if (!durable && this.pending < this.maxBacklog) {
      this.enqueue(d, m, customer, undefined);
      return null;
    }
    if (!durable) this.metrics.decisionLogBackpressure.inc();
    return new Promise<void>((resolve) => this.enqueue(d, m, customer, () => resolve()));
  }

  private enqueue(d: Decision, m: Message, customer: CustomerRecord, done: Extra['done']): void {
    const rec = this.toRecord(d, m, customer);
    this.pending++;
    const logged = d.action !== 'allow' || this.debugEnabled();
    if (logged || done !== undefined) {
      const extra: Extra = { at: this.buffer.length };
      if (logged) {
        extra.d = d;
        extra.m = m;
      }
      if (done !== undefined) extra.done = done;
      this.extras.push(extra);
    }
    this.buffer.push(rec);
    this.timer ??= setTimeout(() => this.writeBuffered(), this.flushIntervalMs);
  }

  /**
   * Whether allowed decisions are logged too (WARDEN_LOG_LEVEL=debug): at ~10,000 messages/s a
   * line per allowed message costs a tenth of the gateway's throughput and buries the ones that
   * matter. pino answers isLevelEnabled; another logger gets every line and filters them itself.
   */
  private debugEnabled(): boolean {
    const pinoLike = this.log as FastifyBaseLogger & { isLevelEnabled?: (level: string) => boolean };
    return pinoLike.isLevelEnabled?.('debug') ?? true;
  }

  /**
   * The log line of a decision, masked. Built with its batch (writeBuffered), not per request:
   * the response leaves first, and an allowed decision's line is only built when debug is on.
   * A reason's `detail` is free text that may quote the message (a model's strongest words) or the
   * recipient ("recipient +1... has opted out"), so it is logged only where the masking logs bodies
   * and numbers in full anyway; otherwise the line names clause, rule and weight, and the detail is
   * one `GET /v1/decisions/{id}` away. (It was also 40% of a flagged line's length: serialising
   * and writing the line costs ~25% less without it.)
   */
  private logLine(rec: DecisionRecord, d: Decision, m: Message): object {
    const details = this.masking.bodies && this.masking.recipients === 'full';
    return {
      decision: {
        id: d.id,
        messageId: m.id,
        customer: rec.customer,
        endUser: m.endUser,
        channel: m.channel,
        action: d.action,
        score: d.score,
        policyVersion: d.policyVersion,
        reasons: d.reasons.map((r) =>
          details
            ? { clause: r.clause, rule: r.rule, weight: r.weight, detail: r.detail, shadow: r.shadow }
            : { clause: r.clause, rule: r.rule, weight: r.weight, shadow: r.shadow },
        ),
        to: maskFor(m.to, this.masking.recipients, this.masking.hashKey),
        from: maskFor(m.from, this.masking.recipients, this.masking.hashKey),
        body: this.masking.bodies ? m.body : `[${m.body.length} chars]`,
        at: rec.at,
      },
    };
  }

  /** Hands every buffered record to the store as one batch (one commit). */
  private writeBuffered(): void {
    this.timer = null;
    const batch = this.buffer;
    const extras = this.extras;
    this.buffer = [];
    this.extras = [];
    if (batch.length === 0) return;
    // Every decision is in the store; the log stream carries the flagged ones at info and, at
    // debug level, the allowed ones (see debugEnabled).
    for (const x of extras) {
      if (x.d === undefined || x.m === undefined) continue;
      const rec = batch[x.at];
      if (rec.action !== 'allow') this.log.info(this.logLine(rec, x.d, x.m), 'decision');
      else this.log.debug(this.logLine(rec, x.d, x.m), 'decision');
    }
    // Only the IDs and the callers waiting wait for the commit (for the error log): the records
    // and the decisions logged above can die young.
    const ids = batch.map((r) => r.id);
    const waiting = extras.filter((x) => x.done !== undefined);
    const settle = (errors: Array<Error | null>) => {
      this.pending -= ids.length;
      for (let i = 0; i < ids.length; i++) {
        const err = errors[i] ?? null;
        if (err !== null) {
          this.metrics.decisionLogErrors.inc();
          this.log.error({ err, decisionId: ids[i] }, 'decision log write failed');
        }
      }
      for (const x of waiting) x.done!(errors[x.at] ?? undefined);
    };
    // The handlers name `ids`, never `batch` or `extras`: a closure over them would keep every
    // record (body, reasons) alive until the commit, and through a slow commit into the old generation.
    const write = this.store.recordMany(batch).then(settle, (err: unknown) => {
      const e = err instanceof Error ? err : new Error(String(err));
      settle(ids.map(() => e));
    });
    this.inflight.add(write);
    void write.finally(() => this.inflight.delete(write));
  }

  async get(customer: string, id: string): Promise<DecisionRecord | null> {
    const found = await this.store.get(customer, id);
    if (found !== null || this.pending === 0) return found;
    // Perhaps not committed yet: a decision can be fetched the moment its response is sent, so the
    // read waits for the writes in flight (a stalled disk answers "not found" after readWaitMs).
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.flush(),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, this.readWaitMs);
      }),
    ]);
    clearTimeout(timer);
    return this.store.get(customer, id);
  }

  /** Writes what is buffered now and waits for every write in flight (graceful shutdown, reads of lists). */
  async flush(): Promise<void> {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.writeBuffered();
    }
    await Promise.all([...this.inflight]);
  }
}
