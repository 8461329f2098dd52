// The secret relays to an app are signed with, on the real SQLite tenancy store: an explicit
// signing secret, else the customer's own auth token (sealed at issue), else the upstream token
// with one warning; cached until tenancy changes.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import twilio from 'twilio';
import { DEFAULT_CONFIG } from '../../src/config.js';
import { createCustomer, issueCredential, updateCustomer } from '../../src/http/admin/tenancy.js';
import { RelaySigner } from '../../src/http/twilio/relay-signing.js';
import { openStores } from '../../src/store/open-stores.js';

describe('relay signing secret', () => {
  it('explicit secret, else own auth token, else upstream token (warned once); cached until invalidated; another key falls back', async () => {
    const dataDir = join(mkdtempSync(join(tmpdir(), 'warden-sign-')), 'data');
    const stores = await openStores({ ...DEFAULT_CONFIG, dataDir }, { log: () => undefined });
    const warnings: string[] = [];
    try {
      const c = await createCustomer(stores, { id: 'acme', upstream: { baseUrl: 'https://api.twilio.com', authToken: 'upstream-token' } });
      const token = await issueCredential(stores, 'acme', { kind: 'auth-token' });
      await issueCredential(stores, 'acme', { kind: 'api-key' });
      const signer = new RelaySigner(stores.tenancy, stores.secrets, (_d, m) => warnings.push(m));
      const own = await signer.secretFor(c);
      assert.deepEqual([own.secret, own.source], [token.secret, 'auth-token']);
      const url = 'https://app.example/sms?x=1';
      const params = { MessageSid: 'SM1', Body: 'hi', OptOutType: 'STOP' };
      assert.ok(twilio.validateRequest(token.secret, (await signer.sign(c, url, params))!, url, params));

      const withSecret = await updateCustomer(stores, 'acme', { settings: { signingSecret: 'explicit-secret' } });
      assert.equal((await signer.secretFor(withSecret)).source, 'auth-token', 'cached until tenancy changes');
      signer.invalidate();
      assert.deepEqual(
        [(await signer.secretFor(withSecret)).secret, (await signer.secretFor(withSecret)).source],
        ['explicit-secret', 'signing-secret'],
      );

      await stores.tenancy.revokeCredential(token.id, new Date().toISOString());
      signer.invalidate();
      assert.equal((await signer.secretFor(c)).source, 'upstream-token', 'no live auth token: the upstream token');
      signer.invalidate();
      assert.equal((await signer.secretFor(c)).secret, 'upstream-token');
      assert.equal(warnings.length, 1, 'warned once per customer');
    } finally {
      await stores.close();
    }

    // The same data opened under another installation key: the sealed secret does not open.
    const other = await openStores({ ...DEFAULT_CONFIG, dataDir, secretKey: 'a-different-installation-key' }, { log: () => undefined });
    try {
      const signer = new RelaySigner(other.tenancy, other.secrets, (_d, m) => warnings.push(m));
      const c = (await other.tenancy.getCustomer('acme'))!;
      assert.deepEqual([(await signer.secretFor(c)).secret, (await signer.secretFor(c)).source], ['upstream-token', 'upstream-token']);
      assert.ok(warnings.some((w) => /does not open/.test(w)));
    } finally {
      await other.close();
    }
  });
});
