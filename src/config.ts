// Node configuration: every setting is declared once here (file key, environment variable, flag,
// type, default, description, parser) and read only here: no other module reads process.env.
// Precedence: defaults < config file (warden.config.json) < environment < command line.
// The storage backend follows from it: a databaseUrl selects PostgreSQL (+ Redis when redisUrl is
// set); otherwise SQLite in dataDir with counters and the change channel in process.
// docs/configuration.md's settings table is rendered from SETTINGS (settingsTable) and checked
// against it by test/config-doc.test.ts, so the two cannot drift.

import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { availableParallelism, homedir } from 'node:os';
import { isIP } from 'node:net';

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
  /** CIDR ranges outbound requests may reach despite the egress policy; unset: none (docs/egress.md). */
  egressAllow?: string[];
  /**
   * Installation key that seals customers' auth tokens at rest (they sign relays to the apps);
   * at least 16 characters. Unset: generated once and kept in the store.
   */
  secretKey?: string;
  /** Password of the built-in sink upstream; unset: generated once into dataDir/sink-token. */
  sinkToken?: string;
  /** Bearer token of the admin API (WARDEN_ADMIN_TOKEN); unset: generated once into dataDir/admin-token. */
  adminToken?: string;
  /** URL at which providers reach this gateway (webhook signatures behind a proxy). */
  publicUrl?: string;
  /** pino log level of `warden serve` when no logger is given; unset: info. */
  logLevel?: string;
  /** Directory of the regex-safety verdict cache; unset: $XDG_CACHE_HOME/warden or ~/.cache/warden. */
  cacheDir?: string;
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

/** One setting: where it may be given, how it is parsed, and how it is documented. */
export interface Setting {
  key: keyof WardenConfig;
  env: string;
  flag?: string;
  /** Accepted as a key of the configuration file. */
  file: boolean;
  /** As documented: the form of the value. */
  type: string;
  /** As documented: the value when unset. */
  default: string;
  /** 'url': shown without its password; 'value': shown only as set or not. */
  secret?: 'url' | 'value';
  description: string;
  /** Parses one raw value (a string from the environment or a flag, any JSON from the file). */
  parse(value: unknown, origin: string): unknown;
}

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

function text(key: keyof WardenConfig) {
  return (value: unknown, origin: string): string => {
    if (typeof value !== 'string') throw new Error(`${origin}: ${key} must be a string`);
    return value;
  };
}

function count(key: keyof WardenConfig, min = 0) {
  return (value: unknown, origin: string): number => {
    const n = typeof value === 'number' ? value : Number(value);
    if (!Number.isInteger(n) || n < 0) throw new Error(`${origin}: ${key} must be a non-negative integer`);
    if (n < min) throw new Error(`${origin}: ${key} must be at least ${min}`);
    return n;
  };
}

function limit(key: 'sendLimit' | 'httpRateLimit') {
  return (value: unknown, origin: string): { limit: number; windowMs: number } | false => {
    if (key === 'httpRateLimit' && (value === 'off' || value === false)) return false;
    if (typeof value === 'string') return parseLimit(value, origin);
    const v = value as { limit?: unknown; windowMs?: unknown };
    if (typeof v !== 'object' || v === null || !Number.isInteger(v.limit) || !Number.isInteger(v.windowMs) || (v.windowMs as number) <= 0) {
      throw new Error(`${origin}: ${key} must be "N/window"${key === 'httpRateLimit' ? ', "off"' : ''} or {limit, windowMs}`);
    }
    return { limit: v.limit as number, windowMs: v.windowMs as number };
  };
}

/** An address range of the egress allow list (parsed here, where the setting is read; the egress policy uses it too). */
export interface Cidr {
  address: string;
  prefix: number;
  family: 'ipv4' | 'ipv6';
}

/** Parses "10.1.0.0/16", "fd00::/8" or a bare address (a /32 or /128); throws on anything else. */
export function parseCidr(text: string): Cidr {
  const t = text.trim();
  const slash = t.indexOf('/');
  const address = (slash < 0 ? t : t.slice(0, slash)).replace(/^\[(.*)\]$/, '$1');
  const version = isIP(address);
  if (version === 0) throw new Error(`"${text}" is not an IP address or CIDR range`);
  const max = version === 4 ? 32 : 128;
  const prefixText = slash < 0 ? String(max) : t.slice(slash + 1);
  if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > max) throw new Error(`"${text}": the prefix length must be 0-${max}`);
  return { address, prefix: Number(prefixText), family: version === 4 ? 'ipv4' : 'ipv6' };
}

export const SETTINGS: readonly Setting[] = [
  {
    key: 'dataDir',
    env: 'WARDEN_DATA_DIR',
    flag: '--data-dir',
    file: true,
    type: 'path',
    default: '`./warden-data`',
    description: 'Directory of the embedded SQLite database (created on first start).',
    parse: text('dataDir'),
  },
  {
    key: 'databaseUrl',
    env: 'WARDEN_DATABASE_URL',
    flag: '--database-url',
    file: true,
    type: '`postgres://` URL',
    default: 'unset: SQLite',
    secret: 'url',
    description: 'Durable state in PostgreSQL instead of SQLite.',
    parse: text('databaseUrl'),
  },
  {
    key: 'redisUrl',
    env: 'WARDEN_REDIS_URL',
    flag: '--redis-url',
    file: true,
    type: '`redis://` URL',
    default: 'unset: in process',
    secret: 'url',
    description: 'Shared counters and change channel (required with several nodes).',
    parse: text('redisUrl'),
  },
  {
    key: 'port',
    env: 'WARDEN_PORT',
    flag: '--port',
    file: true,
    type: 'integer',
    default: '`8080`',
    description: 'Listen port.',
    parse: count('port'),
  },
  {
    key: 'host',
    env: 'WARDEN_HOST',
    flag: '--host',
    file: true,
    type: 'address',
    default: '`127.0.0.1`',
    description: 'Listen address.',
    parse: text('host'),
  },
  {
    key: 'recipientKeySecret',
    env: 'WARDEN_RECIPIENT_KEY',
    file: true,
    type: 'string',
    default: 'unset: generated once and kept in the store',
    secret: 'value',
    description: 'HMAC key for recipients stored as keyed hashes; the same on every node.',
    parse: text('recipientKeySecret'),
  },
  {
    key: 'databaseSchema',
    env: 'WARDEN_DATABASE_SCHEMA',
    file: true,
    type: 'SQL identifier',
    default: '`public`',
    description: "PostgreSQL schema holding Warden's tables (one database can host several installations).",
    parse: text('databaseSchema'),
  },
  {
    key: 'redisPrefix',
    env: 'WARDEN_REDIS_PREFIX',
    file: true,
    type: 'string',
    default: '`warden:`',
    description: 'Prefix of every Redis key and channel Warden uses.',
    parse: text('redisPrefix'),
  },
  {
    key: 'poolSize',
    env: 'WARDEN_POOL_SIZE',
    flag: '--pool-size',
    file: true,
    type: 'integer',
    default: '`10`',
    description: 'PostgreSQL connections per machine; `--workers N` splits them between the workers (at least 2 each).',
    parse: count('poolSize'),
  },
  {
    key: 'pollIntervalMs',
    env: 'WARDEN_POLL_INTERVAL_MS',
    file: true,
    type: 'integer (ms)',
    default: '`1000`',
    description: 'How often each node re-reads new events even without a change notification.',
    parse: count('pollIntervalMs'),
  },
  {
    key: 'retentionIntervalMs',
    env: 'WARDEN_RETENTION_INTERVAL_MS',
    file: true,
    type: 'integer (ms)',
    default: '`3600000`',
    description: 'Retention job interval; 0 disables it.',
    parse: count('retentionIntervalMs'),
  },
  {
    key: 'sendLimit',
    env: 'WARDEN_SEND_LIMIT',
    file: true,
    type: '`N/window`',
    default: 'unset: no limit',
    description: 'Sends per customer per window, shared by every node (`100/1s`, `6000/1m`).',
    parse: limit('sendLimit'),
  },
  {
    key: 'httpRateLimit',
    env: 'WARDEN_HTTP_RATE_LIMIT',
    file: true,
    type: '`N/window` or `off`',
    default: '`100000/1m`',
    description:
      'Requests per client (credential, else IP) per window on the HTTP API; counted across every node when Redis is configured.',
    parse: limit('httpRateLimit'),
  },
  {
    key: 'workers',
    env: 'WARDEN_WORKERS',
    flag: '--workers',
    file: true,
    type: 'integer or `auto`',
    default: '`1`',
    description: 'Gateway processes on this machine sharing the port; `auto` is one per core; more than 1 needs `--no-sink`.',
    parse: (value, origin) => {
      if (value === 'auto') return availableParallelism();
      const n = typeof value === 'number' ? value : Number(value);
      if (!Number.isInteger(n) || n < 1 || n > 1024) throw new Error(`${origin}: workers must be a positive integer or "auto"`);
      return n;
    },
  },
  {
    key: 'statusCallbackRetryMs',
    env: 'WARDEN_STATUS_CALLBACK_RETRY',
    file: true,
    type: 'durations or `off`',
    default: '`2s,20s,2m`',
    description:
      'Waits before each new attempt at a status callback Warden owes an app (a held message released or refused); `off`: one attempt only.',
    parse: (value, origin) => {
      if (value === 'off') return [];
      const list: unknown = typeof value === 'string' ? value.split(',').map((x) => parseDuration(x, origin)) : value;
      if (!Array.isArray(list) || list.length > 20 || !list.every((x) => Number.isInteger(x) && (x as number) >= 0)) {
        throw new Error(`${origin}: statusCallbackRetryMs must be durations such as "2s,20s,2m", "off", or up to 20 milliseconds`);
      }
      return list;
    },
  },
  {
    // Shorter than an attempt can take, a lease would let a second node post the same callback.
    key: 'statusCallbackLeaseMs',
    env: 'WARDEN_STATUS_CALLBACK_LEASE_MS',
    file: true,
    type: 'integer (ms), ≥ 1000',
    default: '`30000`',
    description: 'How long a node holds a status callback it is attempting before another may take it.',
    parse: count('statusCallbackLeaseMs', 1000),
  },
  {
    key: 'logRecipients',
    env: 'WARDEN_LOG_RECIPIENTS',
    file: true,
    type: '`mask`, `hash` or `full`',
    default: '`mask`',
    description: 'How recipient and sender numbers appear in decision log lines.',
    parse: (value, origin) => {
      if (value !== 'mask' && value !== 'hash' && value !== 'full')
        throw new Error(`${origin}: logRecipients must be "mask", "hash" or "full"`);
      return value;
    },
  },
  {
    key: 'logBodies',
    env: 'WARDEN_LOG_BODIES',
    file: true,
    type: 'boolean',
    default: '`false`',
    description: 'Whether decision log lines carry message bodies (otherwise only their length).',
    parse: (value, origin) => {
      if (value === true || value === 'true' || value === '1' || value === 'yes') return true;
      if (value === false || value === 'false' || value === '0' || value === 'no') return false;
      throw new Error(`${origin}: logBodies must be true or false`);
    },
  },
  {
    key: 'egressAllow',
    env: 'WARDEN_EGRESS_ALLOW',
    file: true,
    type: 'list of CIDR ranges or addresses',
    default: 'empty',
    description: 'CIDR ranges outbound requests may reach despite the egress policy (loopback, private, link-local are denied otherwise).',
    parse: (value, origin) => {
      const list: unknown =
        typeof value === 'string'
          ? value
              .split(',')
              .map((x) => x.trim())
              .filter((x) => x !== '')
          : value;
      if (!Array.isArray(list) || !list.every((x) => typeof x === 'string'))
        throw new Error(`${origin}: egressAllow must be CIDR ranges such as "10.0.0.0/8,fd00::/8"`);
      for (const x of list as string[]) {
        try {
          parseCidr(x);
        } catch (e) {
          throw new Error(`${origin}: egressAllow: ${(e as Error).message}`, { cause: e });
        }
      }
      return (list as string[]).map((x) => x.trim());
    },
  },
  {
    key: 'secretKey',
    env: 'WARDEN_SECRET_KEY',
    file: true,
    type: 'string, ≥ 16 characters',
    default: 'unset: generated once and kept in the store',
    secret: 'value',
    description:
      "Installation key that seals customers' auth tokens at rest (AES-256-GCM), so relays to their apps can be signed with them.",
    parse: (value, origin) => {
      if (typeof value !== 'string' || value.length < 16)
        throw new Error(`${origin}: secretKey must be a string of at least 16 characters`);
      return value;
    },
  },
  {
    key: 'sinkToken',
    env: 'WARDEN_SINK_TOKEN',
    file: false,
    type: 'string',
    default: 'generated once into `<dataDir>/sink-token`',
    secret: 'value',
    description: "Password of the built-in sink upstream (the demo customers' upstream auth token).",
    parse: text('sinkToken'),
  },
  {
    key: 'configFile',
    env: 'WARDEN_CONFIG',
    flag: '--config',
    file: false,
    type: 'path',
    default: '`warden.config.json` if present',
    description: 'The configuration file.',
    parse: text('configFile'),
  },
  {
    key: 'adminToken',
    env: 'WARDEN_ADMIN_TOKEN',
    file: false,
    type: 'string',
    default: 'generated once into `<dataDir>/admin-token`',
    secret: 'value',
    description: 'Bearer token of the admin API; the same on every node.',
    parse: text('adminToken'),
  },
  {
    key: 'publicUrl',
    env: 'WARDEN_PUBLIC_URL',
    flag: '--public-url',
    file: false,
    type: 'URL',
    default: 'unset',
    description: 'URL at which providers reach this gateway (webhook signatures behind a proxy).',
    parse: text('publicUrl'),
  },
  {
    key: 'logLevel',
    env: 'WARDEN_LOG_LEVEL',
    file: false,
    type: 'pino level',
    default: '`info`',
    description: 'Log level of `warden serve`.',
    parse: text('logLevel'),
  },
  {
    key: 'cacheDir',
    env: 'WARDEN_CACHE_DIR',
    file: false,
    type: 'path',
    default: '`$XDG_CACHE_HOME/warden` or `~/.cache/warden`',
    description: 'Where the regex-safety verdicts are cached.',
    parse: text('cacheDir'),
  },
];

const BY_KEY = new Map(SETTINGS.map((s) => [s.key, s]));
const BY_FLAG = new Map(SETTINGS.filter((s) => s.flag !== undefined).map((s) => [s.flag as string, s]));

function set(target: Partial<WardenConfig>, setting: Setting, value: unknown, origin: string): void {
  if (value === undefined || value === '') return;
  (target as Record<string, unknown>)[setting.key] = setting.parse(value, origin);
}

/**
 * Reads the configuration. `argv` may hold any declared flag (`--data-dir`, `--database-url`,
 * `--redis-url`, `--port`, `--host`, `--pool-size`, `--workers`, `--public-url`, `--config <file>`;
 * both `--k v` and `--k=v`); other arguments are ignored.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, argv: string[] = []): WardenConfig {
  const fromArgv: Partial<WardenConfig> = {};
  let configPath: string | undefined = env.WARDEN_CONFIG;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const eq = arg.indexOf('=');
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const take = () => (eq > 0 ? arg.slice(eq + 1) : argv[++i]);
    const setting = BY_FLAG.get(flag);
    if (setting?.key === 'configFile') configPath = take();
    else if (setting !== undefined) set(fromArgv, setting, take(), flag);
  }

  const fromFile: Partial<WardenConfig> = {};
  const filePath = resolve(configPath ?? 'warden.config.json');
  if (existsSync(filePath)) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(filePath, 'utf8'));
    } catch (e) {
      throw new Error(`config file ${filePath}: ${(e as Error).message}`, { cause: e });
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
      throw new Error(`config file ${filePath}: expected an object`);
    for (const [k, v] of Object.entries(parsed)) {
      const setting = BY_KEY.get(k as keyof WardenConfig);
      if (setting === undefined || !setting.file) throw new Error(`config file ${filePath}: unknown key "${k}"`);
      set(fromFile, setting, v, `config file ${filePath}`);
    }
  } else if (configPath !== undefined) {
    throw new Error(`config file ${filePath} not found`);
  }

  const fromEnv: Partial<WardenConfig> = {};
  for (const setting of SETTINGS) if (setting.key !== 'configFile') set(fromEnv, setting, env[setting.env], setting.env);

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

/** The configuration of this process: its environment and the given command-line flags. */
export function processConfig(argv: string[] = []): WardenConfig {
  return loadConfig(process.env, argv);
}

/**
 * Directory of the regex-safety verdict cache (`cacheDir`). Read where the cache is used, since
 * packs are loaded by every command, most of which have no node configuration.
 */
export function regexCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.WARDEN_CACHE_DIR ?? join(env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'warden');
}

/** The operating-system user, the default actor of CLI erasures in the audit log. */
export function osUser(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return env.USER;
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

/**
 * Every declared setting with its effective value, for `warden config`: secrets masked (a URL
 * without its password, a secret value as "(set)"), unset ones as null.
 */
export function effectiveConfig(c: WardenConfig): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const s of SETTINGS) {
    const v = c[s.key];
    out[s.key] = v === undefined ? null : s.secret === 'url' ? redactUrl(v as string) : s.secret === 'value' ? '(set)' : v;
  }
  out.cacheDir ??= regexCacheDir();
  return out;
}

/** docs/configuration.md's settings table, rendered from SETTINGS. */
export function settingsTable(): string {
  const rows = SETTINGS.map((s) => {
    const cells = [
      s.file ? `\`${s.key}\`` : '',
      `\`${s.env}\``,
      s.flag !== undefined ? `\`${s.flag}\`` : '',
      s.secret !== undefined ? `${s.type} (secret)` : s.type,
      s.default,
      s.description,
    ];
    return `| ${cells.join(' | ')} |`;
  });
  return ['| file key | environment | flag | type | default | description |', '|---|---|---|---|---|---|', ...rows].join('\n') + '\n';
}
