// The one HTTP client for every request Warden sends out: to a customer's upstream, status
// callbacks, webhook relays, and the sink's simulated callbacks. Each connection is checked by the
// egress policy (egress-policy.ts) on the address it is about to open: the host name is resolved
// here, every address it resolves to is checked, and the socket connects to a checked address
// (never resolved a second time, so a name cannot resolve to a public address for the check and a
// private one for the connection). Redirects are never followed: a 3xx is an answer like any other.
//
// What happened is one of a small fixed set of outcomes (EgressOutcome). An app sees only the
// coarse form (publicOutcome): a policy refusal, a refused connection, a DNS failure and a timeout
// all read `unreachable`, so a status callback URL cannot be used to map Warden's network.

import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { Agent, buildConnector, request } from 'undici';
import type { EgressPolicy } from './egress-policy.js';

export type EgressOutcome =
  'delivered' | 'http-3xx' | 'http-4xx' | 'http-5xx' | 'refused-by-policy' | 'unreachable' | 'timeout' | 'invalid-url';

export const EGRESS_OUTCOMES: readonly EgressOutcome[] = [
  'delivered',
  'http-3xx',
  'http-4xx',
  'http-5xx',
  'refused-by-policy',
  'unreachable',
  'timeout',
  'invalid-url',
];

/** The outcome of an answered request (1xx never reaches here: undici handles it). */
export function outcomeOfStatus(status: number): EgressOutcome {
  return status < 300 ? 'delivered' : status < 400 ? 'http-3xx' : status < 500 ? 'http-4xx' : 'http-5xx';
}

/** What an app may be told: whether the target refused by policy or by its network is not its business. */
export function publicOutcome(o: EgressOutcome): Exclude<EgressOutcome, 'refused-by-policy' | 'timeout'> {
  return o === 'refused-by-policy' || o === 'timeout' ? 'unreachable' : o;
}

/** A request that got no HTTP answer. `detail` is for operator logs at debug level only. */
export class EgressError extends Error {
  constructor(
    readonly outcome: 'refused-by-policy' | 'unreachable' | 'timeout' | 'invalid-url',
    readonly detail: string,
  ) {
    super(outcome);
    this.name = 'EgressError';
  }
}

/** Raised inside the connector; carries no address, so nothing about the target leaks upward. */
class PolicyRefusal extends Error {
  readonly code = 'EGRESS_REFUSED';
  constructor(readonly reason: string) {
    super('refused by the egress policy');
  }
}

export interface EgressResponse {
  status: number;
  outcome: EgressOutcome;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export interface EgressRequest {
  method?: string;
  headers?: Record<string, string>;
  body?: Buffer | string | null;
  /** Headers and body timeouts, ms. */
  timeoutMs?: number;
  /** Largest body read: `truncate` keeps the first bytes (webhook answers), `fail` refuses the answer (relayed resources). */
  maxBytes?: number;
  overflow?: 'truncate' | 'fail';
  /** Label for metrics. */
  operation: string;
}

export interface EgressClientOptions {
  policy: EgressPolicy;
  /**
   * A path prefix on this process's own listening socket that may be called (the demo sink
   * mounted at /sink): a request under it may connect to the own socket, nothing else there may.
   */
  ownPrefix?: string;
  connections?: number;
  connectTimeoutMs?: number;
  /** Resolves a host name to every address (default: dns.lookup with all: true, as the OS resolves). */
  lookup?: (hostname: string) => Promise<Array<{ address: string }>>;
  /** Called once per request with its outcome (metrics, debug logs). */
  observe?: (e: { operation: string; outcome: EgressOutcome; seconds: number; detail?: string }) => void;
}

/** A URL as logs may show it: no userinfo (Twilio allows https://user:pass@host/ in callback URLs), no query. */
export function loggableUrl(u: URL | string): string {
  try {
    const url = new URL(String(u));
    url.username = '';
    url.password = '';
    url.search = '';
    return url.toString();
  } catch {
    return '<invalid url>';
  }
}

/** Parses a URL Warden may call: absolute http(s) with a host; null otherwise. */
export function parseTargetUrl(text: string): URL | null {
  if (typeof text !== 'string' || text.length === 0 || text.length > 4096) return null;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return null;
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.hostname === '') return null;
  return url;
}

function isTimeout(e: unknown): boolean {
  const code = (e as { code?: string }).code;
  return (
    code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'ETIMEDOUT'
  );
}

function refusal(e: unknown): PolicyRefusal | null {
  for (let x: unknown = e, depth = 0; x !== null && x !== undefined && depth < 4; x = (x as { cause?: unknown }).cause, depth++) {
    if (x instanceof PolicyRefusal) return x;
  }
  return null;
}

export class EgressClient {
  private readonly agent: Agent;
  /** Used only for requests under ownPrefix: the one pool whose connections may reach this process. */
  private readonly ownAgent: Agent | null;
  private readonly ownPrefix: string | null;

  constructor(private readonly opts: EgressClientOptions) {
    const common = { keepAliveTimeout: 30_000, connections: opts.connections ?? 128, pipelining: 1 };
    this.agent = new Agent({ ...common, connect: this.connector(false) });
    this.ownPrefix = opts.ownPrefix !== undefined ? opts.ownPrefix.replace(/\/+$/, '') : null;
    this.ownAgent = this.ownPrefix !== null ? new Agent({ ...common, connections: 16, connect: this.connector(true) }) : null;
  }

  get policy(): EgressPolicy {
    return this.opts.policy;
  }

  /**
   * A connector that resolves the host, checks every address and connects to the first allowed
   * one by address (TLS still verifies the certificate for the host name). `own`: this process's
   * own socket is allowed too.
   */
  private connector(own: boolean): buildConnector.connector {
    const inner = buildConnector({ timeout: this.opts.connectTimeoutMs ?? 10_000 });
    const policy = this.opts.policy;
    const resolve = this.opts.lookup ?? ((host: string) => dnsLookup(host, { all: true, verbatim: true }));
    return (options, callback) => {
      const hostname = options.hostname.replace(/^\[(.*)\]$/, '$1');
      const port = Number(options.port) || (options.protocol === 'https:' ? 443 : 80);
      const allowed = (ip: string) => {
        if (own && policy.isSelf(ip, isIP(ip) === 4 ? 'ipv4' : 'ipv6', port)) return null;
        const v = policy.check(ip, port);
        return v.allowed ? null : v.reason;
      };
      const connectTo = (ip: string) => {
        const servername = isIP(hostname) === 0 ? hostname : undefined;
        inner({ ...options, hostname: ip, ...(options.protocol === 'https:' && servername !== undefined ? { servername } : {}) }, callback);
      };
      if (isIP(hostname) !== 0) {
        const reason = allowed(hostname);
        if (reason !== null) return callback(new PolicyRefusal(reason), null);
        return connectTo(hostname);
      }
      resolve(hostname).then(
        (addresses) => {
          let reason = 'no address';
          for (const a of addresses) {
            const r = allowed(a.address);
            if (r === null) return connectTo(a.address);
            reason = r;
          }
          callback(new PolicyRefusal(reason), null);
        },
        (e: unknown) => callback(e as Error, null),
      );
    };
  }

  /** Is this URL on the own-socket allowance (under ownPrefix, nothing encoded that could climb out)? */
  private underOwnPrefix(url: URL): boolean {
    if (this.ownPrefix === null) return false;
    const path = url.pathname;
    return path.startsWith(this.ownPrefix + '/') && !/%2f|%5c|%2e/i.test(path);
  }

  /** Sends one request; resolves with any HTTP answer, rejects with an EgressError when there is none. */
  async request(target: string, req: EgressRequest): Promise<EgressResponse> {
    const started = performance.now();
    const observe = (outcome: EgressOutcome, detail?: string) =>
      this.opts.observe?.({
        operation: req.operation,
        outcome,
        seconds: (performance.now() - started) / 1000,
        ...(detail !== undefined ? { detail } : {}),
      });
    const url = parseTargetUrl(target);
    if (url === null) {
      observe('invalid-url');
      throw new EgressError('invalid-url', 'not an absolute http(s) URL');
    }
    const timeout = req.timeoutMs ?? 10_000;
    const max = req.maxBytes ?? 64 * 1024;
    const headers = { ...req.headers };
    // Userinfo in a callback URL (Twilio allows it) is sent as HTTP Basic, as Twilio does, and
    // never travels further in the URL itself (logs show loggableUrl).
    if (url.username !== '' || url.password !== '') {
      if (headers.authorization === undefined)
        headers.authorization =
          'Basic ' + Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64');
      url.username = '';
      url.password = '';
    }
    try {
      const res = await request(url, {
        method: (req.method ?? 'GET') as 'GET',
        headers,
        body: req.body ?? null,
        dispatcher: this.ownAgent !== null && this.underOwnPrefix(url) ? this.ownAgent : this.agent,
        headersTimeout: timeout,
        bodyTimeout: timeout,
        maxRedirections: 0,
      });
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of res.body as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > max) {
          if (req.overflow === 'fail') {
            res.body.destroy();
            throw new EgressError('unreachable', `answer larger than ${max} bytes`);
          }
          chunks.push(chunk.subarray(0, chunk.length - (size - max)));
          res.body.destroy();
          break;
        }
        chunks.push(chunk);
      }
      const outcome = outcomeOfStatus(res.statusCode);
      observe(outcome);
      return { status: res.statusCode, outcome, headers: res.headers, body: Buffer.concat(chunks) };
    } catch (e) {
      if (e instanceof EgressError) {
        observe(e.outcome, e.detail);
        throw e;
      }
      const refused = refusal(e);
      const err =
        refused !== null
          ? new EgressError('refused-by-policy', `${refused.reason} ${loggableUrl(url)}`)
          : isTimeout(e)
            ? new EgressError('timeout', `${(e as Error).message} ${loggableUrl(url)}`)
            : new EgressError('unreachable', `${(e as { code?: string }).code ?? (e as Error).message} ${loggableUrl(url)}`);
      observe(err.outcome, err.detail);
      throw err;
    }
  }

  async close(): Promise<void> {
    await Promise.all([this.agent.close(), this.ownAgent?.close()]);
  }
}
