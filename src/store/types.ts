// One interface per concern of state. Durable stores (SQLite or PostgreSQL) keep append-only
// events and acknowledge a write only after commit; fast shared state (counters, change channel)
// lives in process or in Redis. Current state (who is opted out, who is suspended) is a projection
// of the events, held in memory by each node and kept current through the change channel.

import type { Decision } from '../core/types.js';

/** ISO-8601 instant, UTC. */
export type Instant = string;

// ---- Consent and opt-out -------------------------------------------------------------------

export type ConsentKind = 'opt-out' | 'opt-in';
export type ConsentSource = 'keyword' | 'api' | 'import' | 'admin' | 'webhook';

export interface ConsentEventInput {
  customer: string;
  /** E.164 recipient number (or its keyed hash when the customer asked for hashed storage). */
  recipient: string;
  kind: ConsentKind;
  source: ConsentSource;
  /** The keyword received ("STOP"), the form or API call that recorded consent, etc. */
  evidence?: string;
  at: Instant;
}

export interface ConsentEvent extends ConsentEventInput {
  /** Monotonic sequence number assigned by the store. */
  seq: number;
}

export interface ConsentStore {
  /** Appends durably; resolves only after commit. */
  append(event: ConsentEventInput): Promise<ConsentEvent>;
  /** Every event with seq > after, in seq order (projection rebuild and catch-up). */
  since(after: number, limit?: number): Promise<ConsentEvent[]>;
  /** Full history for one customer and recipient: the proof a compliance officer asks for. */
  history(customer: string, recipient: string): Promise<ConsentEvent[]>;
}

// ---- Enforcement ---------------------------------------------------------------------------

export type EnforcementAction = 'warn' | 'throttle' | 'suspend' | 'reinstate';

export interface EnforcementEventInput {
  customer: string;
  /** Absent: the action applies to the whole customer. */
  endUser?: string;
  action: EnforcementAction;
  clause?: string;
  reason: string;
  actor: string;
  at: Instant;
}

export interface EnforcementEvent extends EnforcementEventInput {
  seq: number;
}

export interface EnforcementStore {
  append(event: EnforcementEventInput): Promise<EnforcementEvent>;
  since(after: number, limit?: number): Promise<EnforcementEvent[]>;
  history(customer: string): Promise<EnforcementEvent[]>;
}

// ---- Audit log (tamper-evident: each entry hashes the previous one) ------------------------

export interface AuditEntryInput {
  actor: string;
  action: string;
  subject: string;
  detail?: Record<string, unknown>;
  at: Instant;
}

export interface AuditEntry extends AuditEntryInput {
  seq: number;
  prevHash: string;
  hash: string;
}

export interface AuditStore {
  append(entry: AuditEntryInput): Promise<AuditEntry>;
  list(after: number, limit: number): Promise<AuditEntry[]>;
  /** Recomputes the hash chain; returns the first broken seq, or null when intact. */
  verify(): Promise<number | null>;
}

// ---- Policy versions -----------------------------------------------------------------------

export interface PolicyVersionRecord {
  policyVersion: string;
  /** The pack as published (files by relative path), so any version can be rebuilt. */
  files: Record<string, string>;
  effectiveAt: Instant;
  publishedAt: Instant;
  publishedBy: string;
}

export interface PolicyStore {
  publish(record: PolicyVersionRecord): Promise<void>;
  list(): Promise<PolicyVersionRecord[]>;
}

// ---- Reports and cases ---------------------------------------------------------------------

export interface ReportEventInput {
  reportId: string;
  customer: string;
  kind: 'received' | 'triaged' | 'linked-to-case' | 'closed';
  detail: Record<string, unknown>;
  actor: string;
  at: Instant;
}

export interface ReportEvent extends ReportEventInput {
  seq: number;
}

export interface ReportStore {
  append(event: ReportEventInput): Promise<ReportEvent>;
  byReport(reportId: string): Promise<ReportEvent[]>;
  byCustomer(customer: string): Promise<ReportEvent[]>;
}

// ---- Tenancy: customers, credentials, senders, upstreams -----------------------------------

export interface CustomerRecord {
  id: string;
  name: string;
  /** Twilio-style account SID the customer's apps authenticate with. */
  accountSid: string;
  /** Where screened traffic is forwarded: Twilio's API base URL or the built-in sink. */
  upstream: { baseUrl: string; accountSid?: string; authToken?: string };
  /** Numbers and sender IDs the customer owns (E.164 or alphanumeric). */
  senders: string[];
  /** Customer webhook that receives inbound messages and status callbacks. */
  webhookUrl?: string;
  settings: CustomerSettings;
  createdAt: Instant;
}

export interface CustomerSettings {
  /** Days message bodies are kept; decisions are kept without bodies after that. */
  bodyRetentionDays?: number;
  decisionRetentionDays?: number;
  /** Store recipient numbers as keyed hashes. */
  hashRecipients?: boolean;
  /** Auto-reply text for HELP and STOP keywords. */
  helpReply?: string;
  stopReply?: string;
  allowedCountries?: string[];
  /**
   * The secret webhook relays to the customer's app are signed with (X-Twilio-Signature), sealed
   * under the installation key (SecretBox). Absent: the customer's own auth token, which is what an
   * app written for Twilio validates with.
   */
  signingSecret?: string;
  /**
   * How a content refusal (30007) reaches the customer's apps on the Twilio API: `sync` (default) a
   * 400 to the create request; `async` Twilio's own shape: accepted, then failed with error_code
   * 30007 on fetch and in a status callback.
   */
  refusalMode?: 'sync' | 'async';
  /**
   * Rewrite the `Url` of calls to Warden's TwiML proxy, so the TwiML the provider fetches is
   * screened (docs/calls.md). Default on; needs the gateway's public URL.
   */
  twimlProxy?: boolean;
}

export interface CredentialRecord {
  /** Account SID (auth token credential) or API key SID (SK...). */
  id: string;
  customer: string;
  endUser?: string;
  /** scrypt hash of the secret: `scrypt$N$r$p$salt$hash` (base64). */
  secretHash: string;
  /**
   * Auth tokens only (never API-key secrets): the secret sealed under the installation key
   * (AES-256-GCM, SecretBox), so webhook relays can be signed with it. Absent on credentials
   * issued before Warden kept it.
   */
  secretSealed?: string;
  createdAt: Instant;
  revokedAt?: Instant;
}

export interface TenancyStore {
  upsertCustomer(c: CustomerRecord): Promise<void>;
  getCustomer(id: string): Promise<CustomerRecord | null>;
  customerByAccountSid(accountSid: string): Promise<CustomerRecord | null>;
  listCustomers(): Promise<CustomerRecord[]>;
  addCredential(c: CredentialRecord): Promise<void>;
  getCredential(id: string): Promise<CredentialRecord | null>;
  revokeCredential(id: string, at: Instant): Promise<void>;
}

// ---- Provider webhook events already processed ---------------------------------------------

/**
 * The ids of provider webhook events a customer has had processed (inbound: `inbound:MessageSid`;
 * status callbacks: `status:Sid:Status`), so a replay or a provider retry changes nothing. Kept
 * durably and shared by every node; old ids are purged after WEBHOOK_EVENT_RETENTION_DAYS.
 */
export interface WebhookEventStore {
  /** Records the id if absent, atomically across nodes; true when this call recorded it (first delivery). */
  claim(customer: string, eventId: string, at: Instant): Promise<boolean>;
  /** Forgets a claim whose processing failed, so the provider's retry of the event is processed. */
  release(customer: string, eventId: string): Promise<void>;
  /** Retention: deletes ids first seen before the instant; returns how many. */
  purge(olderThan: Instant): Promise<number>;
}

// ---- Decisions log -------------------------------------------------------------------------

export interface DecisionRecord {
  id: string;
  customer: string;
  endUser?: string;
  messageId: string;
  channel: string;
  action: string;
  score: number;
  policyVersion: string;
  /** Reasons as JSON (clause, rule, weight, detail, evidence). */
  reasons: unknown[];
  /** Recipient as stored under the customer's settings (masked or hashed). */
  to: string;
  from: string;
  /** Message body; null once purged by retention or when the customer keeps no bodies. */
  body: string | null;
  at: Instant;
}

export interface DecisionStore {
  record(d: DecisionRecord): Promise<void>;
  /** A batch in one commit where the backend can; one error (or null) per record, in order. */
  recordMany(ds: DecisionRecord[]): Promise<Array<Error | null>>;
  get(customer: string, id: string): Promise<DecisionRecord | null>;
  list(customer: string, limit: number, before?: Instant): Promise<DecisionRecord[]>;
  /** Retention: null out bodies older than the instant; delete records older than the other. */
  purgeBodies(customer: string, olderThan: Instant): Promise<number>;
  purgeDecisions(customer: string, olderThan: Instant): Promise<number>;
}

// ---- Review queue: messages and calls held for a person ------------------------------------

export type HeldKind = 'message' | 'call';
/**
 * held -> releasing -> released (forwarded upstream; the upstream's answer is recorded), or
 * held -> refused. `releasing` is the claim taken before forwarding: only one node or admin can take
 * it, so a held item is forwarded at most once. An item whose forward could not reach the upstream
 * goes back to held; one left in `releasing` by a node that died mid-forward stays there for a
 * person to check (it may or may not have reached the upstream).
 */
export type HeldState = 'held' | 'releasing' | 'released' | 'refused';
/** Form fields as received: a repeated field (MediaUrl) is an array. */
export type HeldFields = Record<string, string | string[] | undefined>;

export interface HeldItemInput {
  /** The SID Warden gave the app (SM…, MM…, CA…). */
  sid: string;
  kind: HeldKind;
  customer: string;
  endUser?: string;
  /** AccountSid from the path the app used. */
  accountSid: string;
  fields: HeldFields;
  /** The form body exactly as received: what is forwarded on release. */
  raw: string;
  /** The screening decision that held it (JSON). */
  decision: Decision;
  statusCallback?: string;
  heldAt: Instant;
}

/**
 * The status callback Warden owes the app once it settles a held item. It is committed with the
 * settlement, so neither a crash nor a restart loses it: pending -> delivered (the app answered
 * 2xx/3xx), refused (the app answered a 4xx other than 429: its choice, not retried) or given_up
 * (every scheduled attempt failed: unreachable, timeout, 5xx, 429).
 */
export type CallbackState = 'pending' | 'delivered' | 'refused' | 'given_up';

export interface HeldCallback {
  state: CallbackState;
  /** Attempts taken so far (the one in progress included). */
  attempts: number;
  /** Pending: when the next attempt is due, or until when the node making one holds it. */
  nextAt?: Instant;
  /** The last failed attempt's HTTP status or network error. */
  lastError?: string;
}

/** The signed request of a status callback, fixed at settlement so every attempt sends the same. */
export interface CallbackPost {
  /** Form-encoded body. */
  body: string;
  /** X-Twilio-Signature over the URL and body, when the customer has an auth token. */
  signature?: string;
  /** The settling node makes the first attempt and holds it until this instant (its lease). */
  leaseUntil: Instant;
}

/** A pending callback taken by one node for one attempt (`takeDueCallbacks`). */
export interface DueCallback {
  sid: string;
  customer: string;
  url: string;
  body: string;
  signature?: string;
  /** Attempts taken, this one included. */
  attempts: number;
}

export interface HeldItem extends HeldItemInput {
  state: HeldState;
  /** The status callback of a settled item that has a StatusCallback URL. */
  callback?: HeldCallback;
  /** Who took the release claim, and when (set from `releasing` on). */
  claimedAt?: Instant;
  claimedBy?: string;
  settledAt?: Instant;
  settledBy?: string;
  /** Released: the upstream's HTTP status and SID; released with a failure or refused: the error code. */
  upstreamStatus?: number;
  upstreamSid?: string;
  errorCode?: number;
}

export interface HeldQuery {
  /** Only this customer's items (what a tenant may see). */
  customer?: string;
  /** Default: held and releasing (not yet settled). */
  states?: HeldState[];
  limit?: number;
}

export interface ReleaseOutcome {
  by: string;
  at: Instant;
  upstreamStatus: number;
  upstreamSid?: string;
  errorCode?: number;
  /** The status callback to post, committed with the settlement (the item has a StatusCallback). */
  callback?: CallbackPost;
}

export interface ReviewStore {
  /** Records a held item durably; resolves only after commit. A SID can be held once. */
  hold(item: HeldItemInput): Promise<HeldItem>;
  /** One item; with `customer`, null unless it is that customer's. */
  get(sid: string, customer?: string): Promise<HeldItem | null>;
  /** Oldest first. */
  list(query?: HeldQuery): Promise<HeldItem[]>;
  /** Atomically moves held -> releasing; null when the item is not held (absent, claimed or settled). */
  claim(sid: string, by: string, at: Instant): Promise<HeldItem | null>;
  /** releasing -> released with the upstream's answer; audited (review.release) in the same commit. */
  released(sid: string, outcome: ReleaseOutcome): Promise<HeldItem>;
  /** releasing -> held: the upstream could not be reached, nothing was forwarded. */
  unclaim(sid: string): Promise<void>;
  /**
   * Atomically moves held -> refused; audited (review.refuse) in the same commit, with the status
   * callback to post when one is given; null when not held.
   */
  refuse(sid: string, by: string, at: Instant, errorCode: number, callback?: CallbackPost): Promise<HeldItem | null>;
  /** Retention: deletes settled items (released or refused) settled before the instant, once no callback is pending. */
  purgeSettled(customer: string, olderThan: Instant): Promise<number>;
  /**
   * Takes up to `limit` pending callbacks due at `now` for one attempt each: counts the attempt and
   * holds each until `leaseUntil`, so no other node takes it meanwhile (a node that dies mid-attempt
   * lets it fall due again). Oldest due first.
   */
  takeDueCallbacks(now: Instant, leaseUntil: Instant, limit: number): Promise<DueCallback[]>;
  /**
   * Records how an attempt ended: delivered, refused or given_up end the callback; pending with
   * `nextAt` schedules the next attempt.
   */
  callbackAttempted(sid: string, outcome: { state: CallbackState; nextAt?: Instant; lastError?: string }): Promise<void>;
  /**
   * Sends an ended callback again (an operator's call after the app's endpoint was down longer than
   * the retry schedule, or after it refused one): given_up or refused -> pending, due at `at`, its
   * attempts counted afresh; audited (review.callback-requeue) in the same commit. Null when the
   * item has no ended callback.
   */
  requeueCallback(sid: string, by: string, at: Instant): Promise<HeldItem | null>;
}

// ---- Message map: the one SID the app sees for each message Warden sent or keeps ------------

/**
 * Where a message's SID comes from. A forwarded message keeps the upstream's SID (the app is
 * given the upstream's answer unchanged); a message Warden answered itself (held for review,
 * scheduled, refused after acceptance) keeps Warden's SID for life, mapped to the upstream's once
 * it is forwarded.
 */
export type MessageOrigin = 'forwarded' | 'held' | 'scheduled' | 'refused';

export interface MappedMessageInput {
  /** Warden's SID: what the decision names, and the app's SID unless the origin is `forwarded`. */
  sid: string;
  customer: string;
  /** AccountSid from the path the app used. */
  accountSid: string;
  kind: HeldKind;
  origin: MessageOrigin;
  /** Set once the upstream answered the forward. */
  upstreamSid?: string;
  /** The app's own StatusCallback; Warden gives the upstream its own URL and relays here. */
  statusCallback?: string;
  /** Fixed at acceptance: the resource's date_created, on every fetch. */
  createdAt: Instant;
  /** The status Warden last knew: accepted, scheduled, canceled, sending, queued, failed... */
  status: string;
  errorCode?: number;
  /** When a scheduled message is due. */
  sendAt?: Instant;
  /** The app's parameters, to answer fetch and list while Warden owns the message (empty for forwarded ones). */
  fields: HeldFields;
}

export interface MappedMessage extends MappedMessageInput {
  updatedAt: Instant;
}

export interface MessageMapStore {
  /** Records a message durably; resolves after commit. A SID is recorded once. */
  put(m: MappedMessageInput): Promise<MappedMessage>;
  /** One message by Warden's SID; with `customer`, null unless it is that customer's. */
  get(sid: string, customer?: string): Promise<MappedMessage | null>;
  /** The customer's messages whose upstream SID is one of these (a list page's rewrite). */
  byUpstream(customer: string, upstreamSids: string[]): Promise<MappedMessage[]>;
  /**
   * Atomically sets status (and upstream SID, error code) when the current status is one of
   * `from` (any status when `from` is null); null when it is not: the compare-and-set that makes a
   * scheduled send and its cancel exclusive, and a release happen once.
   */
  transition(
    sid: string,
    from: string[] | null,
    patch: { status: string; upstreamSid?: string; errorCode?: number; at: Instant },
  ): Promise<MappedMessage | null>;
  /** The messages Warden answers for itself (not forwarded, not yet mapped upstream) of one account, newest first. */
  owned(customer: string, accountSid: string, limit: number): Promise<MappedMessage[]>;
}

// ---- Durable scheduler: work due at an instant, taken by exactly one node at a time --------

/**
 * pending -> running (taken by a node, held until its lease ends) -> done; pending -> canceled.
 * A running job whose lease ran out (its node died) is taken again: consumers make the effect
 * idempotent or guarded (scheduled sends guard with MessageMapStore.transition).
 */
export type JobState = 'pending' | 'running' | 'done' | 'canceled';

export interface ScheduledJobInput {
  id: string;
  /** What the job is for (the consumer that runs it), e.g. `send-message`. */
  topic: string;
  customer: string;
  dueAt: Instant;
  /** The consumer's own data, as JSON text. */
  payload: string;
}

export interface ScheduledJob extends ScheduledJobInput {
  state: JobState;
  /** Times taken, this one included. */
  attempts: number;
  leaseUntil?: Instant;
}

export interface SchedulerStore {
  /** Records a job durably; resolves after commit. */
  schedule(job: ScheduledJobInput): Promise<void>;
  /** pending -> canceled; false when the job is not pending (absent, running, done). */
  cancel(id: string): Promise<boolean>;
  /** Takes up to `limit` jobs due at `now` (pending, or running with an expired lease), leased until `leaseUntil`. Oldest due first. */
  takeDue(now: Instant, leaseUntil: Instant, limit: number): Promise<ScheduledJob[]>;
  /** running -> done. */
  complete(id: string): Promise<void>;
  get(id: string): Promise<ScheduledJob | null>;
}

// ---- Fast shared state ---------------------------------------------------------------------

export interface RateLimitResult {
  allowed: boolean;
  remaining: number;
  /** Milliseconds until a token is available again, when refused. */
  retryAfterMs: number;
  /** Set when the shared counter store was unreachable and the check failed open (allowed). */
  failedOpen?: boolean;
  /** Set when the shared counter store was unreachable and the check failed closed (refused). */
  failedClosed?: boolean;
}

export interface Counters {
  /**
   * Takes `units` (default 1) from a fixed-window limit shared by every node; allowed while the
   * window's total, these units included, is within the limit. Several units at once let a
   * caller that counts locally report its count in batches (src/http/rate-limit-store.ts).
   */
  take(key: string, limit: number, windowMs: number, now: number, units?: number): Promise<RateLimitResult>;
  /** Pipelined form for several limits checked together before screening. */
  takeMany(requests: Array<{ key: string; limit: number; windowMs: number; units?: number }>, now: number): Promise<RateLimitResult[]>;
}

/** Recent-traffic sketches: approximate distinct counts over a window (HyperLogLog in Redis). */
export interface Sketches {
  /** Adds a member to the window's set (opened at first use) and returns the distinct count. */
  addDistinct(key: string, member: string, windowMs: number): Promise<number>;
}

export type ChangeTopic = 'consent' | 'enforcement' | 'tenancy' | 'policy';

export interface ChangeChannel {
  /** Tells every node (this one included) that events up to `seq` exist for the topic. */
  publish(topic: ChangeTopic, seq: number): Promise<void>;
  subscribe(handler: (topic: ChangeTopic, seq: number) => void): void;
  close(): Promise<void>;
}

/** Everything a node opens at start, chosen by configuration (SQLite + in-process by default). */
export interface Stores {
  kind: 'sqlite' | 'postgres';
  consent: ConsentStore;
  enforcement: EnforcementStore;
  audit: AuditStore;
  policies: PolicyStore;
  reports: ReportStore;
  tenancy: TenancyStore;
  decisions: DecisionStore;
  review: ReviewStore;
  webhookEvents: WebhookEventStore;
  messages: MessageMapStore;
  scheduler: SchedulerStore;
  counters: Counters;
  changes: ChangeChannel;
  close(): Promise<void>;
}

// ---- Data subject requests: export and erase (added by the storage layer) -------------------

/** Everything about one customer, or about one recipient (optionally within one customer). */
export interface DataSubject {
  customer?: string;
  /** E.164 number; its keyed-hash form is matched too. */
  recipient?: string;
}

export interface DataExport {
  subject: DataSubject;
  generatedAt: Instant;
  customer: CustomerRecord | null;
  /** Credentials without their secret hashes or sealed secrets. */
  credentials: Array<Omit<CredentialRecord, 'secretHash' | 'secretSealed'>>;
  consent: ConsentEvent[];
  enforcement: EnforcementEvent[];
  reports: ReportEvent[];
  decisions: DecisionRecord[];
  /** Held messages and calls (with their form bodies), settled or not. */
  held: HeldItem[];
}

export interface ErasureReport {
  subject: DataSubject;
  deleted: Record<string, number>;
  /** Opt-outs kept as keyed-hash suppression entries so the number is never messaged again. */
  suppressionsKept: number;
}

export interface DataStore {
  export(subject: DataSubject): Promise<DataExport>;
  erase(subject: DataSubject, actor: string): Promise<ErasureReport>;
}

/**
 * The durable part of the store set, as one SQL backend builds it (SqliteStores, PostgresStores):
 * every store of `Stores` that lives in the database, plus data requests. openStores() adds the
 * counters, sketches and change channel (in process or Redis) and the installation's keys.
 */
export interface DurableStores extends Omit<Stores, 'kind' | 'counters' | 'changes'> {
  data: DataStore;
  /** HMAC key for recipients stored hashed; set once by openStores() before first use. */
  recipientSecret: string;
  /** Meta values (e.g. the generated recipient key), created once by whichever process is first. */
  metaGetOrSet(key: string, make: () => string): string | Promise<string>;
}
