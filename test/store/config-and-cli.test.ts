// Configuration precedence, log redaction, and the `warden data export|erase` commands.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeConfig, loadConfig } from '../../src/config.js';
import { credentialContext, signingSecretContext } from '../../src/store/secret-box.js';
import { openStores } from '../../src/store/open-stores.js';
import { DEFAULT_CONFIG } from '../../src/config.js';

const BIN = new URL('../../../bin/warden.js', import.meta.url).pathname;

describe('configuration', () => {
  it('defaults, then file, then environment, then command line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'warden-cfg-'));
    const file = join(dir, 'warden.config.json');
    assert.deepEqual([loadConfig({}, []).dataDir, loadConfig({}, []).port, loadConfig({}, []).host], ['./warden-data', 8080, '127.0.0.1']);
    writeFileSync(file, JSON.stringify({ port: 9000, dataDir: '/srv/w', redisUrl: 'redis://r:6379' }));
    assert.equal(loadConfig({ WARDEN_CONFIG: file }).port, 9000);
    assert.equal(loadConfig({ WARDEN_CONFIG: file, WARDEN_PORT: '9100' }).port, 9100);
    const c = loadConfig({ WARDEN_CONFIG: file, WARDEN_PORT: '9100', WARDEN_DATABASE_URL: 'postgres://u:pw@db/w' }, [
      '--port',
      '9200',
      '--data-dir=/x',
    ]);
    assert.deepEqual(
      [c.port, c.dataDir, c.redisUrl, c.databaseUrl, c.configFile],
      [9200, '/x', 'redis://r:6379', 'postgres://u:pw@db/w', file],
    );
    assert.throws(() => loadConfig({ WARDEN_PORT: 'abc' }), /port/);
    assert.throws(() => loadConfig({ WARDEN_DATABASE_URL: 'mysql://x' }), /postgres/);
    writeFileSync(file, JSON.stringify({ prot: 1 }));
    assert.throws(() => loadConfig({ WARDEN_CONFIG: file }), /unknown key "prot"/);
  });

  it('limits: "N/window" or "off" for the HTTP rate limit; a bad value is refused with the key named', () => {
    assert.deepEqual(loadConfig({ WARDEN_HTTP_RATE_LIMIT: '600/1m' }).httpRateLimit, { limit: 600, windowMs: 60_000 });
    assert.equal(loadConfig({ WARDEN_HTTP_RATE_LIMIT: 'off' }).httpRateLimit, false);
    assert.equal(loadConfig({}).httpRateLimit, undefined, 'unset: the gateway default');
    assert.deepEqual(loadConfig({ WARDEN_SEND_LIMIT: '100/1s' }).sendLimit, { limit: 100, windowMs: 1000 });
    assert.throws(() => loadConfig({ WARDEN_SEND_LIMIT: 'off' }), /WARDEN_SEND_LIMIT/);
    assert.throws(() => loadConfig({ WARDEN_HTTP_RATE_LIMIT: 'lots' }), /WARDEN_HTTP_RATE_LIMIT/);
  });

  it('status callbacks: a retry schedule of durations or "off", and a lease in ms', () => {
    assert.deepEqual(loadConfig({ WARDEN_STATUS_CALLBACK_RETRY: '500ms, 2s,1.5m' }).statusCallbackRetryMs, [500, 2000, 90_000]);
    assert.deepEqual(loadConfig({ WARDEN_STATUS_CALLBACK_RETRY: 'off' }).statusCallbackRetryMs, []);
    assert.equal(loadConfig({}).statusCallbackRetryMs, undefined, 'unset: the gateway default');
    assert.equal(loadConfig({ WARDEN_STATUS_CALLBACK_LEASE_MS: '2000' }).statusCallbackLeaseMs, 2000);
    assert.throws(() => loadConfig({ WARDEN_STATUS_CALLBACK_RETRY: '2s,soon' }), /WARDEN_STATUS_CALLBACK_RETRY/);
    assert.throws(() => loadConfig({ WARDEN_STATUS_CALLBACK_LEASE_MS: '-1' }), /statusCallbackLeaseMs/);
    assert.throws(() => loadConfig({ WARDEN_STATUS_CALLBACK_LEASE_MS: '10' }), /at least 1000/);
  });

  it('decision log masking: numbers "mask", "hash" or "full", bodies true or false', () => {
    assert.deepEqual([loadConfig({}).logRecipients, loadConfig({}).logBodies], [undefined, undefined], 'unset: masked numbers, no bodies');
    assert.equal(loadConfig({ WARDEN_LOG_RECIPIENTS: 'hash' }).logRecipients, 'hash');
    assert.equal(loadConfig({ WARDEN_LOG_BODIES: 'true' }).logBodies, true);
    assert.equal(loadConfig({ WARDEN_LOG_BODIES: '0' }).logBodies, false);
    assert.throws(
      () => loadConfig({ WARDEN_LOG_RECIPIENTS: 'partial' }),
      /WARDEN_LOG_RECIPIENTS: logRecipients must be "mask", "hash" or "full"/,
    );
    assert.throws(() => loadConfig({ WARDEN_LOG_BODIES: 'sometimes' }), /WARDEN_LOG_BODIES/);
    const dir = mkdtempSync(join(tmpdir(), 'warden-cfg-'));
    const file = join(dir, 'warden.config.json');
    writeFileSync(file, JSON.stringify({ logRecipients: 'full', logBodies: true }));
    const c = loadConfig({ WARDEN_CONFIG: file });
    assert.deepEqual([c.logRecipients, c.logBodies], ['full', true]);
    assert.deepEqual([describeConfig(c).logRecipients, describeConfig(c).logBodies], ['full', true]);
  });

  it('egress allow list: comma-separated CIDR ranges or addresses, a list in the file; a bad range is refused with the key named', () => {
    assert.equal(loadConfig({}).egressAllow, undefined, 'unset: nothing beyond public addresses');
    assert.deepEqual(loadConfig({ WARDEN_EGRESS_ALLOW: '10.20.0.0/16, fd00::/8,192.168.1.5' }).egressAllow, [
      '10.20.0.0/16',
      'fd00::/8',
      '192.168.1.5',
    ]);
    assert.throws(
      () => loadConfig({ WARDEN_EGRESS_ALLOW: '10.0.0.0/8,intranet' }),
      /WARDEN_EGRESS_ALLOW: egressAllow: "intranet" is not an IP address/,
    );
    assert.throws(
      () => loadConfig({ WARDEN_EGRESS_ALLOW: '10.0.0.0/40' }),
      /WARDEN_EGRESS_ALLOW: egressAllow: .*prefix length must be 0-32/,
    );
    const dir = mkdtempSync(join(tmpdir(), 'warden-cfg-'));
    const file = join(dir, 'warden.config.json');
    writeFileSync(file, JSON.stringify({ egressAllow: ['127.0.0.0/8'] }));
    const c = loadConfig({ WARDEN_CONFIG: file });
    assert.deepEqual([c.egressAllow, describeConfig(c).egressAllow], [['127.0.0.0/8'], ['127.0.0.0/8']]);
    writeFileSync(file, JSON.stringify({ egressAllow: '127.0.0.0/8' }));
    assert.deepEqual(loadConfig({ WARDEN_CONFIG: file }).egressAllow, ['127.0.0.0/8']);
    writeFileSync(file, JSON.stringify({ egressAllow: [8] }));
    assert.throws(() => loadConfig({ WARDEN_CONFIG: file }), /egressAllow must be CIDR ranges/);
  });

  it('what may be logged holds no secrets', () => {
    const c = loadConfig({
      WARDEN_DATABASE_URL: 'postgres://warden:s3cret-pw@db:5432/w',
      WARDEN_REDIS_URL: 'redis://:r3dis-pw@r:6379',
      WARDEN_RECIPIENT_KEY: 'k3y-material',
    });
    const logged = JSON.stringify(describeConfig(c));
    for (const secret of ['s3cret-pw', 'r3dis-pw', 'k3y-material']) assert.equal(logged.includes(secret), false, secret);
    assert.match(logged, /postgres:\/\/warden:\*\*\*@db:5432/);
  });

  it('the installation secret key: from WARDEN_SECRET_KEY, at least 16 characters, never logged', () => {
    const c = loadConfig({ WARDEN_SECRET_KEY: 'installation-key-material' });
    assert.equal(c.secretKey, 'installation-key-material');
    assert.equal(JSON.stringify(describeConfig(c)).includes('installation-key-material'), false);
    assert.equal(describeConfig(c).secretKey, '(set)');
    assert.throws(() => loadConfig({ WARDEN_SECRET_KEY: 'too-short' }), /WARDEN_SECRET_KEY.*at least 16/);
  });
});

describe('warden customers --signing-secret', () => {
  it('seals the signing secret, shows it masked, removes it when empty; auth tokens are sealed, API keys only hashed', async () => {
    const dataDir = join(mkdtempSync(join(tmpdir(), 'warden-cli-')), 'data');
    const run = (...args: string[]) =>
      spawnSync(process.execPath, [BIN, 'customers', ...args, '--data-dir', dataDir], { encoding: 'utf8' });
    const added = run('add', 'acme', '--webhook', 'https://app.example/hook', '--signing-secret', 'acme-signing-secret');
    assert.equal(added.status, 0, added.stderr);
    assert.equal(JSON.parse(added.stdout).settings.signingSecret, '********');
    assert.equal(added.stdout.includes('acme-signing-secret'), false);
    const token = JSON.parse(run('credential', 'acme').stdout) as { id: string; secret: string };
    const key = JSON.parse(run('credential', 'acme', '--api-key').stdout) as { id: string };
    let s = await openStores({ ...DEFAULT_CONFIG, dataDir }, { log: () => undefined });
    try {
      const c = await s.tenancy.getCustomer('acme');
      assert.equal(JSON.stringify(c).includes('acme-signing-secret'), false, 'sealed at rest');
      assert.equal(s.secrets.open(c!.settings.signingSecret!, signingSecretContext('acme')), 'acme-signing-secret');
      const cred = await s.tenancy.getCredential(token.id);
      assert.equal(s.secrets.open(cred!.secretSealed!, credentialContext(token.id)), token.secret);
      assert.equal((await s.tenancy.getCredential(key.id))?.secretSealed, undefined, 'API-key secrets stay hashed only');
    } finally {
      await s.close();
    }
    assert.equal(run('update', 'acme', '--signing-secret', '').status, 0);
    s = await openStores({ ...DEFAULT_CONFIG, dataDir }, { log: () => undefined });
    try {
      assert.equal((await s.tenancy.getCustomer('acme'))?.settings.signingSecret, undefined);
    } finally {
      await s.close();
    }
    // Opened under another installation key, the sealed token does not open.
    s = await openStores({ ...DEFAULT_CONFIG, dataDir, secretKey: 'another-installation-key' }, { log: () => undefined });
    try {
      const cred = await s.tenancy.getCredential(token.id);
      assert.throws(() => s.secrets.open(cred!.secretSealed!, credentialContext(token.id)));
    } finally {
      await s.close();
    }
  });
});

describe('warden data export|erase', () => {
  it('exports and erases one recipient and one customer from the command line', async () => {
    const dataDir = join(mkdtempSync(join(tmpdir(), 'warden-cli-')), 'data');
    const s = await openStores({ ...DEFAULT_CONFIG, dataDir }, { log: () => undefined });
    await s.consent.append({
      customer: 'acme',
      recipient: '+15554443333',
      kind: 'opt-out',
      source: 'keyword',
      evidence: 'STOP',
      at: '2026-01-01T00:00:00Z',
    });
    await s.decisions.record({
      id: 'd1',
      customer: 'acme',
      messageId: 'm1',
      channel: 'sms',
      action: 'allow',
      score: 0,
      policyVersion: 'p',
      reasons: [],
      to: '+15554443333',
      from: '+1555',
      body: 'secret body text',
      at: '2026-01-01T00:00:00Z',
    });
    await s.close();
    const run = (...args: string[]) => spawnSync(process.execPath, [BIN, 'data', ...args, '--data-dir', dataDir], { encoding: 'utf8' });

    const exp = JSON.parse(
      execFileSync(process.execPath, [BIN, 'data', 'export', '--recipient', '+15554443333', '--data-dir', dataDir], { encoding: 'utf8' }),
    );
    assert.equal(exp.consent.length, 1);
    assert.equal(exp.decisions[0].body, 'secret body text');

    const refused = run('erase', '--recipient', '+15554443333');
    assert.notEqual(refused.status, 0);
    assert.match(refused.stderr, /--yes/);

    const erased = run('erase', '--recipient', '+15554443333', '--yes');
    assert.equal(erased.status, 0, erased.stderr);
    assert.equal(erased.stdout.includes('+15554443333'), false, 'the erasure report names only the hash');
    assert.equal(erased.stderr.includes('secret body text'), false);
    const after = JSON.parse(run('export', '--customer', 'acme').stdout);
    assert.equal(after.decisions.length, 0);
    assert.equal(after.consent.length, 1);
    assert.match(after.consent[0].recipient, /^h1:/);

    assert.equal(run('erase', '--customer', 'acme', '--yes').status, 0);
    assert.equal(JSON.parse(run('export', '--customer', 'acme').stdout).consent.length, 0);
  });
});
