// `warden serve --workers 2`: one gateway process per core on one machine. Each backend runs the
// real CLI as a child process (SQLite in a temp data dir; PostgreSQL with the IPC channel; PostgreSQL
// + Redis) and proves, over fresh connections that the primary spreads round robin over the
// workers (each answer names its worker in x-warden-worker):
//   - an opt-out recorded on one worker is enforced by the other within milliseconds (the catch-up
//     poll is 5 s here, so it is the change channel's doing);
//   - a per-customer send limit of L admits exactly L across both workers;
//   - a revoked credential is refused by both workers promptly (their credential caches are cleared);
//   - concurrent review settlements from both workers keep the audit chain intact, and a held
//     message is settled once.
// Then, on SQLite: a per-client HTTP rate limit counts across both workers, a killed worker is restarted, SIGTERM drains both workers and exits 0, the demo
// sink is refused with N > 1; several processes writing one SQLite file keep the audit chain and
// the event sequences intact; the IPC counters are exact and fail closed.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { Agent, request, type IncomingHttpHeaders } from 'node:http';
import { availableParallelism } from 'node:os';
import { EventEmitter } from 'node:events';
import type { Worker } from 'node:cluster';
import type { FastifyInstance } from 'fastify';
import { openStores } from '../../src/store/open-stores.js';
import { DEFAULT_CONFIG, loadConfig, type WardenConfig } from '../../src/config.js';
import { buildSinkApp, SinkState } from '../../src/http/sink/sink.js';
import { PrimarySharedState, WorkerIpc, type IpcMessage, type WorkerPort } from '../../src/cluster/ipc.js';
import { HOW_TO, dropSchema, isolatedConfig, testServices } from '../store/services.js';
import { ADMIN_TOKEN, BIN, freePort, tempDataDir } from './harness.js';

const services = await testServices();
const LIMIT = 10;
/** Per-client HTTP requests per minute in the lifecycle cluster (exact below 2,000). */
const HTTP_LIMIT = 100;
const SENDER = '+15005550006';
/** The standalone sink's token, the tenants' upstream auth token. */
const SINK_TOKEN = 'cluster-sink-token';
const ADMIN = `Bearer ${ADMIN_TOKEN}`;

interface Reply {
  status: number;
  worker: string;
  headers: IncomingHttpHeaders;
  json: Record<string, unknown>;
}

/** One request on a new connection (agent: false), so the primary hands it to the next worker. */
function call(
  url: string,
  method: string,
  path: string,
  opts: { auth?: string; json?: unknown; form?: Record<string, string>; agent?: Agent } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const body =
      opts.json !== undefined ? JSON.stringify(opts.json) : opts.form !== undefined ? new URLSearchParams(opts.form).toString() : undefined;
    const headers: Record<string, string | number> = {};
    if (opts.auth !== undefined) headers.authorization = opts.auth;
    if (body !== undefined) {
      headers['content-type'] = opts.json !== undefined ? 'application/json' : 'application/x-www-form-urlencoded';
      headers['content-length'] = Buffer.byteLength(body);
    }
    const req = request(`${url}${path}`, { method, headers, agent: opts.agent ?? false }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => {
        text += d.toString();
      });
      res.on('error', reject);
      res.on('end', () => {
        let json: Record<string, unknown>;
        try {
          json = text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
        } catch {
          json = { text };
        }
        resolve({ status: res.statusCode ?? 0, worker: String(res.headers['x-warden-worker'] ?? ''), headers: res.headers, json });
      });
    });
    req.on('error', reject);
    // A connection handed to a worker that is being killed may never be answered.
    req.setTimeout(5000, () => req.destroy(new Error(`no answer to ${method} ${path} within 5 s`)));
    req.end(body);
  });
}

interface Cluster {
  url: string;
  proc: ChildProcess;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** worker id -> pid, from the primary's "worker started" log lines. */
  pids: () => Map<string, number>;
}

async function startCluster(env: Record<string, string>, workers = 2, timeoutMs = 60_000): Promise<Cluster> {
  const port = await freePort();
  const proc = spawn(
    process.execPath,
    [BIN, 'serve', '--workers', String(workers), '--no-sink', '--port', String(port), '--host', '127.0.0.1'],
    {
      // The tenants' upstream is a sink on loopback, which the egress policy refuses unless allowed.
      env: {
        ...process.env,
        WARDEN_ADMIN_TOKEN: ADMIN_TOKEN,
        WARDEN_LOG_LEVEL: 'info',
        WARDEN_POLL_INTERVAL_MS: '5000',
        WARDEN_EGRESS_ALLOW: '127.0.0.1/32',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  let all = '';
  proc.stdout?.on('data', (d: Buffer) => {
    all += d.toString();
    out = all.slice(-50_000);
  });
  proc.stderr?.on('data', (d: Buffer) => {
    all += d.toString();
    out = all.slice(-50_000);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.once('exit', (code, signal) => resolve({ code, signal })),
  );
  let gone = false;
  void exited.then(() => {
    gone = true;
  });
  const pids = () => {
    const m = new Map<string, number>();
    for (const line of all.split('\n')) {
      if (!line.includes('"worker started"')) continue;
      const j = JSON.parse(line) as { worker: number; workerPid: number };
      m.set(String(j.worker), j.workerPid);
    }
    return m;
  };
  const url = `http://127.0.0.1:${port}`;
  const c: Cluster = { url, proc, output: () => out, exited, pids };
  const deadline = Date.now() + timeoutMs;
  // Ready when `workers` distinct workers have answered /readyz 200.
  const ready = new Set<string>();
  while (Date.now() < deadline) {
    if (gone) throw new Error(`warden serve --workers ${workers} exited during start:\n${out}`);
    try {
      const r = await call(url, 'GET', '/readyz');
      if (r.status === 200 && r.worker !== '') ready.add(r.worker);
      if (ready.size >= workers) return c;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  proc.kill('SIGKILL');
  throw new Error(`warden serve --workers ${workers} not ready within ${timeoutMs} ms:\n${out}`);
}

async function stopCluster(c: Cluster): Promise<void> {
  if (c.proc.exitCode !== null || c.proc.signalCode !== null) return;
  c.proc.kill('SIGTERM');
  await c.exited;
}

/** Repeats `f` on fresh connections until each of `workers` workers has answered; returns each one's last reply. */
async function onEveryWorker(f: () => Promise<Reply>, workers = 2, max = 40): Promise<Map<string, Reply>> {
  const seen = new Map<string, Reply>();
  for (let i = 0; i < max && seen.size < workers; i++) {
    const r = await f();
    seen.set(r.worker, r);
  }
  assert.equal(seen.size, workers, `only workers ${[...seen.keys()].join(', ')} answered`);
  return seen;
}

/** For each worker, how long until `ok` holds for a reply it gives (Infinity when not within ms). */
async function untilEveryWorker(f: () => Promise<Reply>, ok: (r: Reply) => boolean, ms: number, workers = 2): Promise<Map<string, number>> {
  const t0 = Date.now();
  const took = new Map<string, number>();
  while (took.size < workers) {
    const r = await f();
    if (ok(r) && !took.has(r.worker)) took.set(r.worker, Date.now() - t0);
    if (Date.now() - t0 > ms) break;
  }
  return took;
}

interface Tenant {
  accountSid: string;
  auth: string;
}

async function createTenant(url: string, id: string, upstream: string): Promise<Tenant> {
  const c = await call(url, 'POST', '/v1/admin/customers', {
    auth: ADMIN,
    json: { id, upstream: { baseUrl: upstream, authToken: SINK_TOKEN }, senders: [SENDER] },
  });
  assert.equal(c.status, 201, JSON.stringify(c.json));
  const cred = await call(url, 'POST', `/v1/admin/customers/${id}/credentials`, { auth: ADMIN, json: { kind: 'auth-token' } });
  assert.equal(cred.status, 201, JSON.stringify(cred.json));
  return {
    accountSid: c.json.accountSid as string,
    auth: 'Basic ' + Buffer.from(`${cred.json.id as string}:${cred.json.secret as string}`).toString('base64'),
  };
}

const screen = (url: string, t: Tenant, to: string) =>
  call(url, 'POST', '/v1/screen', {
    auth: t.auth,
    json: { channel: 'sms', from: SENDER, to, body: 'Your table for two is booked for 7pm tonight.' },
  });
const send = (url: string, t: Tenant, to: string, body = 'Your order has shipped and arrives Tuesday.') =>
  call(url, 'POST', `/2010-04-01/Accounts/${t.accountSid}/Messages.json`, { auth: t.auth, form: { To: to, From: SENDER, Body: body } });

interface Backend {
  name: string;
  env: Record<string, string>;
  config: WardenConfig;
  cleanup(): Promise<void>;
}

function backends(): Array<Backend | { name: string; skip: string }> {
  const dataDir = tempDataDir('cluster-sqlite');
  const list: Array<Backend | { name: string; skip: string }> = [
    {
      name: 'sqlite (IPC channel and counters)',
      env: { WARDEN_DATA_DIR: dataDir },
      config: { ...DEFAULT_CONFIG, dataDir },
      cleanup: async () => undefined,
    },
  ];
  if (services === null) {
    list.push({ name: 'postgres (IPC channel and counters)', skip: HOW_TO }, { name: 'postgres+redis', skip: HOW_TO });
    return list;
  }
  const svc = services;
  const pgOnly = isolatedConfig(svc, 'cluster_pg');
  const { redisUrl: _r, ...pgConfig } = pgOnly;
  list.push({
    name: 'postgres (IPC channel and counters)',
    config: pgConfig,
    env: {
      WARDEN_DATA_DIR: tempDataDir('cluster-pg'),
      WARDEN_DATABASE_URL: svc.databaseUrl,
      WARDEN_DATABASE_SCHEMA: pgOnly.databaseSchema,
    },
    cleanup: () => dropSchema(svc, pgOnly.databaseSchema),
  });
  const withRedis = isolatedConfig(svc, 'cluster_pgr');
  list.push({
    name: 'postgres+redis',
    config: withRedis,
    env: {
      WARDEN_DATA_DIR: tempDataDir('cluster-pgr'),
      WARDEN_DATABASE_URL: svc.databaseUrl,
      WARDEN_REDIS_URL: svc.redisUrl,
      WARDEN_DATABASE_SCHEMA: withRedis.databaseSchema,
      WARDEN_REDIS_PREFIX: withRedis.redisPrefix,
    },
    cleanup: () => dropSchema(svc, withRedis.databaseSchema),
  });
  return list;
}

let sink: FastifyInstance;
let sinkUrl: string;
before(async () => {
  sink = (await buildSinkApp(new SinkState(SINK_TOKEN))).app;
  sinkUrl = await sink.listen({ port: 0, host: '127.0.0.1' });
});
after(async () => {
  await sink.close();
});

for (const b of backends()) {
  describe(`warden serve --workers 2: ${b.name}`, { timeout: 120_000 }, () => {
    if ('skip' in b) {
      it('needs PostgreSQL and Redis', { skip: b.skip }, () => undefined);
      return;
    }
    let c: Cluster;
    let t: Tenant;
    before(async () => {
      c = await startCluster({ ...b.env, WARDEN_SEND_LIMIT: `${LIMIT}/1m` });
      t = await createTenant(c.url, 'acme', sinkUrl);
    });
    after(async () => {
      if (c !== undefined) {
        await stopCluster(c);
        assert.equal((await c.exited).code, 0, c.output());
      }
      await b.cleanup();
    });

    it('fresh connections are spread over both workers, each a separate process', async () => {
      const seen = await onEveryWorker(() => call(c.url, 'GET', '/readyz'));
      const pids = c.pids();
      const workerPids = [...seen.keys()].map((w) => pids.get(w));
      assert.ok(
        workerPids.every((p) => typeof p === 'number' && p !== c.proc.pid),
        `pids ${JSON.stringify(workerPids)}`,
      );
      assert.equal(new Set(workerPids).size, 2);
      assert.match(c.output(), /"worker":\d+.*"msg":"warden gateway listening"/, 'worker logs carry the worker id');
    });

    it('/metrics on any worker counts the decisions of both workers', async () => {
      const decisions = async (): Promise<{ total: number; scope: string; worker: string }> => {
        const r = await call(c.url, 'GET', '/metrics');
        assert.equal(r.status, 200);
        const text = String(r.json.text);
        const total = text
          .split('\n')
          .filter((l) => l.startsWith('warden_decisions_total{') && l.includes('api="native"'))
          .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
        return { total, scope: String(r.headers['x-warden-metrics-scope']), worker: r.worker };
      };
      const before = await decisions();
      const K = 12;
      const answered = new Set<string>();
      for (let i = 0; i < K; i++) answered.add((await screen(c.url, t, `+1555333${String(i).padStart(4, '0')}`)).worker);
      assert.equal(answered.size, 2, 'the screens were spread over both workers');
      const scrapes = [await decisions(), await decisions(), await decisions()];
      for (const s of scrapes) {
        assert.equal(s.scope, 'cluster; workers=2');
        assert.equal(s.total - before.total, K, `scrape on worker ${s.worker}`);
      }
      assert.equal(new Set(scrapes.map((s) => s.worker)).size, 2, 'scrapes answered by both workers');
    });

    it('an opt-out recorded on one worker is enforced on the other within milliseconds', async (tc) => {
      const to = '+15553330001';
      const before = await onEveryWorker(() => screen(c.url, t, to));
      for (const r of before.values()) assert.equal(r.json.action, 'allow');
      const opt = await call(c.url, 'POST', '/v1/consent', { auth: t.auth, json: { recipient: to, kind: 'opt-out', evidence: 'STOP' } });
      assert.equal(opt.status, 201);
      const took = await untilEveryWorker(
        () => screen(c.url, t, to),
        (r) => r.json.action === 'block',
        2000,
      );
      assert.equal(took.size, 2, `blocked by workers ${[...took.keys()].join(', ')} only`);
      const other = [...took.entries()].find(([w]) => w !== opt.worker);
      assert.ok(other !== undefined && other[1] < 2000);
      tc.diagnostic(`opt-out on worker ${opt.worker}; blocked on worker ${other[0]} after ${other[1]} ms (catch-up poll: 5 s)`);
      // And the Twilio-compatible send is refused on both.
      const sends = await onEveryWorker(() => send(c.url, t, to));
      for (const r of sends.values()) assert.notEqual(r.status, 201);
    });

    it(`a per-customer send limit of ${LIMIT} admits exactly ${LIMIT} across both workers`, async (tc) => {
      const perWorker = (rs: Reply[]) => {
        const m: Record<string, number> = {};
        for (const r of rs) if (r.status === 201) m[r.worker] = (m[r.worker] ?? 0) + 1;
        return m;
      };
      // One after another (alternating workers): each worker admits some, together exactly LIMIT.
      const seq = await createTenant(c.url, 'limited-seq', sinkUrl);
      const one: Reply[] = [];
      for (let i = 0; i < 2 * LIMIT; i++) one.push(await send(c.url, seq, `+1555444${String(i).padStart(4, '0')}`));
      assert.equal(one.filter((r) => r.status === 201).length, LIMIT, `statuses ${one.map((r) => r.status).join(',')}`);
      assert.equal(one.filter((r) => r.status === 429).length, LIMIT);
      assert.equal(Object.keys(perWorker(one)).length, 2, `admitted per worker ${JSON.stringify(perWorker(one))}`);
      // All at once.
      const burst = await createTenant(c.url, 'limited-burst', sinkUrl);
      const all = await Promise.all(
        Array.from({ length: 3 * LIMIT }, (_, i) => send(c.url, burst, `+1555445${String(i).padStart(4, '0')}`)),
      );
      assert.equal(all.filter((r) => r.status === 201).length, LIMIT, `statuses ${all.map((r) => r.status).join(',')}`);
      assert.equal(all.filter((r) => r.status === 429).length, 2 * LIMIT);
      assert.equal(new Set(all.map((r) => r.worker)).size, 2, 'both workers took sends');
      tc.diagnostic(`admitted per worker: one by one ${JSON.stringify(perWorker(one))}, burst ${JSON.stringify(perWorker(all))}`);
    });

    it('a revoked credential is refused by both workers promptly', async (tc) => {
      const key = await call(c.url, 'POST', '/v1/admin/customers/acme/credentials', { auth: ADMIN, json: { kind: 'api-key' } });
      assert.equal(key.status, 201);
      const auth = 'Basic ' + Buffer.from(`${key.json.id as string}:${key.json.secret as string}`).toString('base64');
      const probe = () => call(c.url, 'GET', '/v1/consent/%2B15550000000', { auth });
      // Both workers verify it and cache the verification (TTL 30 s).
      for (const r of (await onEveryWorker(probe)).values()) assert.equal(r.status, 200);
      const del = await call(c.url, 'DELETE', `/v1/admin/credentials/${key.json.id as string}`, { auth: ADMIN });
      assert.equal(del.status, 204);
      const took = await untilEveryWorker(probe, (r) => r.status === 401, 2000);
      assert.equal(took.size, 2, `refused by workers ${[...took.keys()].join(', ')} only`);
      for (const [w, ms] of took) assert.ok(ms < 2000, `worker ${w} took ${ms} ms`);
      tc.diagnostic(`revoked on worker ${del.worker}; refused by ${JSON.stringify(Object.fromEntries(took))} (ms)`);
    });

    it('concurrent review settlements from both workers settle each message once and keep the audit chain intact', async (tc) => {
      const ht = await createTenant(c.url, 'held', sinkUrl);
      const held = await Promise.all(
        Array.from({ length: LIMIT - 2 }, (_, i) =>
          send(c.url, ht, `+1555666${String(i).padStart(4, '0')}`, "I know where you live. I'll f.i.n.d you and hurt you"),
        ),
      );
      for (const h of held) assert.equal(h.json.status, 'accepted', JSON.stringify(h.json));
      const sids = held.map((h) => h.json.sid as string);
      // Two settlements race for every message (one release, one refuse), on fresh connections.
      const settle = await Promise.all(
        sids.flatMap((sid, i) => [
          call(c.url, 'POST', `/v1/review/${sid}`, {
            auth: ADMIN,
            json: { action: i % 2 === 0 ? 'release' : 'refuse', actor: 'reviewer-a' },
          }),
          call(c.url, 'POST', `/v1/review/${sid}`, { auth: ADMIN, json: { action: 'refuse', actor: 'reviewer-b' } }),
        ]),
      );
      assert.equal(new Set(settle.map((r) => r.worker)).size, 2, 'both workers settled');
      for (let i = 0; i < sids.length; i++) {
        const pair = [settle[2 * i].status, settle[2 * i + 1].status].sort();
        assert.deepEqual(pair, [200, 409], `message ${sids[i]}: ${pair.join(',')}`);
      }
      const s = await openStores(b.config, { log: () => undefined });
      try {
        assert.equal(await s.audit.verify(), null, 'audit chain intact');
        const entries = await s.audit.list(0, 10_000);
        const settled = entries.filter((e) => e.action === 'review.release' || e.action === 'review.refuse');
        assert.equal(settled.length, sids.length, 'one audit entry per settled message');
        assert.deepEqual(
          entries.map((e) => e.seq),
          entries.map((_, i) => i + 1),
          'gapless seq',
        );
        tc.diagnostic(`${sids.length} messages settled once each from both workers; ${entries.length} audit entries verify`);
      } finally {
        await s.close();
      }
    });
  });
}

describe('warden serve --workers 2: lifecycle (SQLite)', { timeout: 120_000 }, () => {
  let c: Cluster;
  const dataDir = tempDataDir('cluster-life');
  before(async () => {
    c = await startCluster({ WARDEN_DATA_DIR: dataDir, WARDEN_HTTP_RATE_LIMIT: `${HTTP_LIMIT}/1m` });
  });
  after(async () => {
    if (c !== undefined) await stopCluster(c);
  });

  it(`a per-client HTTP limit of ${HTTP_LIMIT} a minute admits ${HTTP_LIMIT} across both workers (counted by the primary)`, async (tc) => {
    const t = await createTenant(c.url, 'http-limited', sinkUrl);
    const rs: Reply[] = [];
    for (let i = 0; i < HTTP_LIMIT + 10; i++) rs.push(await screen(c.url, t, `+1555448${String(i).padStart(4, '0')}`));
    const admitted = rs.filter((r) => r.status === 200);
    assert.equal(admitted.length, HTTP_LIMIT, `statuses ${rs.map((r) => r.status).join(',')}`);
    assert.deepEqual(
      rs.slice(HTTP_LIMIT).map((r) => r.status),
      Array(10).fill(429),
    );
    assert.equal(new Set(admitted.map((r) => r.worker)).size, 2, 'both workers admitted some');
    tc.diagnostic(
      `admitted by worker: ${JSON.stringify(admitted.reduce<Record<string, number>>((m, r) => ({ ...m, [r.worker]: (m[r.worker] ?? 0) + 1 }), {}))}`,
    );
  });

  it('a killed worker is restarted and serves again', async (tc) => {
    const seen = await onEveryWorker(() => call(c.url, 'GET', '/readyz'));
    const [victim] = [...seen.keys()];
    const pid = c.pids().get(victim);
    assert.ok(pid !== undefined);
    const t0 = Date.now();
    process.kill(pid, 'SIGKILL');
    const deadline = Date.now() + 30_000;
    let replacement: string | undefined;
    while (Date.now() < deadline && replacement === undefined) {
      try {
        const r = await call(c.url, 'GET', '/readyz');
        if (r.status === 200 && !seen.has(r.worker)) replacement = r.worker;
      } catch {
        // a connection may land on the dying worker
      }
      if (replacement === undefined) await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(replacement !== undefined, `no new worker answered:\n${c.output()}`);
    assert.match(c.output(), /worker died unexpectedly; restarting it/);
    const newPid = c.pids().get(replacement);
    assert.ok(newPid !== undefined && newPid !== pid);
    tc.diagnostic(`worker ${victim} (pid ${pid}) killed; worker ${replacement} (pid ${newPid}) serving after ${Date.now() - t0} ms`);
    await onEveryWorker(() => call(c.url, 'GET', '/readyz'));
  });

  it('SIGTERM drains every worker (requests in flight answered) and the primary exits 0', async (tc) => {
    const t = await createTenant(c.url, 'drain', sinkUrl);
    const agent = new Agent({ keepAlive: true, maxSockets: 32 });
    const optOut = (i: number, base: string) =>
      call(c.url, 'POST', '/v1/consent', {
        auth: t.auth,
        agent,
        json: { recipient: `+1777${base}${String(i).padStart(4, '0')}`, kind: 'opt-out' },
      });
    // Open the connections first (spread over both workers), then put requests in flight on them.
    const warm = await Promise.all(Array.from({ length: 32 }, (_, i) => optOut(i, '000')));
    assert.equal(new Set(warm.map((r) => r.worker)).size, 2);
    const inFlight = Array.from({ length: 32 }, (_, i) =>
      optOut(i, '100').then(
        (r) => r,
        (e: Error): Reply => ({ status: -1, worker: '', headers: {}, json: { error: e.message } }),
      ),
    );
    await new Promise((r) => setTimeout(r, 5));
    c.proc.kill('SIGTERM');
    const results = await Promise.all(inFlight);
    const exit = await c.exited;
    agent.destroy();
    assert.equal(exit.code, 0, `exit ${JSON.stringify(exit)}:\n${c.output()}`);
    assert.deepEqual(
      results.filter((r) => r.status === -1),
      [],
      'no request was cut off',
    );
    assert.ok(
      results.every((r) => r.status === 201 || r.status === 503),
      `statuses ${results.map((r) => r.status).join(',')}`,
    );
    const done = results.filter((r) => r.status === 201);
    const s = await openStores({ ...DEFAULT_CONFIG, dataDir }, { log: () => undefined });
    const stored = new Set((await s.consent.since(0, 100_000)).map((e) => e.recipient));
    await s.close();
    for (const r of done) assert.ok(stored.has(r.json.recipient as string));
    assert.equal((c.output().match(/"msg":"worker exited"/g) ?? []).length >= 2, true);
    tc.diagnostic(`SIGTERM with 32 requests in flight: ${done.length} answered 201, the rest 503, none cut off; exit 0`);
  });
});

describe('warden serve --workers: configuration', () => {
  it('--workers N with the demo sink is refused with a message saying why', async () => {
    const proc = spawn(
      process.execPath,
      [BIN, 'serve', '--workers', '2', '--port', String(await freePort()), '--data-dir', tempDataDir('cluster-demo')],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, WARDEN_LOG_LEVEL: 'warn' } },
    );
    let err = '';
    proc.stderr?.on('data', (d: Buffer) => {
      err += d.toString();
    });
    const code = await new Promise<number | null>((resolve) => proc.once('exit', resolve));
    assert.equal(code, 1);
    assert.match(err, /demo sink.*--no-sink/);
  });

  it('a start-up failure of the workers (port in use) ends the primary with exit 1', async () => {
    const { createServer } = await import('node:net');
    const busy = createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', () => r()));
    const port = (busy.address() as { port: number }).port;
    try {
      const proc = spawn(
        process.execPath,
        [
          BIN,
          'serve',
          '--workers',
          '2',
          '--no-sink',
          '--port',
          String(port),
          '--host',
          '127.0.0.1',
          '--data-dir',
          tempDataDir('cluster-busy'),
        ],
        { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, WARDEN_ADMIN_TOKEN: ADMIN_TOKEN, WARDEN_LOG_LEVEL: 'info' } },
      );
      let out = '';
      proc.stdout?.on('data', (d: Buffer) => {
        out += d.toString();
      });
      proc.stderr?.on('data', (d: Buffer) => {
        out += d.toString();
      });
      const code = await new Promise<number | null>((resolve) => proc.once('exit', resolve));
      assert.equal(code, 1, out);
      assert.match(out, /a worker failed to start; stopping/);
    } finally {
      busy.close();
    }
  });

  it('seedDemo is idempotent when several seeders race on the same stores', async () => {
    const { seedDemo } = await import('../../src/serve.js');
    const s = await openStores({ ...DEFAULT_CONFIG, dataDir: tempDataDir('seed') }, { log: () => undefined });
    try {
      const r = await Promise.all([
        seedDemo(s, 'http://127.0.0.1:1/sink', 'seed-test-sink-token'),
        seedDemo(s, 'http://127.0.0.1:1/sink', 'seed-test-sink-token'),
        seedDemo(s, 'http://127.0.0.1:1/sink', 'seed-test-sink-token'),
      ]);
      assert.ok(r.includes(true));
      assert.deepEqual(
        (await s.tenancy.listCustomers()).map((c) => c.id),
        ['demo'],
      );
      const { Authenticator } = await import('../../src/http/credentials.js');
      const auth = new Authenticator(s.tenancy);
      assert.equal((await auth.verify('AC00000000000000000000000000000001', 'demo-auth-token'))?.customer.id, 'demo');
      assert.equal((await auth.verify('SK00000000000000000000000000000001', 'demo-api-key-secret'))?.customer.id, 'demo');
      assert.equal(await seedDemo(s, 'http://127.0.0.1:1/sink', 'seed-test-sink-token'), false);
    } finally {
      await s.close();
    }
  });

  it('WARDEN_WORKERS / --workers take a number or auto; the default is 1', () => {
    assert.equal(loadConfig({}, []).workers, 1);
    assert.equal(loadConfig({ WARDEN_WORKERS: '3' }, []).workers, 3);
    assert.equal(loadConfig({ WARDEN_WORKERS: 'auto' }, []).workers, availableParallelism());
    assert.equal(loadConfig({ WARDEN_WORKERS: '3' }, ['--workers', '2']).workers, 2);
    assert.equal(loadConfig({}, ['--workers=auto']).workers, availableParallelism());
    assert.throws(() => loadConfig({ WARDEN_WORKERS: '0' }, []), /workers must be a positive integer or "auto"/);
    assert.throws(() => loadConfig({}, ['--workers', 'many']), /workers/);
  });
});

describe('cluster IPC (in process)', () => {
  /** Two fake workers wired to one PrimarySharedState, like cluster workers to their primary. */
  function wire(): { ipc: WorkerIpc[]; ports: Array<WorkerPort & { drop(): void }> } {
    const workers: Array<Worker & { port: EventEmitter }> = [];
    const shared = new PrimarySharedState(() => workers);
    const ports: Array<WorkerPort & { drop(): void }> = [];
    for (let id = 1; id <= 2; id++) {
      const toWorker = new EventEmitter();
      let connected = true;
      const w = {
        id,
        port: toWorker,
        isConnected: () => connected,
        send: (m: IpcMessage) => {
          setImmediate(() => toWorker.emit('message', m));
          return true;
        },
      } as unknown as Worker & { port: EventEmitter };
      workers.push(w);
      ports.push({
        get connected() {
          return connected;
        },
        send: (m) => {
          setImmediate(() => shared.handle(w, m));
          return true;
        },
        on: (_e, l) => toWorker.on('message', l),
        off: (_e, l) => toWorker.off('message', l),
        drop: () => {
          connected = false;
        },
      });
    }
    return { ipc: ports.map((p) => new WorkerIpc(p, 200)), ports };
  }

  it('counters taken from two workers are exact, and a worker cut off from the primary refuses', async () => {
    const { ipc, ports } = wire();
    const now = Date.now();
    const r = await Promise.all(Array.from({ length: 20 }, (_, i) => ipc[i % 2].counters.take('send:x', 7, 60_000, now)));
    assert.equal(r.filter((x) => x.allowed).length, 7);
    const many = await ipc[0].counters.takeMany(
      [
        { key: 'a', limit: 1, windowMs: 1000 },
        { key: 'a', limit: 1, windowMs: 1000 },
      ],
      now,
    );
    assert.deepEqual(
      many.map((x) => x.allowed),
      [true, false],
    );
    assert.equal((await ipc[0].counters.take('units', 10, 60_000, now, 6)).remaining, 4);
    assert.equal((await ipc[1].counters.take('units', 10, 60_000, now, 5)).allowed, false, 'units count across workers');
    ports[1].drop();
    const cut = await ipc[1].counters.take('fresh', 100, 1000, now);
    assert.equal(cut.allowed, false, 'fails closed');
    assert.equal(cut.failedClosed, true, 'and says so (the HTTP flood limit admits on an unknown count)');
    await Promise.all(ipc.map((i) => i.close()));
  });

  it('a change published by one worker reaches the other, and the publisher at once', async () => {
    const { ipc } = wire();
    const heard: string[] = [];
    ipc[0].changes.subscribe((topic, seq) => heard.push(`0:${topic}:${seq}`));
    ipc[1].changes.subscribe((topic, seq) => heard.push(`1:${topic}:${seq}`));
    await ipc[0].changes.publish('tenancy', 5);
    assert.deepEqual(heard, ['0:tenancy:5']);
    await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(heard, ['0:tenancy:5', '1:tenancy:5']);
    assert.equal(await ipc[1].sketches.addDistinct('k', 'a', 1000), 1);
    assert.equal(await ipc[0].sketches.addDistinct('k', 'b', 1000), 2);
    await Promise.all(ipc.map((i) => i.close()));
  });
});

describe('SQLite shared by several processes', () => {
  it(
    'four processes writing at once on a fresh database: migrations once, audit chain intact, sequences unique',
    { timeout: 60_000 },
    async (tc) => {
      const dataDir = tempDataDir('sqlite-multi');
      const script = new URL('./sqlite-writer.js', import.meta.url).pathname;
      const PER = 60;
      const outs = await Promise.all(
        ['1', '2', '3', '4'].map(
          (tag) =>
            new Promise<{ audit: number[]; consent: number[] }>((resolve, reject) => {
              const p = spawn(process.execPath, [script, dataDir, String(PER), tag], { stdio: ['ignore', 'pipe', 'pipe'] });
              let out = '';
              let err = '';
              p.stdout.on('data', (d: Buffer) => {
                out += d.toString();
              });
              p.stderr.on('data', (d: Buffer) => {
                err += d.toString();
              });
              p.once('exit', (code) =>
                code === 0
                  ? resolve(JSON.parse(out) as { audit: number[]; consent: number[] })
                  : reject(new Error(`writer ${tag} exited ${code}: ${err}`)),
              );
            }),
        ),
      );
      const audit = outs.flatMap((o) => o.audit);
      const consent = outs.flatMap((o) => o.consent);
      assert.equal(new Set(audit).size, 4 * PER, 'audit seqs unique');
      assert.equal(new Set(consent).size, 4 * PER, 'consent seqs unique');
      const s = await openStores({ ...DEFAULT_CONFIG, dataDir }, { log: () => undefined });
      try {
        assert.equal(await s.audit.verify(), null);
        assert.equal((await s.audit.list(0, 10_000)).length, 4 * PER);
        assert.deepEqual(
          (await s.consent.since(0, 10_000)).map((e) => e.seq).sort((a, b) => a - b),
          [...consent].sort((a, b) => a - b),
        );
      } finally {
        await s.close();
      }
      tc.diagnostic(`${4 * PER} audit entries and ${4 * PER} consent events from 4 processes; chain verifies`);
    },
  );
});
