// Forward-only schema migrations for PostgreSQL, applied at start under an advisory lock so that
// nodes starting together do not race. Never edit a released migration: add the next one.

import { messageMapAndScheduler, statusCallbackColumns, webhookEventsTable, type Migration } from '../sqlite/migrations.js';

export const POSTGRES_MIGRATIONS: Migration[] = [
  {
    version: 1,
    name: 'event tables, tenancy, decisions',
    sql: `
      CREATE TABLE consent_events (
        seq BIGINT PRIMARY KEY, customer TEXT NOT NULL, recipient TEXT NOT NULL, kind TEXT NOT NULL,
        source TEXT NOT NULL, evidence TEXT, at TIMESTAMPTZ NOT NULL);
      CREATE INDEX consent_by_subject ON consent_events (customer, recipient, seq);
      CREATE TABLE enforcement_events (
        seq BIGINT PRIMARY KEY, customer TEXT NOT NULL, end_user TEXT, action TEXT NOT NULL, clause TEXT,
        reason TEXT NOT NULL, actor TEXT NOT NULL, at TIMESTAMPTZ NOT NULL);
      CREATE INDEX enforcement_by_customer ON enforcement_events (customer, seq);
      CREATE TABLE audit_log (
        seq BIGINT PRIMARY KEY, actor TEXT NOT NULL, action TEXT NOT NULL, subject TEXT NOT NULL,
        detail JSONB, at TIMESTAMPTZ NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL);
      CREATE TABLE policy_versions (
        policy_version TEXT PRIMARY KEY, files JSONB NOT NULL, effective_at TIMESTAMPTZ NOT NULL,
        published_at TIMESTAMPTZ NOT NULL, published_by TEXT NOT NULL);
      CREATE TABLE report_events (
        seq BIGINT PRIMARY KEY, report_id TEXT NOT NULL, customer TEXT NOT NULL, kind TEXT NOT NULL,
        detail JSONB NOT NULL, actor TEXT NOT NULL, at TIMESTAMPTZ NOT NULL);
      CREATE INDEX reports_by_report ON report_events (report_id, seq);
      CREATE INDEX reports_by_customer ON report_events (customer, seq);
      CREATE TABLE customers (id TEXT PRIMARY KEY, account_sid TEXT NOT NULL UNIQUE, doc JSONB NOT NULL);
      CREATE TABLE credentials (id TEXT PRIMARY KEY, customer TEXT NOT NULL, doc JSONB NOT NULL);
      CREATE TABLE decisions (
        customer TEXT NOT NULL, id TEXT NOT NULL, end_user TEXT, message_id TEXT NOT NULL,
        channel TEXT NOT NULL, action TEXT NOT NULL, score DOUBLE PRECISION NOT NULL,
        policy_version TEXT NOT NULL, reasons JSONB NOT NULL, recipient TEXT NOT NULL, sender TEXT NOT NULL,
        body TEXT, at TIMESTAMPTZ NOT NULL, PRIMARY KEY (customer, id));
    `,
  },
  {
    version: 2,
    name: 'meta table, retention and erasure indexes',
    sql: `
      CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE INDEX decisions_by_time ON decisions (customer, at);
      CREATE INDEX decisions_by_recipient ON decisions (recipient);
      CREATE INDEX consent_by_recipient ON consent_events (recipient);
      CREATE INDEX credentials_by_customer ON credentials (customer);
    `,
  },
  {
    version: 3,
    name: 'review queue: held messages and calls, and their settlement',
    sql: `
      CREATE TABLE review_queue (
        sid TEXT PRIMARY KEY, kind TEXT NOT NULL, customer TEXT NOT NULL, end_user TEXT,
        account_sid TEXT NOT NULL, recipient TEXT NOT NULL, fields JSONB NOT NULL, raw TEXT NOT NULL,
        decision JSONB NOT NULL, status_callback TEXT, held_at TIMESTAMPTZ NOT NULL,
        state TEXT NOT NULL DEFAULT 'held' CHECK (state IN ('held', 'releasing', 'released', 'refused')),
        claimed_at TIMESTAMPTZ, claimed_by TEXT, settled_at TIMESTAMPTZ, settled_by TEXT,
        upstream_status INTEGER, upstream_sid TEXT, error_code INTEGER);
      CREATE INDEX review_by_state ON review_queue (state, held_at, sid);
      CREATE INDEX review_by_customer ON review_queue (customer, state, held_at, sid);
      CREATE INDEX review_by_recipient ON review_queue (recipient);
    `,
  },
  statusCallbackColumns('TIMESTAMPTZ'),
  webhookEventsTable('TIMESTAMPTZ'),
  messageMapAndScheduler('TIMESTAMPTZ', 'JSONB'),
];
