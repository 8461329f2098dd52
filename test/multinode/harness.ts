// Starts real `warden serve` processes for the multi-node, crash and shutdown tests.

import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const BIN = new URL('../../../bin/warden.js', import.meta.url).pathname;
export const ADMIN_TOKEN = 'test-admin-token';
export const DEMO_AUTH = 'Basic ' + Buffer.from('AC00000000000000000000000000000001:demo-auth-token').toString('base64');
export const DEMO_SID = 'AC00000000000000000000000000000001';
export const DEMO_SENDER = '+15005550006';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export function tempDataDir(tag: string): string {
  return join(mkdtempSync(join(tmpdir(), `warden-${tag}-`)), 'data');
}

export interface Node {
  url: string;
  port: number;
  proc: ChildProcess;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Spawns `warden serve` on a free port and waits until /readyz answers 200. */
export async function startNode(env: Record<string, string>, timeoutMs = 20_000): Promise<Node> {
  const port = await freePort();
  const proc = spawn(process.execPath, [BIN, 'serve', '--port', String(port), '--host', '127.0.0.1'], {
    env: { ...process.env, WARDEN_ADMIN_TOKEN: ADMIN_TOKEN, WARDEN_LOG_LEVEL: 'warn', WARDEN_POLL_INTERVAL_MS: '500', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout?.on('data', (d: Buffer) => {
    out = (out + d.toString()).slice(-20_000);
  });
  proc.stderr?.on('data', (d: Buffer) => {
    out = (out + d.toString()).slice(-20_000);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + timeoutMs;
  let gone = false;
  void exited.then(() => {
    gone = true;
  });
  while (Date.now() < deadline) {
    if (gone) throw new Error(`warden serve exited during start:\n${out}`);
    try {
      // /readyz answers before the demo tenant is seeded and the signal handlers are installed:
      // wait until an authenticated request succeeds, then a moment more.
      const r = await fetch(`${url}/v1/consent/%2B10000000000`, { headers: { authorization: DEMO_AUTH } });
      await r.arrayBuffer();
      if (r.status === 200) {
        await new Promise((res) => setTimeout(res, 50));
        return { url, port, proc, output: () => out, exited };
      }
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  proc.kill('SIGKILL');
  throw new Error(`warden serve not ready within ${timeoutMs} ms:\n${out}`);
}

export async function stopNode(n: Node, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (n.proc.exitCode !== null || n.proc.signalCode !== null) return;
  n.proc.kill(signal);
  await n.exited;
}

export async function post(url: string, body: unknown, auth: string): Promise<{ status: number; json: Record<string, unknown> }> {
  const r = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: auth },
    body: JSON.stringify(body),
  });
  const text = await r.text();
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = { text };
  }
  return { status: r.status, json };
}

export const optOut = (n: Node, recipient: string) =>
  post(`${n.url}/v1/consent`, { recipient, kind: 'opt-out', evidence: 'STOP' }, DEMO_AUTH);
export const enforce = (n: Node, action: string, reason: string, endUser?: string) =>
  post(
    `${n.url}/v1/admin/customers/demo/enforcement`,
    { action, reason, ...(endUser !== undefined ? { endUser } : {}) },
    `Bearer ${ADMIN_TOKEN}`,
  );
export const screenOn = (n: Node, to: string) =>
  post(`${n.url}/v1/screen`, { channel: 'sms', from: DEMO_SENDER, to, body: 'Your table for two is booked for 7pm tonight.' }, DEMO_AUTH);

export async function twilioSend(n: Node, to: string): Promise<number> {
  const r = await fetch(`${n.url}/2010-04-01/Accounts/${DEMO_SID}/Messages.json`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: DEMO_AUTH },
    body: new URLSearchParams({ To: to, From: DEMO_SENDER, Body: 'Your order has shipped and arrives Tuesday.' }).toString(),
  });
  await r.arrayBuffer();
  return r.status;
}
