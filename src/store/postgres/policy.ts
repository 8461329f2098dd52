// Published policy versions in PostgreSQL.

import { policyRow } from '../rows/policy.js';
import { isoTime } from '../rows/shared.js';
import type { PolicyStore } from '../types.js';
import type { PgContext } from './context.js';

export function postgresPolicies({ pool, all }: PgContext): PolicyStore {
  return {
    publish: async (p) => {
      await pool.query(
        'INSERT INTO policy_versions (policy_version, files, effective_at, published_at, published_by) VALUES ($1, $2, $3, $4, $5)',
        [p.policyVersion, JSON.stringify(p.files), isoTime(p.effectiveAt), isoTime(p.publishedAt), p.publishedBy],
      );
    },
    list: async () => (await all('SELECT * FROM policy_versions ORDER BY effective_at, published_at')).map(policyRow),
  };
}
