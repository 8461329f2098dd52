// What the HTTP adapters share: dependencies handed in by `warden serve` (stores, the current
// policy, the in-memory state projection) and the per-app runtime built from them (credential
// cache, decision log, metrics, the one outbound client and the upstream client on it). Messages
// held for review live in the review queue of the durable store (stores.review), shared by every node.

import { createHmac, randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { FastifyBaseLogger } from 'fastify';
import type { CompiledPolicy } from '../core/compiled-policy.js';
import type { StateSnapshot } from '../core/screen.js';
import { screen } from '../core/screen.js';
import type { Decision, Message } from '../core/types.js';
import type { HeldItem, Stores } from '../store/types.js';
import { storedRecipient } from '../store/recipient-key.js';
import type { SecretBox } from '../store/secret-box.js';
import { Authenticator } from './credentials.js';
import { DecisionLog, type MaskingOptions } from './decision-log.js';
import { GatewayMetrics } from './metrics.js';
import { EgressClient, type EgressClientOptions } from './egress/egress-client.js';
import { EgressPolicy, type ListenAddress } from './egress/egress-policy.js';
import { RelaySigner } from './twilio/relay-signing.js';
import { JobScheduler } from './scheduler.js';
import { StatusCallbackOutbox } from './twilio/status-callback.js';
import { UpstreamClient } from './twilio/upstream.js';
import { TwimlProxy } from './twilio/twiml-proxy.js';
import { CachedContentTemplates } from './twilio/content-template.js';

export interface GatewayOptions {
  /** Bearer token for the admin API (`/v1/admin/*`, `/v1/review/*`); absent disables it. */
  adminToken?: string;
  /** Base URL at which providers and apps reach Warden (signature URLs, status callback rewriting). */
  publicUrl?: string;
  /** Mount the built-in sink upstream under /sink. */
  sink: boolean;
  /**
   * The password the sink requires (Basic, with the path's AccountSid as username); Warden holds
   * it as the upstream auth token of the customers the sink serves. Absent: random per process.
   */
  sinkToken?: string;
  /** Largest request body accepted, bytes (native batches). Twilio routes take at most 64 KiB. */
  bodyLimit: number;
  /**
   * Requests per client (credential or IP) per window; false disables. `shared`: counted in the
   * stores' `Counters` (Redis: across every node) instead of in this process's memory.
   */
  rateLimit: { max: number; timeWindowMs: number; shared?: boolean } | false;
  /** Sends per customer per window on the Twilio API, shared across nodes through Counters. */
  customerSendLimit: { limit: number; windowMs: number } | false;
  /** How decision log lines show numbers and bodies; the hash key defaults to the stores' recipient key. */
  masking: Omit<MaskingOptions, 'hashKey'> & { hashKey?: string };
  /** Origins allowed to call the console routes from a browser. */
  corsOrigins: string[];
  /** How long a verified credential stays cached. */
  credentialTtlMs: number;
  /** Wait for the decision store commit before answering /v1/screen. */
  awaitDecisionLog: boolean;
  /** Send /v1/screen replies together once per event-loop turn (see reply-coalescing.ts). */
  coalesceReplies: boolean;
  /** Collect Node process metrics (off in tests for speed). */
  defaultMetrics: boolean;
  /**
   * Waits before each new attempt at a status callback Warden sends (a held message released or
   * refused) that failed: unreachable, 5xx or 429. Empty: one attempt only.
   */
  statusCallbackRetryMs: number[];
  /** How often each node looks in the store for status callbacks that fell due. */
  statusCallbackPollMs: number;
  /** How long a node holds a callback it is attempting (longer than an attempt can take). */
  statusCallbackLeaseMs: number;
  /**
   * CIDR ranges outbound requests may reach although the egress policy denies them by default
   * (loopback, private, link-local, unique-local...; docs/egress.md). Warden's own listening
   * socket stays denied, except the mounted sink under /sink.
   */
  egressAllow: string[];
  /** How often each node looks in the durable scheduler for jobs that fell due (scheduled messages). */
  schedulerPollMs: number;
  /** How long a node holds a job it runs (longer than a forward can take). */
  schedulerLeaseMs: number;
}

export const DEFAULT_OPTIONS: GatewayOptions = {
  sink: false,
  bodyLimit: 4 * 1024 * 1024,
  rateLimit: { max: 100_000, timeWindowMs: 60_000 },
  customerSendLimit: { limit: 100, windowMs: 1_000 },
  masking: { recipients: 'mask', bodies: false },
  corsOrigins: [],
  credentialTtlMs: 30_000,
  awaitDecisionLog: false,
  coalesceReplies: true,
  defaultMetrics: true,
  statusCallbackRetryMs: [2_000, 20_000, 120_000],
  statusCallbackPollMs: 1_000,
  statusCallbackLeaseMs: 30_000,
  egressAllow: [],
  schedulerPollMs: 1_000,
  schedulerLeaseMs: 60_000,
};

export interface GatewayDeps {
  /** `secrets`: the installation's SecretBox; without it relays are signed with the upstream token. */
  stores: Stores & { recipientSecret?: string; secrets?: SecretBox };
  /** The policy in force (the last good pack). */
  policy: () => CompiledPolicy;
  /** The in-memory state the core consults (StateProjection.snapshot()). */
  state: () => StateSnapshot;
  /** Readiness beyond "the app is built" (stores open, projection caught up). */
  ready?: () => boolean;
  /** In a cluster worker: every worker's metrics merged (null when they cannot be had in time). */
  clusterMetrics?: () => Promise<{ text: string; workers: number } | null>;
  options?: Partial<GatewayOptions>;
}

/** A message or call held for review, as the review queue keeps it. */
export type HeldMessage = HeldItem;

/** The gateway's options: the defaults, overridden by what `warden serve` or a test gave. */
export function resolveOptions(given: Partial<GatewayOptions> | undefined): GatewayOptions {
  return { ...DEFAULT_OPTIONS, ...given, masking: { ...DEFAULT_OPTIONS.masking, ...given?.masking } };
}

/** What the gateway needs of the process it serves in: where it logs, the socket it listens on. */
export interface GatewayHost {
  log: FastifyBaseLogger;
  /** Read by the egress policy (Warden never calls itself); may not be listening yet. */
  server: Server;
}

/**
 * Built in dependency order in one step: metrics and the outbound clients first, then what
 * logs and sends through them (decision log, callback outbox, scheduler, signer). Nothing is
 * attached afterwards, so every part exists from the moment the gateway does.
 */
export class Gateway {
  readonly options: GatewayOptions;
  readonly metrics: GatewayMetrics;
  readonly auth: Authenticator;
  /** Every outbound request goes through this client and its egress policy. */
  readonly egress: EgressClient;
  /** The mounted sink's client (see the constructor); null without the sink. */
  readonly sinkEgress: EgressClient | null;
  readonly upstream: UpstreamClient;
  /**
   * Rewrites calls' Url so the provider fetches their TwiML through Warden (docs/calls.md); null
   * without a public URL, since the provider can reach Warden only there.
   */
  readonly twimlProxy: TwimlProxy | null;
  /** Content API templates (ContentSid), cached, fetched through the egress client. */
  readonly contentTemplates: CachedContentTemplates;
  readonly decisions: DecisionLog;
  /** Status callbacks for settled held items, owed durably (see status-callback.ts). */
  readonly callbacks: StatusCallbackOutbox;
  /** The secret each customer's relays are signed with (see relay-signing.ts). */
  readonly signer: RelaySigner;
  /** Jobs due at an instant (scheduled messages), run by one node each (see scheduler.ts). */
  readonly scheduler: JobScheduler;

  constructor(
    readonly deps: GatewayDeps,
    host: GatewayHost,
  ) {
    const options = resolveOptions(deps.options);
    const { stores } = deps;
    const log = host.log;
    this.options = options;
    this.metrics = new GatewayMetrics({ defaultMetrics: options.defaultMetrics });
    this.auth = new Authenticator(stores.tenancy, options.credentialTtlMs);
    const policy = new EgressPolicy({ allow: options.egressAllow, self: () => listening(host.server) });
    const observe: NonNullable<EgressClientOptions['observe']> = (e) => {
      this.metrics.egress.inc({ operation: e.operation, outcome: e.outcome });
      // Which address was refused and why is the operator's to see, never the app's.
      if (e.detail !== undefined)
        log.debug({ operation: e.operation, outcome: e.outcome, detail: e.detail }, 'outbound request without an answer');
    };
    this.egress = new EgressClient({ policy, ...(options.sink ? { ownPrefix: '/sink' } : {}), observe });
    this.upstream = new UpstreamClient(this.egress, this.metrics);
    // The mounted sink stands in for the provider, which calls Warden's provider webhooks: its own
    // client may reach this process under /twilio only (status callbacks), nothing else of it.
    // Its requests are counted as every other outbound request is (operation sink-callback).
    this.sinkEgress = options.sink ? new EgressClient({ policy, ownPrefix: '/twilio', connections: 16, observe }) : null;
    // The proxy's tokens must verify on every node: its key derives from the installation's
    // recipient key, which every node of an installation shares.
    const installationKey = stores.recipientSecret ?? randomBytes(32).toString('base64url');
    this.twimlProxy =
      options.publicUrl !== undefined
        ? new TwimlProxy({ key: createHmac('sha256', installationKey).update('warden twiml proxy').digest(), publicUrl: options.publicUrl })
        : null;
    this.contentTemplates = new CachedContentTemplates({
      fetch: async (url, headers) => {
        const res = await this.egress.request(url, {
          headers,
          operation: 'content-api',
          timeoutMs: 5_000,
          maxBytes: 256 * 1024,
          overflow: 'fail',
        });
        return { status: res.status, body: res.body.toString('utf8') };
      },
      onError: (err, customer, sid) =>
        log.warn({ err, customer, contentSid: sid }, 'content template unavailable; screening the variables'),
    });
    // Hashed numbers in log lines are keyed with the installation's recipient key (never a
    // constant anyone could use to hash every number and look lines up); without stores that
    // have one, with a key of this process.
    const masking = {
      ...options.masking,
      hashKey: options.masking.hashKey ?? stores.recipientSecret ?? randomBytes(32).toString('base64url'),
    };
    this.decisions = new DecisionLog(stores.decisions, log, masking, this.metrics, (h, to) => this.storedRecipient(h, to));
    this.callbacks = new StatusCallbackOutbox({ review: stores.review, upstream: this.upstream, metrics: this.metrics, log, options });
    this.scheduler = new JobScheduler(stores.scheduler, log, {
      pollMs: options.schedulerPollMs,
      leaseMs: options.schedulerLeaseMs,
      batch: 20,
    });
    this.signer = new RelaySigner(stores.tenancy, stores.secrets, (detail, msg) => log.warn(detail, msg), options.credentialTtlMs);
  }

  /** A customer or credential changed (here or on another node): drop what was cached from tenancy. */
  tenancyChanged(): void {
    this.auth.invalidate();
    this.signer.invalidate();
  }

  screen(message: Message): Decision {
    const started = performance.now();
    const decision = screen(message, { policy: this.deps.policy(), state: this.deps.state() });
    this.metrics.screenDuration.observe((performance.now() - started) / 1000);
    return decision;
  }

  /** How a recipient is stored for this customer: the number, or its keyed hash. */
  storedRecipient(hashRecipients: boolean | undefined, to: string): string {
    const secret = this.deps.stores.recipientSecret;
    return secret !== undefined ? storedRecipient(secret, hashRecipients, to) : to;
  }
}

function listening(server: Server): ListenAddress | null {
  const a = server.address();
  return a !== null && typeof a === 'object' ? { address: a.address, port: a.port } : null;
}
