// `warden customers add|update`: senders in every registered form (E.164, Messaging Service SID,
// whatsapp: address) stored canonically, malformed ones refused, and the refusal mode setting.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const BIN = join(ROOT, 'bin/warden.js');
const dataDir = join(mkdtempSync(join(tmpdir(), 'warden-cli-customers-')), 'data');

function warden(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args, '--data-dir', dataDir], { encoding: 'utf8', cwd: ROOT });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test('customers add and update: MG and whatsapp senders, refusal mode; malformed senders refused', () => {
  const service = 'MG' + 'AB12'.repeat(8);
  const add = warden([
    'customers',
    'add',
    'acme',
    '--senders',
    `+1 (415) 555-0100,${service},whatsapp:+1 415 555 0142,ACME`,
    '--refusal-mode',
    'async',
  ]);
  assert.equal(add.code, 0, add.err);
  const c = JSON.parse(add.out) as { senders: string[]; settings: { refusalMode?: string } };
  assert.deepEqual(c.senders, ['+14155550100', service.toLowerCase().replace(/^mg/, 'MG'), 'whatsapp:+14155550142', 'ACME']);
  assert.equal(c.settings.refusalMode, 'async');
  const upd = warden(['customers', 'update', 'acme', '--refusal-mode', 'sync', '--senders', 'whatsapp:+14155550143']);
  assert.equal(upd.code, 0, upd.err);
  const u = JSON.parse(upd.out) as { senders: string[]; settings: { refusalMode?: string } };
  assert.deepEqual([u.senders, u.settings.refusalMode], [['whatsapp:+14155550143'], 'sync']);
  for (const bad of ['MG12', 'whatsapp:nobody', 'a sender id that is far too long']) {
    const r = warden(['customers', 'update', 'acme', '--senders', bad]);
    assert.equal(r.code, 1, bad);
    assert.match(r.err, /sender/);
  }
  const mode = warden(['customers', 'update', 'acme', '--refusal-mode', 'later']);
  assert.equal(mode.code, 1);
  assert.match(mode.err, /refusalMode/);
});
