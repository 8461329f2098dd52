// Test fixtures: a gateway on the real SQLite stores in a fresh directory, with the demo tenant
// and a second tenant for isolation checks.

import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_CONFIG } from '../../src/config.js';
import { startGateway, DEMO, type RunningGateway } from '../../src/serve.js';
import { createCustomer, issueCredential } from '../../src/http/admin/tenancy.js';
import type { GatewayOptions } from '../../src/http/gateway.js';

export { DEMO };
export const ADMIN = 'test-admin-token';

export interface Fixture {
  gw: RunningGateway;
  /** Second tenant: its credentials must never reach the demo tenant's data. */
  other: { id: string; accountSid: string; secret: string };
  basic(user: string, pass: string): string;
  demoAuth: string;
  otherAuth: string;
  /** The running gateway's sink token: the upstream auth token of both tenants (and their webhook key). */
  sinkToken: string;
}

/** The sink token of a gateway started with the demo sink. */
export function sinkTokenOf(gw: RunningGateway): string {
  if (gw.sinkToken === null) throw new Error('the gateway runs no sink');
  return gw.sinkToken;
}

export async function startFixture(options: Partial<GatewayOptions> = {}): Promise<Fixture> {
  const dataDir = join(mkdtempSync(join(tmpdir(), 'warden-http-')), 'data');
  const gw = await startGateway({
    config: { ...DEFAULT_CONFIG, dataDir, port: 0, pollIntervalMs: 200, adminToken: ADMIN },
    port: 0,
    demo: true,
    logger: false,
    gateway: { defaultMetrics: false, ...options },
  });
  const sinkToken = sinkTokenOf(gw);
  const c = await createCustomer(gw.stores, {
    id: 'other',
    upstream: { baseUrl: `${gw.url}/sink`, authToken: sinkToken },
    senders: ['+15005550009'],
  });
  const cred = await issueCredential(gw.stores, 'other', { kind: 'auth-token' });
  const basic = (u: string, p: string) => 'Basic ' + Buffer.from(`${u}:${p}`).toString('base64');
  return {
    gw,
    other: { id: 'other', accountSid: c.accountSid, secret: cred.secret },
    basic,
    demoAuth: basic(DEMO.accountSid, DEMO.authToken),
    otherAuth: basic(c.accountSid, cred.secret),
    sinkToken,
  };
}

export const form = (o: Record<string, string | string[]>): string => {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(o)) for (const x of Array.isArray(v) ? v : [v]) p.append(k, x);
  return p.toString();
};

export const BLOCKED_BODY = 'URGENT your bank account is locked, verify at http://bit.ly/x now';

/**
 * The egress allowance a test with a loopback receiver passes to the gateway (GatewayOptions.
 * egressAllow): by default Warden refuses to call loopback (docs/egress.md).
 */
export const ALLOW_LOOPBACK = ['127.0.0.0/8'];

/** An app's StatusCallback endpoint: records every callback with its X-Twilio-Signature. */
export interface CallbackReceiver {
  url: string;
  callbacks: Array<{ body: string; signature: string | undefined }>;
  close(): Promise<void>;
}

/** `statusFor(n)`: the HTTP status of the answer to the n-th callback (1-based); 200 by default. */
export async function startCallbackReceiver(statusFor: (n: number) => number = () => 200): Promise<CallbackReceiver> {
  const callbacks: CallbackReceiver['callbacks'] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      callbacks.push({ body, signature: req.headers['x-twilio-signature'] as string | undefined });
      res.statusCode = statusFor(callbacks.length);
      res.end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const addr = server.address();
  return {
    url: `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/status`,
    callbacks,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** One request an app received from Warden, and whether the app's `twilio.webhook()` let it through. */
export interface AppRequest {
  path: string;
  params: Record<string, string | string[]>;
  signature: string | undefined;
  /** The status the app's middleware answered: 200 when it validated, 403 (or 400) when not. */
  status: number;
}

export interface TwilioApp {
  /** Base URL of the app (no trailing slash). */
  url: string;
  requests: AppRequest[];
  close(): Promise<void>;
}

/**
 * An app written for Twilio: every request passes through the official package's `twilio.webhook()`
 * middleware with the app's own auth token (as an Express app would mount it after
 * `express.urlencoded()`), then answers `twiml` (default: an empty Response). Only node:http and
 * the `twilio` package: the request and response objects carry what the middleware reads.
 */
export async function startTwilioApp(authToken: string, twiml = '<?xml version="1.0" encoding="UTF-8"?><Response/>'): Promise<TwilioApp> {
  const { default: twilio } = await import('twilio');
  const hook = twilio.webhook(authToken);
  const requests: AppRequest[] = [];
  const server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => {
      raw += c;
    });
    req.on('end', () => {
      const params: Record<string, string | string[]> = {};
      for (const [k, v] of new URLSearchParams(raw)) {
        const cur = params[k];
        params[k] = cur === undefined ? v : Array.isArray(cur) ? [...cur, v] : [cur, v];
      }
      const entry: AppRequest = {
        path: req.url ?? '',
        params,
        signature: req.headers['x-twilio-signature'] as string | undefined,
        status: 0,
      };
      requests.push(entry);
      const request = {
        headers: req.headers,
        body: params,
        protocol: 'http',
        originalUrl: req.url ?? '/',
        header: (name: string) => req.headers[name.toLowerCase()] as string | undefined,
      };
      const response = {
        type(t: string) {
          res.setHeader('content-type', t);
          return response;
        },
        status(n: number) {
          res.statusCode = n;
          return response;
        },
        send(b: string) {
          entry.status = res.statusCode;
          res.end(b);
          return response;
        },
      };
      hook(request as never, response as never, () => {
        entry.status = 200;
        res.setHeader('content-type', 'text/xml');
        res.end(twiml);
      });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const addr = server.address();
  return {
    url: `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`,
    requests,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** Waits until `cond` holds (relays sent without waiting for the app: STOP and HELP auto-replies). */
export async function until(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
