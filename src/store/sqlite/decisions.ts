// The decision log in SQLite. Decisions are the log of what happened, written at the rate messages
// arrive; they gate no send (consent and enforcement do). They go through their own connection
// with synchronous=NORMAL on a worker thread (decision-writer.ts): in WAL mode a commit survives a
// crash of the process (kill -9) but may be lost with the machine's power, commits do not wait for
// a disk sync, and the inserts do not take the request thread's CPU. Reads and purges use the
// store's connection and durable writer.

import type Database from 'better-sqlite3';
import { GroupCommit } from '../group-commit.js';
import { decisionRow } from '../rows/decisions.js';
import { isoTime, type Row } from '../rows/shared.js';
import type { DecisionRecord, DecisionStore } from '../types.js';
import { DecisionWriter } from './decision-writer.js';
import type { Write } from './writer.js';

export interface SqliteDecisions {
  store: DecisionStore;
  /** Waits for every queued decision to be handed to the writer thread. */
  drain(): Promise<void>;
  /** Stops the writer thread (after drain). */
  close(): Promise<void>;
}

export function sqliteDecisions(
  db: Database.Database,
  write: Write,
  isClosed: () => boolean,
  opts: { thread?: boolean } = {},
): SqliteDecisions {
  const writer = new DecisionWriter(db.name, opts.thread === false ? { thread: false } : {});
  const queue = new GroupCommit<DecisionRecord, { ok: unknown } | { err: unknown }>(
    async (ds: DecisionRecord[]) => (await writer.write(ds)).map((e) => (e === null ? { ok: undefined } : { err: new Error(e) })),
    { maxBatch: 5000 },
  );
  const q = {
    get: db.prepare('SELECT * FROM decisions WHERE customer = ? AND id = ?'),
    list: db.prepare('SELECT * FROM decisions WHERE customer = ? AND at < ? ORDER BY at DESC, id DESC LIMIT ?'),
    purgeBodies: db.prepare('UPDATE decisions SET body = NULL WHERE customer = ? AND at < ? AND body IS NOT NULL'),
    purgeDecisions: db.prepare('DELETE FROM decisions WHERE customer = ? AND at < ?'),
  };
  const store: DecisionStore = {
    record: async (d: DecisionRecord) => {
      if (isClosed()) throw new Error('store closed');
      const r = await queue.submit(d);
      if ('err' in r) throw r.err;
    },
    recordMany: async (ds: DecisionRecord[]) => {
      if (isClosed()) throw new Error('store closed');
      return (await writer.write(ds)).map((e) => (e === null ? null : new Error(e)));
    },
    get: async (customer, id) => {
      const r = q.get.get(customer, id) as Row | undefined;
      return r === undefined ? null : decisionRow(r);
    },
    list: async (customer, limit, before) =>
      (q.list.all(customer, before !== undefined ? isoTime(before) : '9999', limit) as Row[]).map(decisionRow),
    purgeBodies: (customer, olderThan) => write(() => q.purgeBodies.run(customer, isoTime(olderThan)).changes),
    purgeDecisions: (customer, olderThan) => write(() => q.purgeDecisions.run(customer, isoTime(olderThan)).changes),
  };
  return { store, drain: () => queue.drain(), close: () => writer.close() };
}
