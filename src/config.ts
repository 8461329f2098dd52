// Node configuration: defaults < config file (warden.config.json) < environment < command line.
// The storage backend follows from it: a databaseUrl selects PostgreSQL (+ Redis when redisUrl is
// set); otherwise SQLite in dataDir with counters and the change channel in process.

import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { availableParallelism } from 'node:os';
import { parseCidr } from './http/egress/egress-policy.js';

export interface WardenConfig {
  /** Directory of the embedded SQLite database (created on first start). */
  dataDir: string;
  /** postgres://… : durable state in PostgreSQL instead of SQLite. */
  databaseUrl?: string;
  /** redis://… : shared counters and change channel (required with several nodes). */
  redisUrl?: string;
  port: number;
  host: string;
  /** HMAC key for recipients stored as keyed hashes. Absent: generated once and kept in the store. */
  recipientKeySecret?: string;
  /**
   * Installation key sealing the secrets Warden must read back (customers' auth tokens, which sign
   * the relays to their apps), at least 16 characters (WARDEN_SECRET_KEY). Absent: generated once
   * and kept in the store; set it to keep the key out of a database dump.
   */
  secretKey?: string;
  /** PostgreSQL schema holding Warden's tables (one database can host several installations). */
  databaseSchema: string;
  /** Prefix of every Redis key and channel Warden uses. */
  redisPrefix: string;
  /** PostgreSQL connections per node (machine); `--workers N` splits them between the workers (at least 2 each). */
  poolSize: number;
  /** How often each node re-reads new events even without a change notification (ms). */
  pollIntervalMs: number;
  /** Retention job interval (ms); 0 disables it. */
  retentionIntervalMs: number;
  /** Sends per customer per window, shared by every node (WARDEN_SEND_LIMIT="100/1s", "6000/1m"). */
  sendLimit?: { limit: number; windowMs: number };
  /**
   * Requests per client (credential, else IP) per window on the HTTP API (WARDEN_HTTP_RATE_LIMIT=
   * "100000/1m", "off"); unset: the gateway's default. Counted across every node when Redis is configured.
   */
  httpRateLimit?: { limit: number; windowMs: number } | false;
  /**
   * Gateway processes on this machine (node:cluster workers sharing the port); 1 runs the gateway
   * in the main process as before. "auto" in the environment, file or flag means one per core.
   */
  workers: number;
  /**
   * Waits before each new attempt at a status callback Warden owes an app (a held message released
   * or refused) whose attempt failed (WARDEN_STATUS_CALLBACK_RETRY="2s,20s,2m", "off" for one
   * attempt only); unset: 2 s, 20 s, 120 s.
   */
  statusCallbackRetryMs?: number[];
  /** How long a node holds a status callback it is attempting before another may take it (ms); unset: 30,000. */
  statusCallbackLeaseMs?: number;
  /**
   * How recipient and sender numbers appear in decision log lines (WARDEN_LOG_RECIPIENTS): "mask"
   * (+14*******00, the default), "hash" (keyed with the recipient key, so lines of one number can be
   * correlated without showing it) or "full".
   */
  logRecipients?: 'mask' | 'hash' | 'full';
  /** Whether decision log lines carry message bodies (WARDEN_LOG_BODIES=true); default: only their length. */
  logBodies?: boolean;
  /**
   * Ranges outbound requests may reach although the egress policy denies them (loopback, private,
   * link-local, ...): WARDEN_EGRESS_ALLOW="10.20.0.0/16,fd00::/8", or a list in the file. Unset:
   * none (docs/egress.md).
   */
  egressAllow?: string[];
  /** Where the configuration file was read from, if any. */
  configFile?: string;
}

export const DEFAULT_CONFIG: WardenConfig = {
  dataDir: './warden-data',
  port: 8080,
  host: '127.0.0.1',
  databaseSchema: 'public',
  redisPrefix: 'warden:',
  poolSize: 10,
  pollIntervalMs: 1000,
  retentionIntervalMs: 3_600_000,
  workers: 1,
};

type Partial_ = Partial<WardenConfig>;

const ENV: Record<string, keyof WardenConfig> = {
  WARDEN_DATA_DIR: 'dataDir',
  WARDEN_DATABASE_URL: 'databaseUrl',
  WARDEN_REDIS_URL: 'redisUrl',
  WARDEN_PORT: 'port',
  WARDEN_HOST: 'host',
  WARDEN_RECIPIENT_KEY: 'recipientKeySecret',
  WARDEN_SECRET_KEY: 'secretKey',
  WARDEN_DATABASE_SCHEMA: 'databaseSchema',
  WARDEN_REDIS_PREFIX: 'redisPrefix',
  WARDEN_POOL_SIZE: 'poolSize',
  WARDEN_POLL_INTERVAL_MS: 'pollIntervalMs',
  WARDEN_SEND_LIMIT: 'sendLimit',
  WARDEN_HTTP_RATE_LIMIT: 'httpRateLimit',
  WARDEN_RETENTION_INTERVAL_MS: 'retentionIntervalMs',
  WARDEN_WORKERS: 'workers',
  WARDEN_STATUS_CALLBACK_RETRY: 'statusCallbackRetryMs',
  WARDEN_STATUS_CALLBACK_LEASE_MS: 'statusCallbackLeaseMs',
  WARDEN_LOG_RECIPIENTS: 'logRecipients',
  WARDEN_LOG_BODIES: 'logBodies',
  WARDEN_EGRESS_ALLOW: 'egressAllow',
};

const FLAGS: Record<string, keyof WardenConfig> = {
  '--data-dir': 'dataDir',
  '--database-url': 'databaseUrl',
  '--redis-url': 'redisUrl',
  '--port': 'port',
  '--host': 'host',
  '--pool-size': 'poolSize',
  '--workers': 'workers',
};

/** Parses "N/window" with the window in ms, s, m or h ("100/1s", "6000/1m", "500/250ms"). */
export function parseLimit(text: string, origin = 'limit'): { limit: number; windowMs: number } {
  const m = /^\s*(\d+)\s*\/\s*(\d+(?:\.\d+)?)?\s*(ms|s|m|h)\s*$/.exec(text);
  if (m === null) throw new Error(`${origin}: expected N/window such as 100/1s or 6000/1m, got "${text}"`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[3] as 'ms' | 's' | 'm' | 'h'];
  const windowMs = Math.round(Number(m[2] ?? '1') * unit);
  if (windowMs <= 0) throw new Error(`${origin}: the window must be positive`);
  return { limit: Number(m[1]), windowMs };
}

/** Parses a duration: "250ms", "2s", "2m", "1h" (a bare number is milliseconds). */
export function parseDuration(text: string, origin = 'duration'): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(text);
  if (m === null) throw new Error(`${origin}: expected a duration such as 500ms, 2s or 2m, got "${text}"`);
  return Math.round(Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? 'ms') as 'ms' | 's' | 'm' | 'h']);
}

const NUMERIC = new Set<keyof WardenConfig>(['port', 'poolSize', 'pollIntervalMs', 'retentionIntervalMs', 'statusCallbackLeaseMs']);

function coerce(key: keyof WardenConfig, value: unknown, origin: string): unknown {
  if (key === 'logRecipients') {
    if (value !== 'mask' && value !== 'hash' && value !== 'full') throw new Error(`${origin}: logRecipients must be "mask", "hash" or "full"`);
    return value;
  }
  if (key === 'logBodies') {
    if (value === true || value === 'true' || value === '1' || value === 'yes') return true;
    if (value === false || value === 'false' || value === '0' || value === 'no') return false;
    throw new Error(`${origin}: logBodies must be true or false`);
  }
  if (key === 'egressAllow') {
    const list = typeof value === 'string' ? value.split(',').map((x) => x.trim()).filter((x) => x !== '') : value;
    if (!Array.isArray(list) || !list.every((x) => typeof x === 'string')) throw new Error(`${origin}: egressAllow must be CIDR ranges such as "10.0.0.0/8,fd00::/8"`);
    for (const x of list) {
      try {
        parseCidr(x as string);
      } catch (e) {
        throw new Error(`${origin}: egressAllow: ${(e as Error).message}`, { cause: e });
      }
    }
    return (list as string[]).map((x) => x.trim());
  }
  if (key === 'statusCallbackRetryMs') {
    if (value === 'off') return [];
    const list = typeof value === 'string' ? value.split(',').map((x) => parseDuration(x, origin)) : value;
    if (!Array.isArray(list) || list.length > 20 || !list.every((x) => Number.isInteger(x) && x >= 0)) {
      throw new Error(`${origin}: statusCallbackRetryMs must be durations such as "2s,20s,2m", "off", or up to 20 milliseconds`);
    }
    return list;
  }
  if (key === 'sendLimit' || key === 'httpRateLimit') {
    if (key === 'httpRateLimit' && (value === 'off' || value === false)) return false;
    if (typeof value === 'string') return parseLimit(value, origin);
    const v = value as { limit?: unknown; windowMs?: unknown };
    if (typeof v !== 'object' || v === null || !Number.isInteger(v.limit) || !Number.isInteger(v.windowMs) || (v.windowMs as number) <= 0) {
      throw new Error(`${origin}: ${key} must be "N/window"${key === 'httpRateLimit' ? ', "off"' : ''} or {limit, windowMs}`);
    }
    return { limit: v.limit, windowMs: v.windowMs };
  }
  if (key === 'workers') {
    if (value === 'auto') return availableParallelism();
    const n = typeof value === 'number' ? value : Number(value);
    if (!Number.isInteger(n) || n < 1 || n > 1024) throw new Error(`${origin}: workers must be a positive integer or "auto"`);
    return n;
  }
  if (key === 'secretKey' && (typeof value !== 'string' || value.length < 16)) throw new Error(`${origin}: secretKey must be a string of at least 16 characters`);
  if (!NUMERIC.has(key)) {
    if (typeof value !== 'string') throw new Error(`${origin}: ${key} must be a string`);
    return value;
  }
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${origin}: ${key} must be a non-negative integer`);
  // Shorter than an attempt can take, a lease would let a second node post the same callback.
  if (key === 'statusCallbackLeaseMs' && n < 1000) throw new Error(`${origin}: statusCallbackLeaseMs must be at least 1000`);
  return n;
}

function set(target: Partial_, key: keyof WardenConfig, value: unknown, origin: string): void {
  if (value === undefined || value === '') return;
  (target as Record<string, unknown>)[key] = coerce(key, value, origin);
}

/**
 * Reads the configuration. `argv` may hold `--data-dir`, `--database-url`, `--redis-url`,
 * `--port`, `--host`, `--pool-size`, `--workers` and `--config <file>` (both `--k v` and `--k=v`).
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, argv: string[] = []): WardenConfig {
  const fromArgv: Partial_ = {};
  let configPath: string | undefined = env.WARDEN_CONFIG;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const eq = arg.indexOf('=');
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const take = () => (eq > 0 ? arg.slice(eq + 1) : argv[++i]);
    if (flag === '--config') configPath = take();
    else if (FLAGS[flag] !== undefined) set(fromArgv, FLAGS[flag], take(), flag);
  }

  const fromFile: Partial_ = {};
  const filePath = resolve(configPath ?? 'warden.config.json');
  if (existsSync(filePath)) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(filePath, 'utf8'));
    } catch (e) {
      throw new Error(`config file ${filePath}: ${(e as Error).message}`, { cause: e });
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error(`config file ${filePath}: expected an object`);
    for (const [k, v] of Object.entries(parsed)) {
      if (!(k in DEFAULT_CONFIG) && !['databaseUrl', 'redisUrl', 'recipientKeySecret', 'secretKey', 'sendLimit', 'httpRateLimit', 'statusCallbackRetryMs', 'statusCallbackLeaseMs', 'logRecipients', 'logBodies', 'egressAllow'].includes(k)) {
        throw new Error(`config file ${filePath}: unknown key "${k}"`);
      }
      set(fromFile, k as keyof WardenConfig, v, `config file ${filePath}`);
    }
  } else if (configPath !== undefined) {
    throw new Error(`config file ${filePath} not found`);
  }

  const fromEnv: Partial_ = {};
  for (const [name, key] of Object.entries(ENV)) set(fromEnv, key, env[name], name);

  const config: WardenConfig = { ...DEFAULT_CONFIG, ...fromFile, ...fromEnv, ...fromArgv };
  if (existsSync(filePath)) config.configFile = filePath;
  if (config.databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(config.databaseUrl)) {
    throw new Error('databaseUrl must start with postgres:// or postgresql://');
  }
  if (config.redisUrl !== undefined && !/^rediss?:\/\//.test(config.redisUrl)) {
    throw new Error('redisUrl must start with redis:// or rediss://');
  }
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(config.databaseSchema)) throw new Error('databaseSchema must be a lower-case SQL identifier');
  return config;
}

/** Hides the password of a connection URL, for logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    return u.toString();
  } catch {
    return '<unparseable url>';
  }
}

/** The configuration as it may be logged: no secrets. */
export function describeConfig(c: WardenConfig): Record<string, unknown> {
  return {
    storage: c.databaseUrl !== undefined ? 'postgres' : 'sqlite',
    dataDir: c.databaseUrl !== undefined ? undefined : c.dataDir,
    databaseUrl: c.databaseUrl !== undefined ? redactUrl(c.databaseUrl) : undefined,
    redisUrl: c.redisUrl !== undefined ? redactUrl(c.redisUrl) : undefined,
    host: c.host,
    port: c.port,
    recipientKeySecret: c.recipientKeySecret !== undefined ? '(set)' : '(from store)',
    secretKey: c.secretKey !== undefined ? '(set)' : '(from store)',
    workers: c.workers,
    logRecipients: c.logRecipients ?? 'mask',
    logBodies: c.logBodies ?? false,
    egressAllow: c.egressAllow ?? [],
    configFile: c.configFile,
  };
}
