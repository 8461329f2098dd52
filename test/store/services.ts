// Where the PostgreSQL + Redis half of the tests finds its services. In CI (CI set) an unset or
// unreachable service is a FAILURE; on a developer machine without WARDEN_TEST_DATABASE_URL and
// WARDEN_TEST_REDIS_URL that half is skipped with a message saying how to run it (see docs/storage.md#tests).

import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { Redis } from 'ioredis';
import { DEFAULT_CONFIG, type WardenConfig } from '../../src/config.js';

export interface Services {
  databaseUrl: string;
  redisUrl: string;
}

export const HOW_TO =
  'PostgreSQL/Redis tests skipped: run `bash scripts/ci-services.sh` and export WARDEN_TEST_DATABASE_URL=postgres://warden:warden@127.0.0.1:5432/warden WARDEN_TEST_REDIS_URL=redis://127.0.0.1:6379';

async function reachable(s: Services): Promise<string | null> {
  const c = new pg.Client({ connectionString: s.databaseUrl, connectionTimeoutMillis: 3000 });
  try {
    await c.connect();
    await c.query('SELECT 1');
  } catch (e) {
    return `PostgreSQL at ${s.databaseUrl.replace(/:[^:@/]*@/, ':***@')} unreachable: ${(e as Error).message}`;
  } finally {
    await c.end().catch(() => undefined);
  }
  const r = new Redis(s.redisUrl, { lazyConnect: true, connectTimeout: 3000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  try {
    await r.connect();
    await r.ping();
  } catch (e) {
    return `Redis at ${s.redisUrl} unreachable: ${(e as Error).message}`;
  } finally {
    r.disconnect();
  }
  return null;
}

/** Resolves the services, null to skip (not in CI), or throws (in CI, or when set but unreachable). */
export async function testServices(): Promise<Services | null> {
  const databaseUrl = process.env.WARDEN_TEST_DATABASE_URL;
  const redisUrl = process.env.WARDEN_TEST_REDIS_URL;
  if (databaseUrl === undefined || databaseUrl === '' || redisUrl === undefined || redisUrl === '') {
    if (process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== 'false') {
      throw new Error(
        'CI is set but WARDEN_TEST_DATABASE_URL / WARDEN_TEST_REDIS_URL are not: the PostgreSQL + Redis tests must run in CI (see scripts/ci-services.sh)',
      );
    }
    return null;
  }
  const problem = await reachable({ databaseUrl, redisUrl });
  if (problem !== null) throw new Error(`${problem} (WARDEN_TEST_* URLs are set, so this is a failure, not a skip)`);
  return { databaseUrl, redisUrl };
}

/** A configuration in a fresh PostgreSQL schema and Redis key prefix, isolated from other tests. */
export function isolatedConfig(s: Services, tag: string): WardenConfig {
  const id = `${tag}_${process.pid}_${randomBytes(4).toString('hex')}`;
  return {
    ...DEFAULT_CONFIG,
    databaseUrl: s.databaseUrl,
    redisUrl: s.redisUrl,
    databaseSchema: `t_${id}`,
    redisPrefix: `wt:${id}:`,
    poolSize: 8,
  };
}

export async function dropSchema(s: Services, schema: string): Promise<void> {
  const c = new pg.Client({ connectionString: s.databaseUrl });
  await c.connect();
  try {
    await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await c.end();
  }
}
