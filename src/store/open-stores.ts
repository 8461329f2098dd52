// Opens the storage layer chosen by configuration:
//   databaseUrl unset  -> SQLite in dataDir (created on first start), counters and channel in process
//   databaseUrl set    -> PostgreSQL (pooled); with redisUrl, counters and change channel in Redis
// In a worker of `warden serve --workers N` without Redis, counters, sketches and the change
// channel are the primary process's, reached over the cluster IPC channel: the caller passes
// them in (machineShared; src/cluster/ipc.ts), so the stores do not depend on the cluster.
// Appends of consent and enforcement events are announced after commit: to this node's projection
// synchronously (before the caller is acknowledged) and to every node through the change channel.

import type {
  ChangeChannel,
  ChangeTopic,
  ConsentEvent,
  Counters,
  DataStore,
  DurableStores,
  EnforcementEvent,
  Sketches,
  Stores,
} from './types.js';
import type { WardenConfig } from '../config.js';
import { openSqliteDatabase, SqliteStores } from './sqlite/sqlite-stores.js';
import { MemoryChangeChannel, MemoryCounters, MemorySketches } from './memory/memory-counters.js';
import { redactUrl } from '../config.js';
import { newRecipientSecret } from './recipient-key.js';
import { newInstallationKey, SecretBox } from './secret-box.js';

export type CommittedHandler = (topic: ChangeTopic, event: ConsentEvent | EnforcementEvent) => void;

/** Who shares this process's `Counters`: itself, every worker of this machine, or every node (Redis). */
export type CountersScope = 'process' | 'machine' | 'cluster';

/** The store set a node runs on: the contract stores plus what opening them adds. */
export interface OpenedStores extends Stores {
  data: DataStore;
  sketches: Sketches;
  /** HMAC key for recipients stored hashed (from config, or generated once and kept in the store). */
  recipientSecret: string;
  /** Seals secrets Warden must be able to read back (auth tokens for signing relays) under the installation key. */
  secrets: SecretBox;
  /** Where the durable state lives: the SQLite file, or the PostgreSQL URL without its password. */
  location: string;
  countersScope: CountersScope;
  /** Subscribes to events committed by this node (the state projection uses it). */
  onCommitted(handler: CommittedHandler): void;
}

export interface OpenOptions {
  log?: (msg: string) => void;
  /**
   * This process is a cluster worker: without Redis, counters, sketches and the change channel
   * are the ones this returns (the primary's, over IPC) instead of in process.
   */
  machineShared?: () => MachineShared;
}

/** What the workers of one machine share without Redis (src/cluster/ipc.ts WorkerIpc). */
export interface MachineShared {
  counters: Counters;
  sketches: Sketches;
  changes: ChangeChannel;
}

type Shared = {
  counters: Counters;
  sketches: Sketches;
  changes: ChangeChannel;
  closeShared: () => Promise<void>;
  countersScope: CountersScope;
};

function localShared(machine: OpenOptions['machineShared']): Shared {
  if (machine !== undefined) {
    const w = machine();
    return { counters: w.counters, sketches: w.sketches, changes: w.changes, closeShared: async () => undefined, countersScope: 'machine' };
  }
  return {
    counters: new MemoryCounters(),
    sketches: new MemorySketches(),
    changes: new MemoryChangeChannel(),
    closeShared: async () => undefined,
    countersScope: 'process',
  };
}

async function openDurable(
  config: WardenConfig,
  log: (m: string) => void,
  machine: OpenOptions['machineShared'],
): Promise<{ kind: 'sqlite' | 'postgres'; location: string; durable: DurableStores } & Shared> {
  if (config.databaseUrl === undefined) {
    const s = new SqliteStores(openSqliteDatabase(config.dataDir));
    return { kind: 'sqlite', location: s.db.name, durable: s, ...localShared(machine) };
  }
  const { PostgresStores } = await import('./postgres/postgres-stores.js');
  const pg = await PostgresStores.open(config.databaseUrl, { poolSize: config.poolSize, schema: config.databaseSchema });
  const location = `${redactUrl(config.databaseUrl)} (schema ${config.databaseSchema})`;
  if (config.redisUrl === undefined) {
    log(
      `PostgreSQL without Redis: counters and change channel are per node${machine !== undefined ? " (shared by this node's workers through the primary process)" : ''} (fine for one node; set WARDEN_REDIS_URL for several)`,
    );
    return { kind: 'postgres', location, durable: pg, ...localShared(machine) };
  }
  const { RedisShared } = await import('./redis/redis-shared.js');
  const redis = await RedisShared.open(config.redisUrl, { log, prefix: config.redisPrefix });
  return {
    kind: 'postgres',
    location,
    durable: pg,
    counters: redis.counters,
    sketches: redis.sketches,
    changes: redis.changes,
    closeShared: () => redis.close(),
    countersScope: 'cluster',
  };
}

type Announce = (topic: ChangeTopic, event: ConsentEvent | EnforcementEvent | null, seq: number) => void;

/** The stores whose commits are announced (to this node's projection and to every node), wrapped to do so. */
function announcing(
  durable: DurableStores,
  announce: Announce,
): Pick<OpenedStores, 'consent' | 'enforcement' | 'policies' | 'tenancy' | 'data'> {
  return {
    consent: {
      append: async (e) => {
        const ev = await durable.consent.append(e);
        announce('consent', ev, ev.seq);
        return ev;
      },
      since: (a, l) => durable.consent.since(a, l),
      history: (c, r) => durable.consent.history(c, r),
    },
    enforcement: {
      append: async (e) => {
        const ev = await durable.enforcement.append(e);
        announce('enforcement', ev, ev.seq);
        return ev;
      },
      since: (a, l) => durable.enforcement.since(a, l),
      history: (c) => durable.enforcement.history(c),
    },
    policies: {
      publish: async (p) => {
        await durable.policies.publish(p);
        announce('policy', null, Date.now());
      },
      list: () => durable.policies.list(),
    },
    tenancy: {
      ...durable.tenancy,
      upsertCustomer: async (c) => {
        await durable.tenancy.upsertCustomer(c);
        announce('tenancy', null, Date.now());
      },
      addCredential: async (c) => {
        await durable.tenancy.addCredential(c);
        announce('tenancy', null, Date.now());
      },
      revokeCredential: async (id, at) => {
        await durable.tenancy.revokeCredential(id, at);
        announce('tenancy', null, Date.now());
      },
    },
    data: {
      export: (s) => durable.data.export(s),
      erase: async (s, actor) => {
        const r = await durable.data.erase(s, actor);
        // Erasure removes events: every node rebuilds its projections (seq 0 means rebuild).
        announce('consent', null, 0);
        announce('enforcement', null, 0);
        return r;
      },
    },
  };
}

export async function openStores(config: WardenConfig, opts: OpenOptions = {}): Promise<OpenedStores> {
  const log = opts.log ?? ((m: string) => process.stderr.write(`warden store: ${m}\n`));
  const { kind, location, durable, counters, sketches, changes, closeShared, countersScope } = await openDurable(
    config,
    log,
    opts.machineShared,
  );
  const recipientSecret = config.recipientKeySecret ?? (await durable.metaGetOrSet('recipient-key', newRecipientSecret));
  durable.recipientSecret = recipientSecret;
  const secrets = new SecretBox(config.secretKey ?? (await durable.metaGetOrSet('secret-key', newInstallationKey)));

  const handlers: CommittedHandler[] = [];
  let lastPublishWarning = 0;
  const announce: Announce = (topic, event, seq) => {
    if (event !== null) {
      for (const h of handlers) {
        try {
          h(topic, event);
        } catch (e) {
          log(`committed-event handler failed: ${(e as Error).message}`);
        }
      }
    }
    changes.publish(topic, seq).catch((e: unknown) => {
      const now = Date.now();
      if (now - lastPublishWarning < 10_000) return;
      lastPublishWarning = now;
      log(`change notification failed (other nodes catch up by polling): ${(e as Error).message}`);
    });
  };

  let closed = false;
  return {
    kind,
    location,
    countersScope,
    ...announcing(durable, announce),
    audit: durable.audit,
    reports: durable.reports,
    decisions: durable.decisions,
    review: durable.review,
    webhookEvents: durable.webhookEvents,
    messages: durable.messages,
    scheduler: durable.scheduler,
    counters,
    sketches,
    changes,
    recipientSecret,
    secrets,
    onCommitted: (h) => {
      handlers.push(h);
    },
    close: async () => {
      if (closed) return;
      closed = true;
      await changes.close();
      await closeShared();
      await durable.close();
    },
  };
}
