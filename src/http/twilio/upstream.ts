// Forwards requests to a customer's upstream (Twilio's API or the built-in sink) and posts forms
// to webhook URLs (status callbacks, relayed provider events), with the customer's upstream
// credentials, and hands back the upstream's status, content type and body unchanged. Every
// request goes through the gateway's one EgressClient (src/http/egress/), so an upstream base URL
// is held to the egress policy like any callback URL.

import { EgressError, type EgressClient, type EgressOutcome } from '../egress/egress-client.js';
import type { CustomerRecord } from '../../store/types.js';
import type { GatewayMetrics } from '../metrics.js';

export interface UpstreamResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/** No HTTP answer. The message is fixed (no address, no system error text): apps and admin replies may show it. */
export class UpstreamError extends Error {
  constructor(
    readonly outcome: EgressOutcome,
    what: 'upstream' | 'webhook',
  ) {
    super(`${what} ${outcome}`);
    this.name = 'UpstreamError';
  }
}

/** Response headers worth relaying; hop-by-hop and length headers are recomputed by Fastify. */
const RELAYED = ['content-type', 'twilio-request-id', 'twilio-request-duration', 'retry-after', 'location', 'etag', 'last-modified'];

/** Largest upstream answer relayed (a page of a list); a larger one is refused rather than cut. */
const UPSTREAM_MAX_BYTES = 16 * 1024 * 1024;

export class UpstreamClient {
  constructor(
    private readonly egress: EgressClient,
    private readonly metrics: GatewayMetrics,
    private readonly timeoutMs = 10_000,
  ) {}

  /** Account SID to use upstream: the configured one, else the SID the app used. */
  static accountSid(customer: CustomerRecord): string {
    return customer.upstream.accountSid ?? customer.accountSid;
  }

  async send(opts: {
    customer: CustomerRecord;
    operation: string;
    method: string;
    /** Path and query, starting with `/2010-04-01/...`, already rewritten to the upstream account. */
    path: string;
    contentType?: string;
    body?: Buffer | string;
    accept?: string;
  }): Promise<UpstreamResponse> {
    const { customer } = opts;
    const base = customer.upstream.baseUrl.replace(/\/+$/, '');
    const headers: Record<string, string> = { 'user-agent': 'warden-gateway' };
    const user = UpstreamClient.accountSid(customer);
    const token = customer.upstream.authToken;
    if (token !== undefined && token !== null) headers.authorization = 'Basic ' + Buffer.from(`${user}:${token}`).toString('base64');
    if (opts.contentType !== undefined) headers['content-type'] = opts.contentType;
    if (opts.accept !== undefined) headers.accept = opts.accept;
    const started = performance.now();
    try {
      const res = await this.egress.request(base + opts.path, {
        method: opts.method,
        headers,
        body: opts.body ?? null,
        timeoutMs: this.timeoutMs,
        maxBytes: UPSTREAM_MAX_BYTES,
        overflow: 'fail',
        operation: opts.operation,
      });
      this.metrics.upstreamDuration.observe({ operation: opts.operation }, (performance.now() - started) / 1000);
      if (res.status >= 500) this.metrics.upstreamErrors.inc({ operation: opts.operation, kind: 'http-5xx' });
      const out: Record<string, string> = {};
      for (const h of RELAYED) {
        const v = res.headers[h];
        if (typeof v === 'string') out[h] = v;
      }
      return { status: res.status, headers: out, body: res.body };
    } catch (e) {
      if (!(e instanceof EgressError)) throw e;
      this.metrics.upstreamErrors.inc({ operation: opts.operation, kind: e.outcome });
      throw new UpstreamError(e.outcome, 'upstream');
    }
  }

  /** Posts a form to a webhook URL (status callbacks, customer webhooks); resolves with status and body. */
  async postForm(url: string, form: string, headers: Record<string, string>, operation: string): Promise<{ status: number; body: string }> {
    try {
      const res = await this.egress.request(url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': 'warden-gateway', ...headers },
        body: form,
        timeoutMs: 5_000,
        maxBytes: 64 * 1024,
        overflow: 'truncate',
        operation,
      });
      return { status: res.status, body: res.body.toString('utf8') };
    } catch (e) {
      if (!(e instanceof EgressError)) throw e;
      this.metrics.upstreamErrors.inc({ operation, kind: e.outcome });
      throw new UpstreamError(e.outcome, 'webhook');
    }
  }

  async close(): Promise<void> {
    await this.egress.close();
  }
}

/** Serialises form fields (repeated names for arrays) as application/x-www-form-urlencoded. */
export function encodeForm(fields: Record<string, string | string[] | undefined>): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(fields)) {
    if (v === undefined) continue;
    for (const x of Array.isArray(v) ? v : [v]) p.append(k, x);
  }
  return p.toString();
}
