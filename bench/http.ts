// HTTP benchmark (autocannon), not a timed test. Servers run in child processes, the load
// generator in this one, all on the same machine (both cores in use):
//   1. POST /v1/screen, single messages, next to a bare Fastify route returning a constant, each
//      with 1 process and with --workers processes (node:cluster, as `warden serve --workers N`);
//      then the same with 1,000 different SMS texts to 1,000 recipients (../shared/data, or
//      --data DIR; generated texts without it), against the same bare route;
//   2. the Twilio-compatible CreateMessage against a sink upstream, next to a direct call to the
//      sink, both at the same steady rate (latency overhead, not saturation).
//   3. with --cpu: server CPU per request instead of throughput, which this shared VM's speed
//      swings move far less: the one-process bare route and gateway pinned to the first core, the
//      load generator to the second, each thread's CPU read from /proc before and after each run;
//      --compare DIR adds a gateway built from another checkout (DIR is its dist/ directory), so
//      two versions alternate in the same minutes; --compare-flags "..." runs the compared gateway
//      (this build unless --compare) with those node flags, e.g. "--max-semi-space-size=32".
// Usage: npm run bench:http [-- --rounds 5 --duration 5 --connections 50 --workers 2 --twilio-rate 1000 --twilio-duration 10 --data DIR]
//        npm run bench:http -- --cpu [--rounds 8 --duration 6 --compare ../other-checkout/dist --compare-flags "..." --varied]

import cluster from 'node:cluster';
import { fork, type ChildProcess } from 'node:child_process';
import { Agent, request } from 'node:http';
import { createServer } from 'node:net';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import autocannon from 'autocannon';
import Fastify from 'fastify';
import { dirname, resolve } from 'node:path';
import { readLabelledCsv } from '../src/eval/labelled-csv.js';
import { loadCorpusTexts, median, option } from './corpus.js';

const args = process.argv.slice(2);
const arg = (name: string, def: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
};

interface Ports {
  port: number;
  sink?: number;
}

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
    } catch {
      /* not listening yet */
    }
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
  const logger = pino({ level: 'info' }, pino.destination({ dest: '/dev/null', sync: false }));
  // The sink upstream listens on loopback, which the egress policy refuses unless allowed.
  const gateway = { rateLimit: false as const, customerSendLimit: false as const, defaultMetrics: true, egressAllow: ['127.0.0.1/32'] };
  if (cluster.isPrimary) {
    const { buildSinkApp, SinkState } = await import('../src/http/sink/sink.js');
    const { openStores } = await import('../src/store/open-stores.js');
    const sink = await buildSinkApp(new SinkState(process.env.BENCH_SINK_TOKEN));
    sink.state.callbackDelayMs = 0;
    await sink.app.listen({ port: 0, host: '127.0.0.1' });
    const sinkPort = (sink.app.server.address() as { port: number }).port;
    const dataDir = join(mkdtempSync(join(process.env.WARDEN_BENCH_DIR ?? tmpdir(), 'warden-bench-')), 'data');
    const stores = await openStores({ ...DEFAULT_CONFIG, dataDir }, { log: () => undefined });
    await seedDemo(stores, `http://127.0.0.1:${sinkPort}`, sink.state.token);
    await stores.close();
    const port = await freePort();
    process.env.BENCH_PORT = String(port);
    process.env.BENCH_DATA_DIR = dataDir;
    void serveForever({
      config: { ...DEFAULT_CONFIG, dataDir, port, host: '127.0.0.1', workers, adminToken: 'bench' },
      demo: false,
      gateway,
      logger,
    });
    await waitReady(`http://127.0.0.1:${port}/readyz`);
    process.send?.({ port, sink: sinkPort } satisfies Ports);
  } else {
    const dataDir = process.env.BENCH_DATA_DIR!;
    await serveForever({
      config: { ...DEFAULT_CONFIG, dataDir, port: Number(process.env.BENCH_PORT), host: '127.0.0.1', workers, adminToken: 'bench' },
      demo: false,
      gateway,
      logger,
    });
  }
}

async function startChild(
  role: '--server' | '--bare',
  workers: number,
  script = fileURLToPath(import.meta.url),
  execArgv: string[] = [],
): Promise<{ child: ChildProcess; ports: Ports }> {
  const child = fork(script, [role], {
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    env: { ...process.env, BENCH_WORKERS: String(workers) },
    execArgv,
  });
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

interface Run {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
}

async function cannon(
  url: string,
  body: string,
  contentType: string,
  auth: string | undefined,
  duration: number,
  connections: number,
  bodies?: string[],
): Promise<Run> {
  const r = await autocannon({
    url,
    method: 'POST',
    body,
    duration,
    connections,
    pipelining: 1,
    headers: { 'content-type': contentType, ...(auth ? { authorization: auth } : {}) },
    ...(bodies !== undefined ? { requests: bodies.map((b) => ({ body: b })) } : {}),
  });
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, errors: r.errors + r.timeouts, non2xx: r.non2xx };
}

/**
 * Latency at a steady rate: `connections` keep-alive clients share `rate` requests per second,
 * each request timed with a monotonic clock (autocannon rounds latency to whole milliseconds,
 * too coarse for an overhead budget of 2 ms).
 */
async function paced(
  url: string,
  body: string,
  contentType: string,
  auth: string,
  duration: number,
  connections: number,
  rate: number,
): Promise<Run> {
  const agent = new Agent({ keepAlive: true, maxSockets: connections });
  const target = new URL(url);
  const latencies: number[] = [];
  let errors = 0,
    non2xx = 0;
  const one = () =>
    new Promise<void>((resolve) => {
      const started = process.hrtime.bigint();
      const req = request(
        {
          agent,
          host: target.hostname,
          port: target.port,
          path: target.pathname,
          method: 'POST',
          headers: { 'content-type': contentType, authorization: auth, 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          res.resume();
          res.on('end', () => {
            latencies.push(Number(process.hrtime.bigint() - started) / 1e6);
            if ((res.statusCode ?? 0) >= 300) non2xx++;
            resolve();
          });
        },
      );
      req.on('error', () => {
        errors++;
        resolve();
      });
      req.end(body);
    });
  const interval = (1000 * connections) / rate;
  const end = Date.now() + duration * 1000;
  await Promise.all(
    Array.from({ length: connections }, async (_, i) => {
      await new Promise((r) => setTimeout(r, (interval * i) / connections));
      let next = Date.now();
      while (Date.now() < end) {
        await one();
        next += interval;
        const wait = next - Date.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      }
    }),
  );
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? NaN;
  return { rps: latencies.length / duration, p50: q(0.5), p99: q(0.99), errors, non2xx };
}

const DEMO_AUTH = 'Basic ' + Buffer.from('AC00000000000000000000000000000001:demo-auth-token').toString('base64');
const SCREEN_BODY = JSON.stringify({
  to: '+14155550100',
  from: '+15005550006',
  body: 'Hi Sam, your appointment is confirmed for Tuesday at 3pm. Reply C to cancel.',
});

/**
 * Traffic closer to a real day's than one message repeated: 1,000 SMS texts spread evenly over the
 * labelled sets in ../shared/data (ham, spam and smishing in their natural mix; generated texts
 * without it), each to its own recipient. Every connection sends them in turn.
 */
function variedBodies(): { bodies: string[]; origin: string } {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
  const { texts, origin } = loadCorpusTexts(resolve(option('data', join(root, '../shared/data'))), readLabelledCsv);
  const n = Math.min(1000, texts.length);
  const bodies = Array.from({ length: n }, (_, i) =>
    JSON.stringify({
      to: `+1415555${String(1000 + ((i * 7919) % 9000))}`,
      from: '+15005550006',
      body: texts[Math.floor((i * texts.length) / n)],
    }),
  );
  return { bodies, origin: `${n} of ${origin}` };
}

/** CPU time (µs) of each thread of a process, by thread id (Linux /proc; clock ticks of 10 ms). */
function threadCpu(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const f = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8').split(') ')[1].split(' ');
      out.set(tid, (Number(f[11]) + Number(f[12])) * 10_000);
    } catch {
      /* the thread ended */
    }
  }
  return out;
}

/** Pins a process (every thread) to one CPU; false where taskset is missing. */
function pin(pid: number, cpu: number): boolean {
  try {
    execFileSync('taskset', ['-a', '-pc', String(cpu), String(pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** --cpu: server CPU per request, bare route and gateway (and --compare's gateway) alternating, pinned. */
async function cpuMain(): Promise<void> {
  const duration = arg('duration', 6);
  const rounds = arg('rounds', 8);
  const connections = arg('connections', 50);
  const ci = args.indexOf('--compare');
  const compare = ci >= 0 ? args[ci + 1] : undefined;
  const fi = args.indexOf('--compare-flags');
  const flags = fi >= 0 ? args[fi + 1].split(/\s+/).filter((f) => f !== '') : undefined;
  const servers: Array<{ name: string; child: ChildProcess; url: string; auth?: string }> = [];
  const add = async (name: string, role: '--server' | '--bare', script?: string, execArgv?: string[]) => {
    const c = await startChild(role, 1, script, execArgv);
    servers.push({
      name,
      child: c.child,
      url: `http://127.0.0.1:${c.ports.port}${role === '--bare' ? '/bare' : '/v1/screen'}`,
      ...(role === '--server' ? { auth: DEMO_AUTH } : {}),
    });
  };
  await add('bare Fastify route (constant)', '--bare');
  await add('POST /v1/screen, this build', '--server');
  if (compare !== undefined || flags !== undefined) {
    await add(
      `POST /v1/screen, ${compare ?? 'this build'}${flags !== undefined ? ` with ${flags.join(' ')}` : ''}`,
      '--server',
      compare !== undefined ? join(compare, 'bench', 'http.js') : undefined,
      flags,
    );
  }
  // --varied: the gateways get the 1,000 different texts and recipients (variedBodies) instead of one message.
  const bodies = args.includes('--varied') ? variedBodies().bodies : undefined;
  const pinned = pin(process.pid, 1) && servers.every((s) => pin(s.child.pid!, 0));
  const per: number[][][] = servers.map(() => []);
  for (const s of servers)
    await cannon(s.url, SCREEN_BODY, 'application/json', s.auth, 2, connections, s.auth !== undefined ? bodies : undefined);
  for (let r = 0; r < rounds; r++) {
    // Each round starts with the next server: the one run right after another is measured a few
    // per cent dearer (the previous one's after-load work on the same core), which a fixed order
    // would charge to the same build every round.
    for (let k = 0; k < servers.length; k++) {
      const i = (r + k) % servers.length;
      const s = servers[i];
      const before = threadCpu(s.child.pid!);
      const run = await cannon(
        s.url,
        SCREEN_BODY,
        'application/json',
        s.auth,
        duration,
        connections,
        s.auth !== undefined ? bodies : undefined,
      );
      const after = threadCpu(s.child.pid!);
      const requests = run.rps * duration;
      let main = 0,
        other = 0;
      for (const [tid, t] of after) {
        const d = t - (before.get(tid) ?? 0);
        if (tid === String(s.child.pid)) main += d;
        else other += d;
      }
      per[i].push([run.rps, main / requests, (main + other) / requests]);
    }
  }
  for (const s of servers) await stopChild(s.child);
  const lines = [
    `node ${process.version}; ${rounds} rounds of ${duration}s runs, servers alternating (each round starts with the next), ${connections} connections; ${pinned ? 'servers pinned to CPU 0, load generator to CPU 1' : "NOT pinned (taskset unavailable): figures include the load generator's contention"}`,
    `${'server (one process)'.padEnd(60)} ${'req/s'.padStart(8)} ${'main µs/req'.padStart(12)} ${'all µs/req'.padStart(11)}  (medians; all = every thread of the process)`,
    ...servers.map(
      (s, i) =>
        `${s.name.padEnd(60)} ${median(per[i].map((x) => x[0]))
          .toFixed(0)
          .padStart(8)} ${median(per[i].map((x) => x[1]))
          .toFixed(1)
          .padStart(12)} ${median(per[i].map((x) => x[2]))
          .toFixed(1)
          .padStart(11)}`,
    ),
    ...servers.map((s, i) => `  ${s.name}: all µs/req by round ${per[i].map((x) => x[2].toFixed(1)).join(', ')}`),
  ];
  process.stdout.write(lines.join('\n') + '\n');
}

async function main(): Promise<void> {
  const duration = arg('duration', 5);
  const rounds = arg('rounds', 5);
  const twilioDuration = arg('twilio-duration', 10);
  const connections = arg('connections', 50);
  const twilioRate = arg('twilio-rate', 1000);
  const workers = arg('workers', 2);
  // The sink's token, handed to the gateway process that starts the sink.
  const sinkToken = randomBytes(24).toString('base64url');
  process.env.BENCH_SINK_TOKEN = sinkToken;
  const sinkAuth = 'Basic ' + Buffer.from(`AC00000000000000000000000000000001:${sinkToken}`).toString('base64');
  const form = new URLSearchParams({
    To: '+14155550100',
    From: '+15005550006',
    Body: 'Hi Sam, your appointment is confirmed for Tuesday at 3pm.',
  }).toString();
  const twPath = '/2010-04-01/Accounts/AC00000000000000000000000000000001/Messages.json';
  const base = (p: number) => `http://127.0.0.1:${p}`;

  // Every server is started first; the throughput runs then alternate bare and gateway in
  // rounds, and each figure is the median over the rounds. This VM's speed drifts by +-15% over
  // a minute, so two long runs minutes apart compare the machine's moods as much as the servers.
  const bare1 = await startChild('--bare', 1);
  const gw1 = await startChild('--server', 1);
  const bareN = workers > 1 ? await startChild('--bare', workers) : bare1;
  const gwN = workers > 1 ? await startChild('--server', workers) : gw1;
  const screenRun = (c: { ports: Ports }, d: number) =>
    cannon(`${base(c.ports.port)}/v1/screen`, SCREEN_BODY, 'application/json', DEMO_AUTH, d, connections);
  const bareRun = (c: { ports: Ports }, d: number) =>
    cannon(`${base(c.ports.port)}/bare`, SCREEN_BODY, 'application/json', undefined, d, connections);
  const varied = variedBodies();
  const variedRun = (c: { ports: Ports }, d: number) =>
    cannon(`${base(c.ports.port)}/v1/screen`, SCREEN_BODY, 'application/json', DEMO_AUTH, d, connections, varied.bodies);
  // The bare route under the same varied bodies: the load generator's own cost per request grows
  // with them (it shares the cores), which must not be charged to the gateway.
  const bareVariedRun = (c: { ports: Ports }, d: number) =>
    cannon(`${base(c.ports.port)}/bare`, SCREEN_BODY, 'application/json', undefined, d, connections, varied.bodies);
  // Warm-up so JIT and the credential caches are hot.
  for (const c of new Set([bare1, bareN])) await bareRun(c, 2);
  for (const c of new Set([gw1, gwN])) await screenRun(c, 3);
  await variedRun(gwN, 3);
  const runs: Array<{ bare1: Run; gw1: Run; bareN: Run; gwN: Run; bareVariedN: Run; variedN: Run }> = [];
  for (let r = 0; r < rounds; r++) {
    const b1 = await bareRun(bare1, duration);
    const g1 = await screenRun(gw1, duration);
    const bN = workers > 1 ? await bareRun(bareN, duration) : b1;
    const gN = workers > 1 ? await screenRun(gwN, duration) : g1;
    const bvN = await bareVariedRun(bareN, duration);
    const vN = await variedRun(gwN, duration);
    runs.push({ bare1: b1, gw1: g1, bareN: bN, gwN: gN, bareVariedN: bvN, variedN: vN });
  }
  // Latency overhead is measured at a steady rate well below saturation (what an app sees in
  // production); at saturation p50 is queueing, which the throughput runs already measure.
  const tw = gw1.ports.port,
    sinkPort = gw1.ports.sink!;
  await paced(`${base(tw)}${twPath}`, form, 'application/x-www-form-urlencoded', DEMO_AUTH, 2, 10, twilioRate);
  const sinkDirect = await paced(
    `${base(sinkPort)}${twPath}`,
    form,
    'application/x-www-form-urlencoded',
    sinkAuth,
    twilioDuration,
    10,
    twilioRate,
  );
  const twilioVia = await paced(
    `${base(tw)}${twPath}`,
    form,
    'application/x-www-form-urlencoded',
    DEMO_AUTH,
    twilioDuration,
    10,
    twilioRate,
  );
  for (const c of new Set([bare1, gw1, bareN, gwN])) await stopChild(c.child);

  const med = (k: keyof (typeof runs)[number]): Run => ({
    rps: median(runs.map((x) => x[k].rps)),
    p50: median(runs.map((x) => x[k].p50)),
    p99: median(runs.map((x) => x[k].p99)),
    errors: runs.reduce((n, x) => n + x[k].errors, 0),
    non2xx: runs.reduce((n, x) => n + x[k].non2xx, 0),
  });
  const ratios = (g: 'gw1' | 'gwN' | 'variedN', b: 'bare1' | 'bareN' | 'bareVariedN') => runs.map((x) => x[g].rps / x[b].rps);
  const pctList = (xs: number[]) =>
    `median ${(median(xs) * 100).toFixed(1)}% (rounds: ${xs.map((x) => (x * 100).toFixed(1) + '%').join(', ')})`;

  const ms = (v: number) => (Number.isInteger(v) ? String(v) : v.toFixed(2)).padStart(7);
  const row = (name: string, r: Run) =>
    `${name.padEnd(48)} ${r.rps.toFixed(0).padStart(8)} ${ms(r.p50)} ${ms(r.p99)} ${String(r.errors + r.non2xx).padStart(7)}`;
  const lines = [
    `node ${process.version}; throughput: ${rounds} rounds of ${duration}s runs alternating bare and gateway, ${connections} connections, medians over the rounds;`,
    `Twilio runs: ${twilioDuration}s each, 10 connections at ${twilioRate} req/s; load generator in this process`,
    `${'run'.padEnd(48)} ${'req/s'.padStart(8)} ${'p50 ms'.padStart(7)} ${'p99 ms'.padStart(7)} ${'errors'.padStart(7)}`,
    row('bare Fastify route (constant), 1 process', med('bare1')),
    row('POST /v1/screen (single message), 1 process', med('gw1')),
    `  /v1/screen vs bare, 1 process each: ${pctList(ratios('gw1', 'bare1'))}`,
    ...(workers > 1
      ? [
          row(`bare Fastify route (constant), ${workers} processes`, med('bareN')),
          row(`POST /v1/screen, warden serve --workers ${workers}`, med('gwN')),
          `  /v1/screen vs bare, ${workers} processes each: ${pctList(ratios('gwN', 'bareN'))}`,
          `  /v1/screen with ${workers} processes vs bare in 1 process: ${pctList(ratios('gwN', 'bare1'))}`,
        ]
      : []),
    row(`bare Fastify route, varied bodies, ${workers} process${workers > 1 ? 'es' : ''}`, med('bareVariedN')),
    row(`POST /v1/screen, varied messages, ${workers} process${workers > 1 ? 'es' : ''}`, med('variedN')),
    `  varied messages vs bare, ${workers} process${workers > 1 ? 'es' : ''} each, same bodies: ${pctList(ratios('variedN', 'bareVariedN'))}`,
    `  (varied: ${varied.origin}, each to its own recipient)`,
    row('sink direct (CreateMessage)', sinkDirect),
    row('Twilio CreateMessage via Warden -> sink', twilioVia),
    `  Twilio endpoint overhead at p50: ${(twilioVia.p50 - sinkDirect.p50).toFixed(2)} ms`,
  ];
  process.stdout.write(lines.join('\n') + '\n');
}

if (process.argv.includes('--server')) void gatewayMain();
else if (process.argv.includes('--bare')) void bareMain();
else
  (process.argv.includes('--cpu') ? cpuMain() : main()).catch((e: unknown) => {
    process.stderr.write(`${(e as Error).stack}\n`);
    process.exit(1);
  });
