// `warden serve`: configuration, stores, state projection, rule pack, HTTP gateway, listen.
// SIGTERM/SIGINT close gracefully: stop accepting, finish requests in flight, flush the decision
// log, then close the projection and the stores. SIGHUP reloads the rule pack, keeping the last
// good policy when the new one is refused. With `workers` > 1 the process becomes the primary of a
// node:cluster (src/cluster/primary.ts) and each worker runs startGateway on the shared port.

import cluster from 'node:cluster';
import type { FastifyInstance } from 'fastify';
import { pino, type Logger } from 'pino';
import { WorkerMetrics } from './cluster/metrics.js';
import { loadConfig, type WardenConfig } from './config.js';
import { adminToken, sinkToken } from './installation-tokens.js';
import { WorkerIpc } from './cluster/ipc.js';
import { openStores, type OpenedStores } from './store/open-stores.js';
import { StateProjection } from './state/projection.js';
import { startRetentionJob } from './store/retention.js';
import { loadPack } from './policy/load-pack.js';
import { ActivePolicy } from './policy/active-policy.js';
import { buildApp } from './http/app.js';
import { DEFAULT_OPTIONS, type GatewayOptions } from './http/gateway.js';
import { createCustomer, issueCredential, updateCustomer, type TenancyStores } from './http/admin/tenancy.js';

/** The documented demo tenant (README, docs/http-api.md). Only seeded when no customer exists. */
export const DEMO = {
  customer: 'demo',
  accountSid: 'AC00000000000000000000000000000001',
  authToken: 'demo-auth-token',
  apiKeySid: 'SK00000000000000000000000000000001',
  apiKeySecret: 'demo-api-key-secret',
  sender: '+15005550006',
} as const;

/**
 * Seeds the demo tenant when no customer exists; true when this call wrote any of it. Its
 * upstream is the sink at `sinkBaseUrl`, reached with `sinkToken`. Idempotent when several
 * processes seed the same stores at once: each step that another process completed first
 * (customer, auth token, API key) is taken as done, so every caller returns with the demo tenant
 * complete.
 */
export async function seedDemo(stores: TenancyStores, sinkBaseUrl: string, sinkToken: string): Promise<boolean> {
  if ((await stores.tenancy.listCustomers()).length > 0) return false;
  let wrote = false;
  const step = async (done: () => Promise<boolean>, run: () => Promise<unknown>) => {
    try {
      await run();
      wrote = true;
    } catch (e) {
      if (!(await done())) throw e;
    }
  };
  await step(
    async () => (await stores.tenancy.getCustomer(DEMO.customer)) !== null,
    () =>
      createCustomer(stores, {
        id: DEMO.customer,
        name: 'Demo customer',
        accountSid: DEMO.accountSid,
        upstream: { baseUrl: sinkBaseUrl, accountSid: DEMO.accountSid, authToken: sinkToken },
        senders: [DEMO.sender],
        settings: {
          stopReply: 'You are unsubscribed from Demo messages. Reply START to resubscribe.',
          helpReply: 'Demo messages: reply STOP to unsubscribe. Msg&data rates may apply.',
        },
      }),
  );
  const credential = (id: string) => async () => (await stores.tenancy.getCredential(id)) !== null;
  await step(credential(DEMO.accountSid), () => issueCredential(stores, DEMO.customer, { kind: 'auth-token', secret: DEMO.authToken }));
  await step(credential(DEMO.apiKeySid), () =>
    issueCredential(stores, DEMO.customer, { kind: 'api-key', id: DEMO.apiKeySid, secret: DEMO.apiKeySecret }),
  );
  return wrote;
}

/**
 * A demo customer seeded earlier (by a process with another sink token, or before the sink had
 * one) whose upstream is this process's own sink gets this sink's token: no other token opens it.
 */
async function renewDemoSinkToken(stores: TenancyStores, sinkBaseUrl: string, token: string, log: Logger): Promise<void> {
  const demo = await stores.tenancy.getCustomer(DEMO.customer);
  if (demo === null || demo.upstream.baseUrl !== sinkBaseUrl || demo.upstream.authToken === token) return;
  await updateCustomer(stores, DEMO.customer, { upstream: { authToken: token } });
  log.info({ customer: DEMO.customer }, "the demo customer's upstream now uses this sink's token");
}

export interface ServeOptions {
  config?: WardenConfig;
  packDir?: string;
  /** Mount the built-in sink upstream and seed the demo customer (the embedded default). */
  demo?: boolean;
  gateway?: Partial<GatewayOptions>;
  logger?: Logger | false;
  /** Port 0 picks a free one (tests). */
  port?: number;
}

export interface RunningGateway {
  app: FastifyInstance;
  /** The built-in sink's token (the demo customer's upstream auth token); null without the sink. */
  sinkToken: string | null;
  stores: OpenedStores;
  projection: StateProjection;
  url: string;
  reloadPack(): boolean;
  close(): Promise<void>;
}

// eslint-disable-next-line max-lines-per-function, limits/max-lines-per-function -- builds one node in dependency order in one place (stores, state, policy, gateway, app)
export async function startGateway(opts: ServeOptions = {}): Promise<RunningGateway> {
  const config = opts.config ?? loadConfig();
  const baseLog = opts.logger === false ? pino({ level: 'silent' }) : (opts.logger ?? pino({ level: config.logLevel ?? 'info' }));
  // A cluster worker (`warden serve --workers N`): every log line carries the worker id (and pino's pid).
  const worker = cluster.isWorker && cluster.worker !== undefined ? cluster.worker.id : undefined;
  const log = worker !== undefined ? baseLog.child({ worker }) : baseLog;
  const workers = worker !== undefined ? Math.max(1, config.workers) : 1;
  const active = new ActivePolicy(loadPack(opts.packDir).policy);
  // Without Redis, a worker takes counters and change notifications from the primary over IPC.
  // The PostgreSQL pool size is the machine's: the workers share it.
  const storeConfig = workers > 1 ? { ...config, poolSize: Math.max(2, Math.ceil(config.poolSize / workers)) } : config;
  const stores = await openStores(storeConfig, {
    log: (m) => log.info({ component: 'store' }, m),
    ...(worker !== undefined ? { machineShared: () => new WorkerIpc() } : {}),
  });
  const projection = new StateProjection(
    {
      consent: stores.consent,
      enforcement: stores.enforcement,
      changes: stores.changes,
      recipientSecret: stores.recipientSecret,
      onCommitted: (h) => stores.onCommitted(h),
    },
    { pollIntervalMs: config.pollIntervalMs, log: (m) => log.warn({ component: 'state' }, m) },
  );
  await projection.ready;
  const stopRetention = startRetentionJob(stores, config.retentionIntervalMs, (m) => log.info({ component: 'retention' }, m), {
    of: workers,
  });
  const demo = opts.demo ?? true;
  const sink = demo ? (opts.gateway?.sinkToken ?? sinkToken(config)) : undefined;
  let started = false;
  const port = opts.port ?? config.port;
  // The per-client HTTP rate limit (@fastify/rate-limit) counts in the stores' Counters whenever
  // they are shared (Redis: every node; --workers without Redis: the machine), reported in batches
  // (src/http/rate-limit-store.ts); a single process counts in its own memory.
  const configured =
    config.httpRateLimit === undefined
      ? undefined
      : config.httpRateLimit === false
        ? false
        : { max: config.httpRateLimit.limit, timeWindowMs: config.httpRateLimit.windowMs };
  const rateLimit = opts.gateway?.rateLimit ?? configured ?? DEFAULT_OPTIONS.rateLimit;
  const sharedRateLimit = stores.countersScope !== 'process';
  // A scrape of /metrics on a worker answers for the whole machine (src/cluster/metrics.ts).
  let workerMetrics: WorkerMetrics | null = null;
  const app = await buildApp(
    {
      stores,
      policy: () => active.policy,
      state: () => projection.snapshot(),
      // Ready once the demo tenant is seeded and the caller can install its signal handlers.
      ready: () => started && !projection.stale(),
      ...(worker !== undefined ? { clusterMetrics: () => workerMetrics?.scrape() ?? Promise.resolve(null) } : {}),
      options: {
        sink: demo,
        adminToken: adminToken(config),
        ...(config.publicUrl ? { publicUrl: config.publicUrl } : {}),
        ...(config.sendLimit !== undefined ? { customerSendLimit: config.sendLimit } : {}),
        ...(config.statusCallbackRetryMs !== undefined ? { statusCallbackRetryMs: config.statusCallbackRetryMs } : {}),
        ...(config.statusCallbackLeaseMs !== undefined ? { statusCallbackLeaseMs: config.statusCallbackLeaseMs } : {}),
        ...(config.egressAllow !== undefined ? { egressAllow: config.egressAllow } : {}),
        masking: { recipients: config.logRecipients ?? 'mask', bodies: config.logBodies ?? false },
        ...opts.gateway,
        ...(sink !== undefined ? { sinkToken: sink } : {}),
        rateLimit: rateLimit === false ? false : sharedRateLimit ? { ...rateLimit, shared: true } : rateLimit,
      },
    },
    { logger: log },
  );
  // Tenancy changes committed anywhere (another worker, another node) drop this process's
  // credential cache, so a revoked credential stops working everywhere within milliseconds
  // instead of at the end of the cache TTL. This process's own admin routes also clear it.
  stores.changes.subscribe((topic) => {
    if (topic === 'tenancy') app.gateway.tenancyChanged();
  });
  if (worker !== undefined) {
    workerMetrics = new WorkerMetrics(app.gateway.metrics.registry);
    // Which worker answered (tests and operators can see the load spread over the workers).
    const id = String(worker);
    app.addHook('onRequest', (_req, reply, done) => {
      reply.header('x-warden-worker', id);
      done();
    });
  }
  await app.listen({ port, host: config.host });
  const addr = app.server.address();
  const actualPort = typeof addr === 'object' && addr !== null ? addr.port : port;
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${actualPort}`;
  if (sink !== undefined && (await seedDemo(stores, `${url}/sink`, sink))) {
    log.info(
      { accountSid: DEMO.accountSid, authToken: DEMO.authToken, sender: DEMO.sender },
      'seeded the demo customer (see docs/http-api.md)',
    );
  } else if (sink !== undefined) {
    await renewDemoSinkToken(stores, `${url}/sink`, sink, log);
  }
  started = true;
  log.info({ url, policyVersion: active.policy.policyVersion, store: stores.kind }, 'warden gateway listening');
  let closing: Promise<void> | null = null;
  return {
    app,
    stores,
    projection,
    url,
    sinkToken: app.sink?.token ?? null,
    reloadPack: () => {
      const r = active.reload(() => loadPack(opts.packDir).policy);
      if (r.ok) log.info({ policyVersion: r.policyVersion }, 'rule pack reloaded');
      else log.error({ error: r.error }, 'rule pack refused; keeping the last good policy');
      return r.ok;
    },
    close: () => {
      closing ??= (async () => {
        // Fastify closes the keep-alive connections that are idle when shutdown starts; those
        // still serving a request become idle only after their response, so sweep them until the
        // server has closed, instead of waiting out the keep-alive timeout.
        const sweep = setInterval(() => app.server.closeIdleConnections(), 25);
        try {
          await app.close();
        } finally {
          clearInterval(sweep);
        }
        stopRetention();
        workerMetrics?.close();
        await projection.close();
        await stores.close();
      })();
      return closing;
    },
  };
}

/**
 * Runs until SIGTERM/SIGINT; used by the CLI. With `workers` > 1 this process becomes the cluster
 * primary (forks the workers, restarts them, shares counters and changes, forwards signals) and
 * each forked worker, running the same command, comes back here and runs one gateway.
 */
export async function serveForever(opts: ServeOptions = {}): Promise<void> {
  const config = opts.config ?? loadConfig();
  opts = { ...opts, config };
  if (config.workers > 1 && cluster.isPrimary) {
    const { runPrimary } = await import('./cluster/primary.js');
    return runPrimary(opts);
  }
  // Signal handlers go in before start-up, so a SIGTERM during start-up still shuts down cleanly.
  let running: RunningGateway | null = null;
  let stopping = false;
  const starting = startGateway(opts);
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    void starting.then(
      (r) => {
        r.app.log.info({ signal }, 'shutting down: finishing requests in flight');
        return r.close().then(
          () => process.exit(0),
          (e: unknown) => {
            r.app.log.error({ err: e }, 'shutdown failed');
            process.exit(1);
          },
        );
      },
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  // A worker whose primary is gone (killed) drains and exits rather than serve on alone.
  if (cluster.isWorker) process.once('disconnect', () => stop('primary exited'));
  process.on('SIGHUP', () => running?.reloadPack());
  running = await starting;
}
