// The primary process of `warden serve --workers N`. It serves no HTTP itself:
//   - before forking, it opens the stores once (migrations, the recipient-key meta row) and creates
//     the admin token file, so N workers starting together find everything in place;
//   - it forks N workers that share the listening port (node:cluster, round-robin accept);
//   - without Redis it holds the machine's counters and relays change notifications between the
//     workers (src/cluster/ipc.ts); with Redis the workers use Redis like separate nodes do;
//   - it restarts a worker that dies unexpectedly, with a backoff that grows while workers keep
//     dying soon after start; a worker that dies before any worker ever listened is a start-up
//     failure (configuration, port in use): the primary stops the others and exits 1;
//   - SIGTERM/SIGINT are forwarded to every worker, each drains (requests in flight answered,
//     keep-alive connections closed) and exits; the primary exits 0 when all exited 0.
//     SIGHUP is forwarded too (each worker reloads the rule pack).

import cluster, { type Worker } from 'node:cluster';
import { pino, type Logger } from 'pino';
import { loadConfig, describeConfig, type WardenConfig } from '../config.js';
import { openStores } from '../store/open-stores.js';
import { adminToken } from '../installation-tokens.js';
import { PrimarySharedState } from './ipc.js';
import { PrimaryMetrics } from './metrics.js';

export interface PrimaryOptions {
  /** Restart delay after the first unexpected exit (ms); doubles per quick death up to maxBackoffMs. */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** A worker that lived this long before dying resets the backoff (ms). */
  stableAfterMs?: number;
  /** Workers still running this long after SIGTERM are killed (ms). */
  shutdownTimeoutMs?: number;
}

/** What the primary needs of `warden serve`'s options (src/serve.ts ServeOptions has these). */
export interface PrimaryServeOptions {
  config?: WardenConfig;
  demo?: boolean;
  logger?: Logger | false;
}

export const DEMO_SINK_REFUSAL =
  'the built-in demo sink (/sink) keeps its messages in the memory of one process and cannot be shared ' +
  'by several workers: run `warden serve --workers N --no-sink` with customers whose upstream is a real API ' +
  '(or a separate sink), or run the demo with --workers 1';

// eslint-disable-next-line max-lines-per-function, limits/max-lines-per-function -- the primary's whole lifecycle (fork, restarts, signals, shutdown) reads best in one place
export async function runPrimary(opts: PrimaryServeOptions, p: PrimaryOptions = {}): Promise<void> {
  const config = opts.config ?? loadConfig();
  const n = config.workers;
  if (opts.demo ?? true) throw new Error(`--workers ${n}: ${DEMO_SINK_REFUSAL}`);
  const log: Logger = (
    opts.logger === false ? pino({ level: 'silent' }) : (opts.logger ?? pino({ level: config.logLevel ?? 'info' }))
  ).child({ role: 'primary' });
  const backoffMs = p.backoffMs ?? 100;
  const maxBackoffMs = p.maxBackoffMs ?? 10_000;
  const stableAfterMs = p.stableAfterMs ?? 10_000;
  const shutdownTimeoutMs = p.shutdownTimeoutMs ?? 60_000;

  const startedAt = new Map<number, number>();
  const listening = new Set<number>();
  const restartTimers = new Set<NodeJS.Timeout>();
  let quickDeaths = 0;
  // Signals first: a SIGTERM during preparation still ends the process cleanly.
  let stopping = false;
  let exitCode = 0;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal, workers: Object.keys(cluster.workers ?? {}).length }, 'shutting down: every worker finishes its requests in flight');
    for (const t of restartTimers) clearTimeout(t);
    restartTimers.clear();
    for (const w of live()) w.process.kill('SIGTERM');
    setTimeout(() => {
      log.error({ timeoutMs: shutdownTimeoutMs }, 'workers still running after the shutdown timeout: killing them');
      for (const w of live()) w.process.kill('SIGKILL');
      process.exit(1);
    }, shutdownTimeoutMs).unref();
    maybeDone();
  };
  const live = (): Worker[] => Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined && !w.isDead());
  const maybeDone = () => {
    // After the other 'exit' events of this turn, so that each worker's exit is logged.
    setImmediate(() => {
      if (stopping && live().length === 0) {
        log.info({ exitCode }, 'all workers exited');
        process.exit(exitCode);
      }
    });
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  process.on('SIGHUP', () => {
    for (const w of live()) w.process.kill('SIGHUP');
  });

  // One process prepares the stores (migrations, meta rows) and the admin token file.
  const prepared = await openStores(config, { log: (m) => log.info({ component: 'store' }, m) });
  const location = prepared.location;
  await prepared.close();
  if (config.adminToken === undefined) adminToken(config);
  if (stopping) {
    maybeDone();
    return;
  }

  const shared = config.redisUrl === undefined ? new PrimarySharedState(live) : null;
  const metrics = new PrimaryMetrics(live);
  cluster.on('message', (w, msg) => {
    if (!metrics.handle(w, msg)) shared?.handle(w, msg);
  });

  const fork = () => {
    const w = cluster.fork();
    startedAt.set(w.id, Date.now());
    log.info({ worker: w.id, workerPid: w.process.pid }, 'worker started');
  };
  let everListening = false;
  cluster.on('listening', (w) => {
    listening.add(w.id);
    everListening = true;
  });
  cluster.on('exit', (w, code, signal) => {
    const lived = Date.now() - (startedAt.get(w.id) ?? Date.now());
    startedAt.delete(w.id);
    const wasListening = listening.delete(w.id);
    if (stopping) {
      // A worker stopped by our SIGTERM before it listened (still loading) had nothing to drain.
      if (code !== 0 && !(signal === 'SIGTERM' && !wasListening)) exitCode = 1;
      log.info({ worker: w.id, workerPid: w.process.pid, code, signal }, 'worker exited');
      maybeDone();
      return;
    }
    if (!everListening && !wasListening) {
      // No worker has come up yet: a start-up failure (configuration, port in use) would only
      // repeat. Stop the others and fail, like a single `warden serve` would.
      log.fatal({ worker: w.id, workerPid: w.process.pid, code, signal }, 'a worker failed to start; stopping');
      exitCode = 1;
      stopping = true;
      for (const o of live()) o.process.kill('SIGTERM');
      maybeDone();
      return;
    }
    quickDeaths = lived >= stableAfterMs ? 0 : quickDeaths + 1;
    const delay = quickDeaths === 0 ? 0 : Math.min(maxBackoffMs, backoffMs * 2 ** (quickDeaths - 1));
    log.error(
      { worker: w.id, workerPid: w.process.pid, code, signal, livedMs: lived, restartInMs: delay },
      'worker died unexpectedly; restarting it',
    );
    const t = setTimeout(() => {
      restartTimers.delete(t);
      if (!stopping) fork();
    }, delay);
    restartTimers.add(t);
  });

  log.info({ ...describeConfig(config), store: location, shared: shared === null ? 'redis' : 'primary (ipc)' }, `starting ${n} workers`);
  for (let i = 0; i < n; i++) fork();
}
