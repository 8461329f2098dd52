// Customers and credentials in SQLite, each kept as one JSON document keyed by id.

import type Database from 'better-sqlite3';
import { isoTime } from '../rows/shared.js';
import type { CredentialRecord, CustomerRecord, TenancyStore } from '../types.js';
import type { Write } from './writer.js';

const doc = <T>(r: unknown): T | null => (r === undefined ? null : (JSON.parse((r as { doc: string }).doc) as T));

export function sqliteTenancy(db: Database.Database, write: Write): TenancyStore {
  const q = {
    customerUpsert: db.prepare(
      'INSERT INTO customers (id, account_sid, doc) VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE SET account_sid = excluded.account_sid, doc = excluded.doc',
    ),
    customerGet: db.prepare('SELECT doc FROM customers WHERE id = ?'),
    customerBySid: db.prepare('SELECT doc FROM customers WHERE account_sid = ?'),
    customerList: db.prepare('SELECT doc FROM customers ORDER BY id'),
    credInsert: db.prepare('INSERT INTO credentials (id, customer, doc) VALUES (?, ?, ?)'),
    credGet: db.prepare('SELECT doc FROM credentials WHERE id = ?'),
    credUpdate: db.prepare('UPDATE credentials SET doc = ? WHERE id = ?'),
  };
  return {
    upsertCustomer: (c: CustomerRecord) =>
      write(() => {
        q.customerUpsert.run(c.id, c.accountSid, JSON.stringify(c));
      }),
    getCustomer: async (id) => doc<CustomerRecord>(q.customerGet.get(id)),
    customerByAccountSid: async (sid) => doc<CustomerRecord>(q.customerBySid.get(sid)),
    listCustomers: async () => (q.customerList.all() as Array<{ doc: string }>).map((r) => JSON.parse(r.doc) as CustomerRecord),
    addCredential: (c: CredentialRecord) =>
      write(() => {
        q.credInsert.run(c.id, c.customer, JSON.stringify(c));
      }),
    getCredential: async (id) => doc<CredentialRecord>(q.credGet.get(id)),
    // Read-then-write inside one write: the writer's BEGIN IMMEDIATE holds the lock across both.
    revokeCredential: (id, at) =>
      write(() => {
        const c = doc<CredentialRecord>(q.credGet.get(id));
        if (c === null) throw new Error(`no credential ${id}`);
        q.credUpdate.run(JSON.stringify({ ...c, revokedAt: isoTime(at) }), id);
      }),
  };
}
