// In-memory projections of the event stores: who is opted out and who is suspended. Built from
// since(0) at start, then kept current three ways: events committed on this node are applied
// before their write is acknowledged (read-your-writes), the change channel tells every node
// that new events exist (within milliseconds), and a poll catches up even if a notification is
// lost. The core reads the snapshot synchronously: no database round trip per message.
//
// Failure mode: fail closed. Until the first build completes, or when the node has not managed to
// read the stores for maxStalenessMs, every sender reads as suspended.

import type { StateSnapshot } from '../core/screen.js';
import type { ChangeTopic, ConsentEvent, ConsentStore, EnforcementEvent, EnforcementStore, ChangeChannel } from '../store/types.js';
import { hashRecipient, isHashedRecipient } from '../store/recipient-key.js';
import { OptOutTable } from './opt-out-table.js';
import { canonicalAddress } from '../core/phone-number.js';

/**
 * The key of a consent event's recipient in the opt-out table: its canonical form, which is how
 * sends are looked up. Events are recorded canonical; an older one written with formatting
 * ("+1-415-555-0100") still applies to the number. E.164 and keyed hashes are taken as they are.
 */
function tableKey(recipient: string): string {
  if (isHashedRecipient(recipient) || /^\+[1-9]\d{6,14}$/.test(recipient)) return recipient;
  return canonicalAddress(recipient) ?? recipient;
}

export interface ProjectionSource {
  consent: ConsentStore;
  enforcement: EnforcementStore;
  changes: ChangeChannel;
  recipientSecret?: string;
  /** Events committed by this node, delivered before the write is acknowledged. */
  onCommitted?(handler: (topic: ChangeTopic, event: ConsentEvent | EnforcementEvent) => void): void;
}

export interface ProjectionOptions {
  /** Catch-up poll even without notifications (ms); 0 disables. Default 1000. */
  pollIntervalMs?: number;
  /** Fail closed when the stores could not be read for this long (ms). Default max(10 000, 5 polls). */
  maxStalenessMs?: number;
  /** Events read per page while catching up. */
  pageSize?: number;
  log?: (msg: string) => void;
}

interface Suspension {
  seq: number;
  suspended: boolean;
  detail: string;
}

class Tables {
  optOuts = new OptOutTable(1 << 14);
  hashedCustomers = new Set<string>();
  /** customer -> customer-wide suspension state; `customer\0endUser` -> end-user state. */
  suspensions = new Map<string, Suspension>();
  consentSeq = 0;
  enforcementSeq = 0;
}

export class StateProjection {
  readonly ready: Promise<void>;
  private t = new Tables();
  private lastSyncOk = 0;
  private loaded = false;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | null = null;
  private again = false;
  private rebuildRequested = false;
  private closed = false;
  private readonly poll: number;
  private readonly maxStaleness: number;
  private readonly pageSize: number;
  private readonly log: (msg: string) => void;
  private readonly secret: string | undefined;

  constructor(
    private readonly src: ProjectionSource,
    opts: ProjectionOptions = {},
  ) {
    this.poll = opts.pollIntervalMs ?? 1000;
    this.maxStaleness = opts.maxStalenessMs ?? Math.max(10_000, 5 * this.poll);
    this.pageSize = opts.pageSize ?? 10_000;
    this.log = opts.log ?? ((m) => process.stderr.write(`warden state: ${m}\n`));
    this.secret = src.recipientSecret;
    src.onCommitted?.((topic, ev) => {
      if (topic === 'consent') this.applyConsent(this.t, ev as ConsentEvent);
      else if (topic === 'enforcement') this.applyEnforcement(this.t, ev as EnforcementEvent);
    });
    src.changes.subscribe((topic, seq) => {
      if (topic !== 'consent' && topic !== 'enforcement') return;
      if (seq <= 0) this.rebuildRequested = true;
      else if (topic === 'consent' ? seq <= this.t.consentSeq : seq <= this.t.enforcementSeq) return;
      void this.refresh();
    });
    this.ready = this.refresh().then(() => {
      this.loaded = true;
      if (this.poll > 0 && !this.closed) {
        this.timer = setInterval(() => void this.refresh(), this.poll);
        this.timer.unref();
      }
    });
  }

  /** Opt-out records held in memory and what they cost. */
  stats(): {
    optOutKeys: number;
    optedOut: number;
    tableBytes: number;
    suspensions: number;
    consentSeq: number;
    enforcementSeq: number;
    stale: boolean;
  } {
    return {
      optOutKeys: this.t.optOuts.size,
      optedOut: this.t.optOuts.optedOut,
      tableBytes: this.t.optOuts.bytes,
      suspensions: this.t.suspensions.size,
      consentSeq: this.t.consentSeq,
      enforcementSeq: this.t.enforcementSeq,
      stale: this.stale(),
    };
  }

  /** True while the node cannot vouch for its state (not yet loaded, or stores unreadable). */
  stale(now = Date.now()): boolean {
    if (!this.loaded) return true;
    // Without polling there is no heartbeat to measure staleness by (single node, in-process channel).
    return this.poll > 0 && now - this.lastSyncOk > this.maxStaleness;
  }

  isOptedOut(customer: string, to: string): boolean {
    const t = this.t;
    if (t.optOuts.has(customer, to)) return true;
    if (this.secret !== undefined && t.hashedCustomers.has(customer) && !isHashedRecipient(to)) {
      return t.optOuts.has(customer, hashRecipient(this.secret, to));
    }
    return false;
  }

  suspensionOf(customer: string, endUser: string | undefined): { detail: string } | null {
    const whole = this.t.suspensions.get(customer);
    if (whole?.suspended) return { detail: whole.detail };
    if (endUser !== undefined) {
      const eu = this.t.suspensions.get(`${customer}\0${endUser}`);
      if (eu?.suspended) return { detail: eu.detail };
    }
    return null;
  }

  /** The synchronous view the screening core consults. Fails closed when stale. */
  snapshot(): StateSnapshot {
    return {
      suspension: (customer, endUser) => {
        if (this.stale()) return { detail: 'account state unavailable on this node (stores unreachable); failing closed' };
        return this.suspensionOf(customer, endUser);
      },
      optedOut: (customer, to) => this.stale() || this.isOptedOut(customer, to),
    };
  }

  /** Reads every event not yet seen. Concurrent calls coalesce into one more pass. */
  refresh(): Promise<void> {
    if (this.running !== null) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        try {
          if (this.rebuildRequested) {
            this.rebuildRequested = false;
            const fresh = new Tables();
            await this.catchUp(fresh);
            this.t = fresh;
          } else {
            await this.catchUp(this.t);
          }
          this.lastSyncOk = Date.now();
        } catch (e) {
          if (!this.loaded && !this.closed) {
            // The first build must succeed: retry until it does (the node fails closed meanwhile).
            this.log(`initial load failed, retrying: ${(e as Error).message}`);
            await new Promise((r) => setTimeout(r, 500));
            this.again = true;
          } else {
            this.log(`catch-up failed: ${(e as Error).message}`);
          }
        }
      } while (this.again && !this.closed);
    })().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async catchUp(t: Tables): Promise<void> {
    for (;;) {
      const page = await this.src.consent.since(t.consentSeq, this.pageSize);
      for (const e of page) this.applyConsent(t, e);
      if (page.length > 0) t.consentSeq = Math.max(t.consentSeq, page[page.length - 1].seq);
      if (page.length < this.pageSize) break;
    }
    for (;;) {
      const page = await this.src.enforcement.since(t.enforcementSeq, this.pageSize);
      for (const e of page) this.applyEnforcement(t, e);
      if (page.length > 0) t.enforcementSeq = Math.max(t.enforcementSeq, page[page.length - 1].seq);
      if (page.length < this.pageSize) break;
    }
  }

  /**
   * Consent is ordered by the events' own instants (`at`: when the keyword was sent, the API call
   * made), seq breaking ties within a second: a late or replayed older event never undoes a newer one.
   */
  private applyConsent(t: Tables, e: ConsentEvent): void {
    const at = Date.parse(e.at);
    t.optOuts.apply(e.customer, tableKey(e.recipient), e.kind === 'opt-out', e.seq, Number.isFinite(at) ? at / 1000 : 0);
    if (isHashedRecipient(e.recipient)) t.hashedCustomers.add(e.customer);
  }

  private applyEnforcement(t: Tables, e: EnforcementEvent): void {
    if (e.action !== 'suspend' && e.action !== 'reinstate') return;
    const key = e.endUser === undefined ? e.customer : `${e.customer}\0${e.endUser}`;
    const cur = t.suspensions.get(key);
    if (cur !== undefined && cur.seq > e.seq) return;
    const who = e.endUser === undefined ? `customer ${e.customer}` : `end user ${e.endUser} of ${e.customer}`;
    t.suspensions.set(key, {
      seq: e.seq,
      suspended: e.action === 'suspend',
      detail: `${who} suspended${e.clause !== undefined ? ` under ${e.clause}` : ''}: ${e.reason} (by ${e.actor} at ${e.at})`,
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    await this.running?.catch(() => undefined);
  }
}
