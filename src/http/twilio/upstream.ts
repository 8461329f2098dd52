// Forwards requests to a customer's upstream (Twilio's API or the built-in sink) over pooled
// keep-alive connections, with the customer's upstream credentials, and hands back the upstream's
// status, content type and body unchanged.

import { Agent, request } from 'undici';
import type { CustomerRecord } from '../../store/types.js';
import type { GatewayMetrics } from '../metrics.js';

export interface UpstreamResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

export class UpstreamError extends Error {}

/** Response headers worth relaying; hop-by-hop and length headers are recomputed by Fastify. */
const RELAYED = ['content-type', 'twilio-request-id', 'twilio-request-duration', 'retry-after', 'location', 'etag', 'last-modified'];

export class UpstreamClient {
  private readonly agent: Agent;

  constructor(private readonly metrics: GatewayMetrics, private readonly timeoutMs = 10_000) {
    this.agent = new Agent({ keepAliveTimeout: 30_000, connections: 128, pipelining: 1 });
  }

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
      const res = await request(base + opts.path, {
        method: opts.method as 'GET',
        headers,
        body: opts.body ?? null,
        dispatcher: this.agent,
        headersTimeout: this.timeoutMs,
        bodyTimeout: this.timeoutMs,
      });
      const body = Buffer.from(await res.body.arrayBuffer());
      this.metrics.upstreamDuration.observe({ operation: opts.operation }, (performance.now() - started) / 1000);
      if (res.statusCode >= 500) this.metrics.upstreamErrors.inc({ operation: opts.operation, kind: 'status-5xx' });
      const out: Record<string, string> = {};
      for (const h of RELAYED) {
        const v = res.headers[h];
        if (typeof v === 'string') out[h] = v;
      }
      return { status: res.statusCode, headers: out, body };
    } catch (e) {
      this.metrics.upstreamErrors.inc({ operation: opts.operation, kind: (e as { code?: string }).code ?? 'network' });
      throw new UpstreamError(`upstream ${base} unreachable: ${(e as Error).message}`);
    }
  }

  /** Posts a form to a webhook URL (status callbacks, customer webhooks); resolves with status and body. */
  async postForm(url: string, form: string, headers: Record<string, string>, operation: string): Promise<{ status: number; body: string }> {
    try {
      const res = await request(url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': 'warden-gateway', ...headers },
        body: form,
        dispatcher: this.agent,
        headersTimeout: 5_000,
        bodyTimeout: 5_000,
      });
      const text = await res.body.text();
      return { status: res.statusCode, body: text.slice(0, 64 * 1024) };
    } catch (e) {
      this.metrics.upstreamErrors.inc({ operation, kind: (e as { code?: string }).code ?? 'network' });
      throw new UpstreamError(`webhook ${url} unreachable: ${(e as Error).message}`);
    }
  }

  async close(): Promise<void> {
    await this.agent.close();
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
