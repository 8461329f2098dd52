// `warden data export|erase`: everything held about one customer or one recipient. Output is
// JSON on stdout (or --out); nothing about the subject is written to the log.

import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { osUser, processConfig } from '../config.js';
import { canonicalAddress } from '../core/phone-number.js';
import { openStores } from '../store/open-stores.js';
import type { DataSubject } from '../store/types.js';

interface DataOpts {
  customer?: string;
  recipient?: string;
  out?: string;
  yes?: boolean;
  actor?: string;
  config?: string;
  dataDir?: string;
  databaseUrl?: string;
  redisUrl?: string;
}

function storageOptions(cmd: Command): Command {
  return cmd
    .option('--customer <id>', 'the customer (alone: everything about the customer; with --recipient: limit to it)')
    .option('--recipient <e164>', 'a recipient number (its keyed-hash form is matched too)')
    .option('--config <file>', 'configuration file (default ./warden.config.json)')
    .option('--data-dir <dir>', 'SQLite data directory (default ./warden-data)')
    .option('--database-url <url>', 'PostgreSQL URL (default WARDEN_DATABASE_URL)')
    .option('--redis-url <url>', 'Redis URL (default WARDEN_REDIS_URL)');
}

function argvOf(opts: DataOpts): string[] {
  const argv: string[] = [];
  if (opts.config !== undefined) argv.push('--config', opts.config);
  if (opts.dataDir !== undefined) argv.push('--data-dir', opts.dataDir);
  if (opts.databaseUrl !== undefined) argv.push('--database-url', opts.databaseUrl);
  if (opts.redisUrl !== undefined) argv.push('--redis-url', opts.redisUrl);
  return argv;
}

function subjectOf(opts: DataOpts): DataSubject {
  if (opts.customer === undefined && opts.recipient === undefined) throw new Error('give --customer, --recipient, or both');
  const s: DataSubject = {};
  if (opts.customer !== undefined) s.customer = opts.customer;
  // The number as the stores key it (canonical E.164), however it was typed.
  if (opts.recipient !== undefined) s.recipient = canonicalAddress(opts.recipient) ?? opts.recipient;
  return s;
}

async function withStores<T>(opts: DataOpts, fn: (s: Awaited<ReturnType<typeof openStores>>) => Promise<T>): Promise<T> {
  const stores = await openStores(processConfig(argvOf(opts)));
  try {
    return await fn(stores);
  } finally {
    await stores.close();
  }
}

export function registerDataCommands(program: Command): void {
  const data = program.command('data').description('export or erase everything held about one customer or one recipient');

  storageOptions(data.command('export'))
    .description('print everything held about the subject as JSON')
    .option('--out <file>', 'write to a file (mode 0600) instead of standard output')
    .action(async (opts: DataOpts) => {
      const subject = subjectOf(opts);
      const exported = await withStores(opts, (s) => s.data.export(subject));
      const json = JSON.stringify(exported, null, 2) + '\n';
      if (opts.out !== undefined) {
        writeFileSync(opts.out, json, { mode: 0o600 });
        process.stderr.write(`warden: export written to ${opts.out}\n`);
      } else {
        process.stdout.write(json);
      }
    });

  storageOptions(data.command('erase'))
    .description('erase everything held about the subject (opt-outs are kept as keyed-hash suppressions)')
    .option('--yes', 'confirm the erasure')
    .option('--actor <name>', 'who asked, for the audit log', osUser() ?? 'cli')
    .action(async (opts: DataOpts) => {
      const subject = subjectOf(opts);
      if (opts.yes !== true) throw new Error('erasure cannot be undone: add --yes to confirm');
      const report = await withStores(opts, (s) => s.data.erase(subject, opts.actor ?? 'cli'));
      process.stdout.write(JSON.stringify(report, null, 2) + '\n');
    });
}
