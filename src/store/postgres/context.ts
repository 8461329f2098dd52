// What every PostgreSQL store is built from: the pool, a transaction helper, group-commit queues
// (drained on close), and the per-table advisory lock that numbers event rows gaplessly.
//
// Ordering across nodes: each event append holds a transaction-level advisory lock on its table and
// numbers its rows max(seq)+1…; so seqs are gapless and commit in seq order on every node. A reader
// that has seen seq n can therefore never later find a smaller seq committed: since(n) is complete.

import type pg from 'pg';
import { GroupCommit } from '../group-commit.js';
import type { Row } from '../rows/shared.js';

export type Client = pg.PoolClient;

export interface PgContext {
  pool: pg.Pool;
  /** Runs fn in one transaction on one pooled connection. */
  tx<T>(fn: (c: Client) => Promise<T>): Promise<T>;
  /** A group-commit queue: items submitted in the same turn are committed by one call. */
  queue<I, O>(commit: (items: I[]) => Promise<O[]>): (item: I) => Promise<O>;
  all(sql: string, args?: unknown[]): Promise<Row[]>;
  /** Waits for every queue to commit what it holds. */
  drain(): Promise<void>;
}

export function pgContext(pool: pg.Pool): PgContext {
  const queues: Array<GroupCommit<never, unknown>> = [];
  return {
    pool,
    tx: async <T>(fn: (c: Client) => Promise<T>): Promise<T> => {
      const c = await pool.connect();
      let broken: Error | undefined;
      try {
        await c.query('BEGIN');
        const out = await fn(c);
        await c.query('COMMIT');
        return out;
      } catch (e) {
        // A failed ROLLBACK means the connection itself is gone: destroy it rather than pool it.
        await c.query('ROLLBACK').catch((err: unknown) => {
          broken = err as Error;
        });
        throw e;
      } finally {
        c.release(broken);
      }
    },
    queue: <I, O>(commit: (items: I[]) => Promise<O[]>) => {
      const g = new GroupCommit<I, O>(commit, { maxBatch: 1000 });
      queues.push(g as unknown as GroupCommit<never, unknown>);
      return (item: I) => g.submit(item);
    },
    all: async (sql, args = []) => (await pool.query(sql, args)).rows as Row[],
    drain: async () => {
      for (const q of queues) await q.drain();
    },
  };
}

/** Holds the table's append lock until the transaction ends. */
export const lock = (c: Client, table: string) => c.query('SELECT pg_advisory_xact_lock(hashtext(current_schema() || $1))', [`.${table}`]);
/** The highest seq of the table (call under its lock). */
export const nextSeq = async (c: Client, table: string) =>
  Number((await c.query(`SELECT coalesce(max(seq), 0) AS m FROM ${table}`)).rows[0].m);
