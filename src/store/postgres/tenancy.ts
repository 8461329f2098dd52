// Customers and credentials in PostgreSQL, each kept as one jsonb document keyed by id.

import { isoTime, type Row } from '../rows/shared.js';
import type { CredentialRecord, CustomerRecord, TenancyStore } from '../types.js';
import type { PgContext } from './context.js';

const doc = <T>(rows: Row[]): T | null => (rows.length === 0 ? null : (rows[0].doc as T));

export function postgresTenancy({ pool, all }: PgContext): TenancyStore {
  return {
    upsertCustomer: async (c: CustomerRecord) => {
      await pool.query(
        'INSERT INTO customers (id, account_sid, doc) VALUES ($1, $2, $3) ON CONFLICT (id) DO UPDATE SET account_sid = excluded.account_sid, doc = excluded.doc',
        [c.id, c.accountSid, JSON.stringify(c)],
      );
    },
    getCustomer: async (id) => doc<CustomerRecord>(await all('SELECT doc FROM customers WHERE id = $1', [id])),
    customerByAccountSid: async (sid) => doc<CustomerRecord>(await all('SELECT doc FROM customers WHERE account_sid = $1', [sid])),
    listCustomers: async () => (await all('SELECT doc FROM customers ORDER BY id')).map((r) => r.doc as CustomerRecord),
    addCredential: async (c: CredentialRecord) => {
      await pool.query('INSERT INTO credentials (id, customer, doc) VALUES ($1, $2, $3)', [c.id, c.customer, JSON.stringify(c)]);
    },
    getCredential: async (id) => doc<CredentialRecord>(await all('SELECT doc FROM credentials WHERE id = $1', [id])),
    // One UPDATE sets the field inside the document: no read-then-write to race.
    revokeCredential: async (id, at) => {
      const r = await pool.query("UPDATE credentials SET doc = jsonb_set(doc, '{revokedAt}', to_jsonb($2::text)) WHERE id = $1", [
        id,
        isoTime(at),
      ]);
      if (r.rowCount === 0) throw new Error(`no credential ${id}`);
    },
  };
}
