// Published policy versions in SQLite.

import type Database from 'better-sqlite3';
import { policyRow } from '../rows/policy.js';
import { isoTime, type Row } from '../rows/shared.js';
import type { PolicyStore } from '../types.js';
import type { Write } from './writer.js';

export function sqlitePolicies(db: Database.Database, write: Write): PolicyStore {
  const insert = db.prepare(
    'INSERT INTO policy_versions (policy_version, files, effective_at, published_at, published_by) VALUES (?, ?, ?, ?, ?)',
  );
  const list = db.prepare('SELECT * FROM policy_versions ORDER BY effective_at, published_at');
  return {
    publish: (p) =>
      write(() => {
        insert.run(p.policyVersion, JSON.stringify(p.files), isoTime(p.effectiveAt), isoTime(p.publishedAt), p.publishedBy);
      }),
    list: async () => (list.all() as Row[]).map(policyRow),
  };
}
