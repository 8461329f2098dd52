// Status callbacks Warden sends itself: a message it held for review was released or refused.
// The app learns that outcome only this way or by fetching the message, so the callback is owed
// durably: its signed request is committed with the settlement (ReviewStore.released / refuse),
// the settling node makes the first attempt at once, and an attempt that fails for a reason that
// may pass (unreachable, timeout, 5xx, 429) is scheduled again (GatewayOptions.statusCallbackRetryMs).
// Every node polls the store for callbacks that fell due, so one owed by a node that stopped or
// crashed is still sent. An answer the app chose (2xx-4xx other than 429) ends it.
//
// Delivery is at least once, like the provider's own callbacks: a node that dies after the app
// answered but before it recorded the answer leaves the callback to be sent again.
//
// The callback goes through the gateway's egress client (src/http/egress/): a URL aimed at
// Warden's own network is refused there. What an attempt records (lastError, shown by the admin
// review API) is a coarse outcome from a fixed set, the same word for a refusal by policy, a
// refused connection and a timeout, so the record cannot be read as a port scan.

import type { FastifyBaseLogger } from 'fastify';
import type { CallbackPost, CallbackState, DueCallback, ReviewStore } from '../../store/types.js';
import type { GatewayOptions } from '../gateway.js';
import type { GatewayMetrics } from '../metrics.js';
import { computeSignature } from './signature.js';
import type { FormFields } from './resources.js';
import { encodeForm, UpstreamError, type UpstreamClient } from './upstream.js';
import { outcomeOfStatus, publicOutcome } from '../egress/egress-client.js';
import { LeasedPoller } from '../leased-poller.js';

/** Callbacks one poll takes at most (the rest wait for the next poll). */
const TAKE = 20;

/** What the outbox uses: the review queue that owes callbacks, the client that sends them, and its settings. */
export interface OutboxDeps {
  review: Pick<ReviewStore, 'takeDueCallbacks' | 'callbackAttempted'>;
  upstream: Pick<UpstreamClient, 'postForm'>;
  metrics: Pick<GatewayMetrics, 'statusCallbacks'>;
  log: FastifyBaseLogger;
  options: Pick<GatewayOptions, 'statusCallbackRetryMs' | 'statusCallbackPollMs' | 'statusCallbackLeaseMs'>;
}

export class StatusCallbackOutbox {
  private readonly log: FastifyBaseLogger;
  private readonly poller: LeasedPoller<DueCallback>;

  constructor(private readonly deps: OutboxDeps) {
    this.log = deps.log;
    this.poller = new LeasedPoller({
      pollMs: deps.options.statusCallbackPollMs,
      take: (now) =>
        deps.review.takeDueCallbacks(new Date(now).toISOString(), new Date(now + deps.options.statusCallbackLeaseMs).toISOString(), TAKE),
      run: (cb) => this.attempt(cb),
      log: deps.log,
      name: 'status callback',
    });
  }

  /**
   * The signed request to commit with a settlement; the settling node holds it for its first
   * attempt. `signingSecret`: the customer's (RelaySigner.secretFor), so the app validates the
   * callback with its own auth token as it would Twilio's.
   */
  prepare(url: string, fields: FormFields, signingSecret: string | undefined): CallbackPost {
    const post: CallbackPost = {
      body: encodeForm(fields),
      leaseUntil: new Date(Date.now() + this.deps.options.statusCallbackLeaseMs).toISOString(),
    };
    if (signingSecret) post.signature = computeSignature(signingSecret, url, fields);
    return post;
  }

  /** The first attempt, right after the settlement committed; resolves once it has been recorded. */
  async deliver(sid: string, customer: string, url: string, post: CallbackPost): Promise<void> {
    const cb: DueCallback = { sid, customer, url, body: post.body, attempts: 1 };
    if (post.signature !== undefined) cb.signature = post.signature;
    await this.poller.track(this.attempt(cb));
  }

  /** Polls the store for callbacks that fell due (this node's retries and any another node left). */
  start(): void {
    this.poller.start();
  }

  /** Stops polling and waits for attempts in flight to be recorded (each is bounded by the request timeouts). */
  async close(): Promise<void> {
    await this.poller.close();
  }

  /** One poll: takes what is due and attempts it; never two polls at once on a node. */
  poll(): Promise<void> {
    return this.poller.poll();
  }

  private async attempt(cb: DueCallback): Promise<void> {
    const headers: Record<string, string> = {};
    if (cb.signature !== undefined) headers['x-twilio-signature'] = cb.signature;
    let state: CallbackState;
    let lastError: string | undefined;
    try {
      const res = await this.deps.upstream.postForm(cb.url, cb.body, headers, 'status-callback');
      state = res.status < 400 ? 'delivered' : res.status === 429 || res.status >= 500 ? 'pending' : 'refused';
      if (state !== 'delivered') {
        lastError = outcomeOfStatus(res.status);
        this.log.warn({ sid: cb.sid, status: res.status, attempt: cb.attempts }, 'status callback to the app answered with an error');
      }
    } catch (e) {
      // Retried whatever the reason: a refusal by policy ending it at once would tell it apart.
      const outcome = e instanceof UpstreamError ? e.outcome : 'unreachable';
      state = 'pending';
      lastError = publicOutcome(outcome);
      this.log.warn({ outcome, sid: cb.sid, attempt: cb.attempts }, 'status callback to the app failed');
    }
    this.deps.metrics.statusCallbacks.inc({ outcome: state === 'pending' ? 'failed' : state });
    let nextAt: string | undefined;
    if (state === 'pending') {
      // The wait before attempt k + 1 is statusCallbackRetryMs[k - 1].
      const wait = this.deps.options.statusCallbackRetryMs[cb.attempts - 1];
      if (wait === undefined) {
        state = 'given_up';
        this.deps.metrics.statusCallbacks.inc({ outcome: 'given_up' });
        this.log.error({ sid: cb.sid, attempts: cb.attempts }, 'status callback to the app given up');
      } else {
        nextAt = new Date(Date.now() + wait).toISOString();
      }
    }
    try {
      await this.deps.review.callbackAttempted(cb.sid, {
        state,
        ...(nextAt !== undefined ? { nextAt } : {}),
        ...(lastError !== undefined ? { lastError } : {}),
      });
    } catch (e) {
      // The lease runs out and the callback falls due again: sent twice rather than never.
      this.log.error({ err: e, sid: cb.sid }, 'could not record a status callback attempt');
    }
  }
}
