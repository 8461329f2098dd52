// The SQLite store's one durable writer. All writes go through one group-commit queue: writes
// queued in the same turn of the event loop share a transaction and one fsync, and each is
// acknowledged only after that commit.

import type Database from 'better-sqlite3';
import { GroupCommit } from '../group-commit.js';

/** Runs `op` inside the next group commit; resolves after the commit with what `op` returned. */
export type Write = <T>(op: () => T) => Promise<T>;

export interface DurableWriter {
  write: Write;
  /** Waits for every queued write to commit. */
  drain(): Promise<void>;
}

export function durableWriter(db: Database.Database, isClosed: () => boolean): DurableWriter {
  // One transaction (one fsync) per batch; each op in its own savepoint, so a failing op is
  // rolled back and reported alone while the rest of the batch commits. BEGIN IMMEDIATE: the
  // write lock is taken before the first read, so the read-then-write ops (the audit chain reads
  // its last entry, revocation reads the credential, erasure reads the latest consent) cannot
  // interleave with another process's commit (`warden serve --workers N` shares this file);
  // a busy lock is waited for (busy_timeout) instead of failing with SQLITE_BUSY_SNAPSHOT.
  const tx = db.transaction((ops: Array<() => unknown>) =>
    ops.map((op) => {
      try {
        return { ok: db.transaction(op)() };
      } catch (err) {
        return { err };
      }
    }),
  );
  const queue = new GroupCommit<() => unknown, { ok: unknown } | { err: unknown }>((ops) => tx.immediate(ops), { maxBatch: 2000 });
  return {
    write: async <T>(op: () => T): Promise<T> => {
      if (isClosed()) throw new Error('store closed');
      const r = await queue.submit(op);
      if ('err' in r) throw r.err;
      return r.ok as T;
    },
    drain: () => queue.drain(),
  };
}
