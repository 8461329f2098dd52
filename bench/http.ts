// HTTP benchmark (autocannon), not a timed test. Servers run in child processes, the load
// generator in this one, all on the same machine (both cores in use):
//   1. POST /v1/screen, single messages, next to a bare Fastify route returning a constant, each
//      with 1 process and with --workers processes (node:cluster, as `warden serve --workers N`);
//   2. the Twilio-compatible CreateMessage against a sink upstream, next to a direct call to the
//      sink, both at the same steady rate (latency overhead, not saturation).
// Usage: npm run bench:http [-- --duration 10 --connections 50 --workers 2 --twilio-rate 1000]

import cluster from 'node:cluster';
import { fork, type ChildProcess } from 'node:child_process';
import { Agent, request } from 'node:http';
import { createServer } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import Fastify from 'fastify';

const args = process.argv.slice(2);
const arg = (name: string, def: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
};

interface Ports { port: number; sink?: number }

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

async function waitReady(url: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    try {
      const r = await fetch(url);
      if (r.ok) return;
    } catch { /* not listening yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} never became ready`);
}

/** A bare Fastify app returning a constant, in BENCH_WORKERS processes sharing one port. */
async function bareMain(): Promise<void> {
  const workers = Number(process.env.BENCH_WORKERS ?? 1);
  if (cluster.isPrimary) {
    const port = await freePort();
    process.env.BENCH_PORT = String(port);
    if (workers > 1) for (let i = 0; i < workers; i++) cluster.fork();
    else await listenBare(port);
    await waitReady(`http://127.0.0.1:${port}/ready`);
    process.send?.({ port } satisfies Ports);
  } else {
    await listenBare(Number(process.env.BENCH_PORT));
  }
}

async function listenBare(port: number): Promise<void> {
  const bare = Fastify({ logger: false });
  bare.post('/bare', async () => ({ ok: true }));
  bare.get('/ready', async () => ({ ok: true }));
  await bare.listen({ port, host: '127.0.0.1' });
}

/**
 * The gateway as `warden serve` runs it, with BENCH_WORKERS processes: SQLite in a fresh data
 * directory, every decision written and logged (to /dev/null), rate and send limits off, the demo
 * customer's upstream a sink app in the primary process.
 */
async function gatewayMain(): Promise<void> {
  const { serveForever, seedDemo } = await import('../src/serve.js');
  const { DEFAULT_CONFIG } = await import('../src/config.js');
  const { pino } = await import('pino');
  const workers = Number(process.env.BENCH_WORKERS ?? 1);
  process.env.WARDEN_ADMIN_TOKEN = 'bench';
  const logger = pino({ level: 'info' }, pino.destination({ dest: '/dev/null', sync: false }));
  const gateway = { rateLimit: false as const, customerSendLimit: false as const, defaultMetrics: true };
  if (cluster.isPrimary) {
    const { buildSinkApp } = await import('../src/http/sink/sink.js');
    const { openStores } = await import('../src/store/open-stores.js');
    const sink = await buildSinkApp();
    sink.state.callbackDelayMs = 0;
    await sink.app.listen({ port: 0, host: '127.0.0.1' });
    const sinkPort = (sink.app.server.address() as { port: number }).port;
    const dataDir = join(mkdtempSync(join(process.env.WARDEN_BENCH_DIR ?? tmpdir(), 'warden-bench-')), 'data');
    const stores = await openStores({ ...DEFAULT_CONFIG, dataDir }, { log: () => undefined });
    await seedDemo(stores, `http://127.0.0.1:${sinkPort}`);
    await stores.close();
    const port = await freePort();
    process.env.BENCH_PORT = String(port);
    process.env.BENCH_DATA_DIR = dataDir;
    void serveForever({ config: { ...DEFAULT_CONFIG, dataDir, port, host: '127.0.0.1', workers }, demo: false, gateway, logger });
    await waitReady(`http://127.0.0.1:${port}/readyz`);
    process.send?.({ port, sink: sinkPort } satisfies Ports);
  } else {
    const dataDir = process.env.BENCH_DATA_DIR!;
    await serveForever({ config: { ...DEFAULT_CONFIG, dataDir, port: Number(process.env.BENCH_PORT), host: '127.0.0.1', workers }, demo: false, gateway, logger });
  }
}

async function startChild(role: '--server' | '--bare', workers: number): Promise<{ child: ChildProcess; ports: Ports }> {
  const child = fork(fileURLToPath(import.meta.url), [role], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'], env: { ...process.env, BENCH_WORKERS: String(workers) } });
  const ports = await new Promise<Ports>((resolve, reject) => {
    child.once('message', (m) => resolve(m as Ports));
    child.once('exit', (code) => reject(new Error(`${role} exited ${code}`)));
  });
  return { child, ports };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  await new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
  });
}

interface Run { rps: number; p50: number; p99: number; errors: number; non2xx: number }

async function cannon(url: string, body: string, contentType: string, auth: string | undefined, duration: number, connections: number): Promise<Run> {
  const r = await autocannon({
    url, method: 'POST', body, duration, connections, pipelining: 1,
    headers: { 'content-type': contentType, ...(auth ? { authorization: auth } : {}) },
  });
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, errors: r.errors + r.timeouts, non2xx: r.non2xx };
}

/**
 * Latency at a steady rate: `connections` keep-alive clients share `rate` requests per second,
 * each request timed with a monotonic clock (autocannon rounds latency to whole milliseconds,
 * too coarse for an overhead budget of 2 ms).
 */
async function paced(url: string, body: string, contentType: string, auth: string, duration: number, connections: number, rate: number): Promise<Run> {
  const agent = new Agent({ keepAlive: true, maxSockets: connections });
  const target = new URL(url);
  const latencies: number[] = [];
  let errors = 0, non2xx = 0;
  const one = () => new Promise<void>((resolve) => {
    const started = process.hrtime.bigint();
    const req = request({ agent, host: target.hostname, port: target.port, path: target.pathname, method: 'POST',
      headers: { 'content-type': contentType, authorization: auth, 'content-length': Buffer.byteLength(body) } }, (res) => {
      res.resume();
      res.on('end', () => {
        latencies.push(Number(process.hrtime.bigint() - started) / 1e6);
        if ((res.statusCode ?? 0) >= 300) non2xx++;
        resolve();
      });
    });
    req.on('error', () => { errors++; resolve(); });
    req.end(body);
  });
  const interval = (1000 * connections) / rate;
  const end = Date.now() + duration * 1000;
  await Promise.all(Array.from({ length: connections }, async (_, i) => {
    await new Promise((r) => setTimeout(r, (interval * i) / connections));
    let next = Date.now();
    while (Date.now() < end) {
      await one();
      next += interval;
      const wait = next - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
  }));
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? NaN;
  return { rps: latencies.length / duration, p50: q(0.5), p99: q(0.99), errors, non2xx };
}

async function main(): Promise<void> {
  const duration = arg('duration', 10);
  const connections = arg('connections', 50);
  const twilioRate = arg('twilio-rate', 1000);
  const workers = arg('workers', 2);
  const demoAuth = 'Basic ' + Buffer.from('AC00000000000000000000000000000001:demo-auth-token').toString('base64');
  const sinkAuth = 'Basic ' + Buffer.from('AC00000000000000000000000000000001:demo-sink-token').toString('base64');
  const screenBody = JSON.stringify({ to: '+14155550100', from: '+15005550006', body: 'Hi Sam, your appointment is confirmed for Tuesday at 3pm. Reply C to cancel.' });
  const form = new URLSearchParams({ To: '+14155550100', From: '+15005550006', Body: 'Hi Sam, your appointment is confirmed for Tuesday at 3pm.' }).toString();
  const twPath = '/2010-04-01/Accounts/AC00000000000000000000000000000001/Messages.json';
  const base = (p: number) => `http://127.0.0.1:${p}`;

  const bareRun = async (n: number): Promise<Run> => {
    const { child, ports } = await startChild('--bare', n);
    await cannon(`${base(ports.port)}/bare`, screenBody, 'application/json', undefined, 2, connections);
    const r = await cannon(`${base(ports.port)}/bare`, screenBody, 'application/json', undefined, duration, connections);
    await stopChild(child);
    return r;
  };
  const gatewayRun = async (n: number, twilio: boolean): Promise<{ screen: Run; sinkDirect?: Run; twilioVia?: Run }> => {
    const { child, ports } = await startChild('--server', n);
    // Warm-up so JIT and the credential caches are hot.
    await cannon(`${base(ports.port)}/v1/screen`, screenBody, 'application/json', demoAuth, 3, connections);
    const screen = await cannon(`${base(ports.port)}/v1/screen`, screenBody, 'application/json', demoAuth, duration, connections);
    if (!twilio) {
      await stopChild(child);
      return { screen };
    }
    // Latency overhead is measured at a steady rate well below saturation (what an app sees in
    // production); at saturation p50 is queueing, which the throughput runs already measure.
    await paced(`${base(ports.port)}${twPath}`, form, 'application/x-www-form-urlencoded', demoAuth, 2, 10, twilioRate);
    const sinkDirect = await paced(`${base(ports.sink!)}${twPath}`, form, 'application/x-www-form-urlencoded', sinkAuth, duration, 10, twilioRate);
    const twilioVia = await paced(`${base(ports.port)}${twPath}`, form, 'application/x-www-form-urlencoded', demoAuth, duration, 10, twilioRate);
    await stopChild(child);
    return { screen, sinkDirect, twilioVia };
  };

  const bare1 = await bareRun(1);
  const gw1 = await gatewayRun(1, true);
  const bareN = workers > 1 ? await bareRun(workers) : bare1;
  const gwN = workers > 1 ? await gatewayRun(workers, false) : gw1;

  const ms = (v: number) => (Number.isInteger(v) ? String(v) : v.toFixed(2)).padStart(7);
  const row = (name: string, r: Run) => `${name.padEnd(48)} ${r.rps.toFixed(0).padStart(8)} ${ms(r.p50)} ${ms(r.p99)} ${String(r.errors + r.non2xx).padStart(7)}`;
  const pct = (a: Run, b: Run) => `${((a.rps / b.rps) * 100).toFixed(1)}%`;
  const lines = [
    `node ${process.version}, ${duration}s per run, ${connections} connections; Twilio runs: 10 connections at ${twilioRate} req/s; load generator in this process`,
    `${'run'.padEnd(48)} ${'req/s'.padStart(8)} ${'p50 ms'.padStart(7)} ${'p99 ms'.padStart(7)} ${'errors'.padStart(7)}`,
    row('bare Fastify route (constant), 1 process', bare1),
    row('POST /v1/screen (single message), 1 process', gw1.screen),
    `  /v1/screen vs bare, 1 process each: ${pct(gw1.screen, bare1)}`,
    ...(workers > 1 ? [
      row(`bare Fastify route (constant), ${workers} processes`, bareN),
      row(`POST /v1/screen, warden serve --workers ${workers}`, gwN.screen),
      `  /v1/screen vs bare, ${workers} processes each: ${pct(gwN.screen, bareN)}; vs bare in 1 process: ${pct(gwN.screen, bare1)}`,
    ] : []),
    row('sink direct (CreateMessage)', gw1.sinkDirect!),
    row('Twilio CreateMessage via Warden -> sink', gw1.twilioVia!),
    `  Twilio endpoint overhead at p50: ${(gw1.twilioVia!.p50 - gw1.sinkDirect!.p50).toFixed(2)} ms`,
  ];
  process.stdout.write(lines.join('\n') + '\n');
}

if (process.argv.includes('--server')) void gatewayMain();
else if (process.argv.includes('--bare')) void bareMain();
else main().catch((e: unknown) => { process.stderr.write(`${(e as Error).stack}\n`); process.exit(1); });
