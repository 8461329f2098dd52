// Records every decision twice: in the DecisionStore (recipient hashed when the customer asked for
// it, body dropped when the customer keeps none) and as one structured log line with recipient
// and body masked according to the gateway configuration. Writes are effects after the decision
// and nobody waits for them: records are gathered for a few milliseconds and committed together,
// so one durable commit covers hundreds of decisions instead of one commit stalling the event
// loop per request. Reads consult records still in flight, so a decision can be fetched the
// moment its response is sent. Decisions are the log of what happened, not state that gates a
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
  /** Key for keyed hashes of recipients (logs and, when a customer asks, the store). */
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

export class DecisionLog {
  private readonly pending = new Map<string, Promise<void>>();
  private readonly pendingRecords = new Map<string, DecisionRecord>();
  private buffer: Array<{ key: string; rec: DecisionRecord; done: (err?: unknown) => void }> = [];
  private timer: NodeJS.Timeout | null = null;
  /** How long records wait to share a commit, ms. */
  flushIntervalMs = 10;

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
      at: new Date().toISOString(),
    };
    if (m.endUser !== undefined) rec.endUser = m.endUser;
    return rec;
  }

  /** Logs the decision and starts the durable write; the promise settles when it commits. */
  record(d: Decision, m: Message, customer: CustomerRecord): Promise<void> {
    const rec = this.toRecord(d, m, customer);
    this.log.info({
      decision: {
        id: d.id, messageId: m.id, customer: customer.id, endUser: m.endUser, channel: m.channel,
        action: d.action, score: d.score, policyVersion: d.policyVersion,
        reasons: d.reasons.map((r) => ({ clause: r.clause, rule: r.rule, weight: r.weight, detail: r.detail, shadow: r.shadow })),
        to: maskFor(m.to, this.masking.recipients, this.masking.hashKey),
        from: maskFor(m.from, this.masking.recipients, this.masking.hashKey),
        body: this.masking.bodies ? m.body : `[${m.body.length} chars]`,
      },
    }, 'decision');
    const key = `${customer.id}\u0000${d.id}`;
    this.pendingRecords.set(key, rec);
    const write = new Promise<void>((resolve, reject) => {
      this.buffer.push({ key, rec, done: (err) => (err === undefined ? resolve() : reject(err)) });
    });
    this.pending.set(key, write.catch(() => undefined));
    this.timer ??= setTimeout(() => this.writeBuffered(), this.flushIntervalMs);
    return write;
  }

  /** Submits every buffered record in one turn of the event loop, so they share one commit. */
  private writeBuffered(): void {
    this.timer = null;
    const batch = this.buffer;
    this.buffer = [];
    for (const { key, rec, done } of batch) {
      this.store.record(rec).then(() => done(), (err: unknown) => {
        this.metrics.decisionLogErrors.inc();
        this.log.error({ err, decisionId: rec.id }, 'decision log write failed');
        done(err);
      }).finally(() => {
        this.pending.delete(key);
        this.pendingRecords.delete(key);
      });
    }
  }

  async get(customer: string, id: string): Promise<DecisionRecord | null> {
    const key = `${customer}\u0000${id}`;
    const rec = this.pendingRecords.get(key);
    if (rec !== undefined) return rec;
    return this.store.get(customer, id);
  }

  /** Writes what is buffered now and waits for every write in flight (graceful shutdown). */
  async flush(): Promise<void> {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.writeBuffered();
    }
    await Promise.all([...this.pending.values()]);
  }
}
