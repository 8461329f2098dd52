// HTTP benchmark (autocannon), not a timed test. The servers run in a child process (one core),
// autocannon in this one (the other core):
//   1. POST /v1/screen, single messages, next to a bare Fastify route returning a constant;
//   2. the Twilio-compatible CreateMessage against the sink upstream, next to a direct call to the
//      sink, both at the same steady rate (latency overhead, not saturation).
// Usage: npm run bench:http [-- --duration 10 --connections 50 --twilio-rate 1000]

import { fork, type ChildProcess } from 'node:child_process';
import { Agent, request } from 'node:http';
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

interface Ports { gateway: number; bare: number; sink: number }

async function serverMain(): Promise<void> {
  const { startGateway, DEMO } = await import('../src/serve.js');
  const { DEFAULT_CONFIG } = await import('../src/config.js');
  const { buildSinkApp } = await import('../src/http/sink/sink.js');
  const { pino } = await import('pino');
  const dataDir = join(mkdtempSync(join(process.env.WARDEN_BENCH_DIR ?? tmpdir(), 'warden-bench-')), 'data');
  process.env.WARDEN_ADMIN_TOKEN = 'bench';
  const gw = await startGateway({
    config: { ...DEFAULT_CONFIG, dataDir, port: 0 },
    port: 0,
    demo: true,
    // Decision log lines are written as in production, to a file descriptor nobody reads.
    logger: pino({ level: 'info' }, pino.destination({ dest: '/dev/null', sync: false })),
    gateway: { rateLimit: false, customerSendLimit: false, defaultMetrics: true },
  });
  gw.app.sink!.callbackDelayMs = 0;
  const bare = Fastify({ logger: false });
  bare.post('/bare', async () => ({ ok: true }));
  await bare.listen({ port: 0, host: '127.0.0.1' });
  const sink = await buildSinkApp();
  sink.state.callbackDelayMs = 0;
  await sink.app.listen({ port: 0, host: '127.0.0.1' });
  const port = (s: { server: { address(): unknown } }) => (s.server.address() as { port: number }).port;
  void DEMO;
  process.send?.({ gateway: port(gw.app), bare: port(bare), sink: port(sink.app) } satisfies Ports);
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
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), ['--server'], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const ports = await new Promise<Ports>((resolve, reject) => {
    child.once('message', (m) => resolve(m as Ports));
    child.once('exit', (code) => reject(new Error(`server exited ${code}`)));
  });
  const demoAuth = 'Basic ' + Buffer.from('AC00000000000000000000000000000001:demo-auth-token').toString('base64');
  const sinkAuth = 'Basic ' + Buffer.from('AC00000000000000000000000000000001:demo-sink-token').toString('base64');
  const screenBody = JSON.stringify({ to: '+14155550100', from: '+15005550006', body: 'Hi Sam, your appointment is confirmed for Tuesday at 3pm. Reply C to cancel.' });
  const form = new URLSearchParams({ To: '+14155550100', From: '+15005550006', Body: 'Hi Sam, your appointment is confirmed for Tuesday at 3pm.' }).toString();
  const twPath = '/2010-04-01/Accounts/AC00000000000000000000000000000001/Messages.json';
  const base = (p: number) => `http://127.0.0.1:${p}`;

  // Warm-up so JIT and the credential cache are hot.
  await cannon(`${base(ports.gateway)}/v1/screen`, screenBody, 'application/json', demoAuth, 2, connections);
  await cannon(`${base(ports.gateway)}${twPath}`, form, 'application/x-www-form-urlencoded', demoAuth, 2, 10);

  const bare = await cannon(`${base(ports.bare)}/bare`, screenBody, 'application/json', undefined, duration, connections);
  const screen = await cannon(`${base(ports.gateway)}/v1/screen`, screenBody, 'application/json', demoAuth, duration, connections);
  // Latency overhead is measured at a steady rate well below saturation (what an app sees in
  // production); at saturation p50 is queueing, which the throughput runs already measure.
  const sinkDirect = await paced(`${base(ports.sink)}${twPath}`, form, 'application/x-www-form-urlencoded', sinkAuth, duration, 10, twilioRate);
  const twilioVia = await paced(`${base(ports.gateway)}${twPath}`, form, 'application/x-www-form-urlencoded', demoAuth, duration, 10, twilioRate);
  child.kill('SIGTERM');

  const ms = (v: number) => (Number.isInteger(v) ? String(v) : v.toFixed(2)).padStart(7);
  const row = (name: string, r: Run) => `${name.padEnd(44)} ${r.rps.toFixed(0).padStart(8)} ${ms(r.p50)} ${ms(r.p99)} ${String(r.errors + r.non2xx).padStart(7)}`;
  const lines = [
    `node ${process.version}, ${duration}s per run, ${connections} connections (Twilio runs: 10 connections at ${twilioRate} req/s), server in one child process`,
    `${'run'.padEnd(44)} ${'req/s'.padStart(8)} ${'p50 ms'.padStart(7)} ${'p99 ms'.padStart(7)} ${'errors'.padStart(7)}`,
    row('bare Fastify route (constant)', bare),
    row('POST /v1/screen (single message)', screen),
    `  /v1/screen throughput vs bare: ${((screen.rps / bare.rps) * 100).toFixed(1)}%`,
    row('sink direct (CreateMessage)', sinkDirect),
    row('Twilio CreateMessage via Warden -> sink', twilioVia),
    `  Twilio endpoint overhead at p50: ${(twilioVia.p50 - sinkDirect.p50).toFixed(2)} ms`,
  ];
  process.stdout.write(lines.join('\n') + '\n');
}

if (process.argv.includes('--server')) void serverMain();
else main().catch((e: unknown) => { process.stderr.write(`${(e as Error).stack}\n`); process.exit(1); });
