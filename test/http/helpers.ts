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
}

export async function startFixture(options: Partial<GatewayOptions> = {}): Promise<Fixture> {
  const dataDir = join(mkdtempSync(join(tmpdir(), 'warden-http-')), 'data');
  const gw = await startGateway({ config: { ...DEFAULT_CONFIG, dataDir, port: 0, pollIntervalMs: 200, adminToken: ADMIN }, port: 0, demo: true, logger: false, gateway: { defaultMetrics: false, ...options } });
  const c = await createCustomer(gw.stores, { id: 'other', upstream: { baseUrl: `${gw.url}/sink`, authToken: 'other-sink-token' }, senders: ['+15005550009'] });
  const cred = await issueCredential(gw.stores, 'other', { kind: 'auth-token' });
  const basic = (u: string, p: string) => 'Basic ' + Buffer.from(`${u}:${p}`).toString('base64');
  return {
    gw,
    other: { id: 'other', accountSid: c.accountSid, secret: cred.secret },
    basic,
    demoAuth: basic(DEMO.accountSid, DEMO.authToken),
    otherAuth: basic(c.accountSid, cred.secret),
  };
}

export const form = (o: Record<string, string | string[]>): string => {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(o)) for (const x of Array.isArray(v) ? v : [v]) p.append(k, x);
  return p.toString();
};

export const BLOCKED_BODY = 'URGENT your bank account is locked, verify at http://bit.ly/x now';

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
    req.on('data', (c) => { body += c; });
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
