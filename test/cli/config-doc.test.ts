// The settings declared in src/config.ts: the documentation table is the one rendered from them,
// each is read from its environment variable (and the file when it is a file key), and
// `warden config` prints the effective values with secrets masked.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SETTINGS, loadConfig, settingsTable, type WardenConfig } from '../../src/config.js';
import { CONFIG_DOC, documentedTable, withRenderedTable } from '../../scripts/config-doc.js';

const BIN = new URL('../../../bin/warden.js', import.meta.url).pathname;

/** One valid raw value per setting and what it must read as. */
const SAMPLES: Record<string, [string, unknown]> = {
  dataDir: ['/var/lib/w', '/var/lib/w'],
  databaseUrl: ['postgres://u:p@db/w', 'postgres://u:p@db/w'],
  redisUrl: ['redis://r:6379', 'redis://r:6379'],
  port: ['9001', 9001],
  host: ['0.0.0.0', '0.0.0.0'],
  recipientKeySecret: ['k', 'k'],
  databaseSchema: ['warden_a', 'warden_a'],
  redisPrefix: ['w2:', 'w2:'],
  poolSize: ['4', 4],
  pollIntervalMs: ['250', 250],
  retentionIntervalMs: ['0', 0],
  sendLimit: ['10/1s', { limit: 10, windowMs: 1000 }],
  httpRateLimit: ['off', false],
  workers: ['3', 3],
  statusCallbackRetryMs: ['1s,5s', [1000, 5000]],
  statusCallbackLeaseMs: ['5000', 5000],
  logRecipients: ['hash', 'hash'],
  logBodies: ['true', true],
  egressAllow: ['10.0.0.0/8, fd00::/8', ['10.0.0.0/8', 'fd00::/8']],
  adminToken: ['t0k', 't0k'],
  publicUrl: ['https://w.example', 'https://w.example'],
  logLevel: ['warn', 'warn'],
  cacheDir: ['/tmp/c', '/tmp/c'],
  secretKey: ['0123456789abcdef-key', '0123456789abcdef-key'],
  sinkToken: ['s1nk', 's1nk'],
};

describe('declared settings', () => {
  it('docs/configuration.md carries the table rendered from the declarations', () => {
    const doc = readFileSync(CONFIG_DOC, 'utf8');
    assert.equal(documentedTable(doc), settingsTable(), 'run `npm run config-doc` after changing a setting');
    assert.equal(withRenderedTable(doc), doc);
  });

  it('every setting is read from its environment variable, and file keys from the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'warden-settings-'));
    for (const s of SETTINGS) {
      if (s.key === 'configFile') continue;
      const sample = SAMPLES[s.key];
      assert.ok(sample !== undefined, `a sample for ${s.key}`);
      assert.deepEqual(loadConfig({ [s.env]: sample[0] })[s.key], sample[1], s.env);
      const file = join(dir, `${s.key}.json`);
      writeFileSync(file, JSON.stringify({ [s.key]: sample[0] }));
      if (s.file) assert.deepEqual(loadConfig({ WARDEN_CONFIG: file })[s.key as keyof WardenConfig], sample[1], `file key ${s.key}`);
      else assert.throws(() => loadConfig({ WARDEN_CONFIG: file }), new RegExp(`unknown key "${s.key}"`));
    }
  });

  it('flags are declared settings too', () => {
    for (const s of SETTINGS.filter((x) => x.flag !== undefined && x.key !== 'configFile')) {
      assert.deepEqual(loadConfig({}, [s.flag as string, SAMPLES[s.key][0]])[s.key], SAMPLES[s.key][1], s.flag);
    }
  });

  it('refuses an egress allowance that is no CIDR range or address', () => {
    assert.throws(
      () => loadConfig({ WARDEN_EGRESS_ALLOW: 'intranet' }),
      /WARDEN_EGRESS_ALLOW: egressAllow: "intranet" is not an IP address/,
    );
    assert.throws(() => loadConfig({ WARDEN_EGRESS_ALLOW: '10.0.0.0/33' }), /egressAllow/);
  });
});

describe('warden config', () => {
  it('prints the effective configuration with secrets masked', () => {
    const dir = mkdtempSync(join(tmpdir(), 'warden-config-cmd-'));
    const env = {
      PATH: process.env.PATH,
      HOME: dir,
      WARDEN_DATABASE_URL: 'postgres://warden:s3cret-pw@db:5432/w',
      WARDEN_REDIS_URL: 'redis://:r3dis-pw@r:6379',
      WARDEN_RECIPIENT_KEY: 'k3y-material',
      WARDEN_ADMIN_TOKEN: 'adm1n-token',
      WARDEN_SEND_LIMIT: '100/1s',
    };
    const r = spawnSync(process.execPath, [BIN, 'config', '--port', '9123'], { encoding: 'utf8', env, cwd: dir });
    assert.equal(r.status, 0, r.stderr);
    for (const secret of ['s3cret-pw', 'r3dis-pw', 'k3y-material', 'adm1n-token']) assert.equal(r.stdout.includes(secret), false, secret);
    const printed = JSON.parse(r.stdout) as Record<string, unknown>;
    assert.equal(printed.port, 9123);
    assert.equal(printed.databaseUrl, 'postgres://warden:***@db:5432/w');
    assert.equal(printed.adminToken, '(set)');
    assert.deepEqual(printed.sendLimit, { limit: 100, windowMs: 1000 });
    assert.equal(printed.publicUrl, null);
    assert.deepEqual(Object.keys(printed).sort(), SETTINGS.map((s) => s.key).sort());
  });
});
