// Credential verification under guessing: scrypt runs a bounded number at a time, a client that
// keeps failing is refused before scrypt runs, and a client with the right secret is unaffected.
// On the real SQLite tenancy store.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Authenticator, VerificationThrottled } from '../../src/http/credentials.js';
import { createCustomer, issueCredential } from '../../src/http/admin/tenancy.js';
import { openStores } from '../../src/store/open-stores.js';
import { DEFAULT_CONFIG } from '../../src/config.js';

describe('credential verification limits', () => {
  it('bounds concurrent scrypt runs, refuses a guessing client, keeps serving the right secret', async () => {
    const stores = await openStores(
      { ...DEFAULT_CONFIG, dataDir: join(mkdtempSync(join(tmpdir(), 'warden-cred-')), 'data') },
      { log: () => undefined },
    );
    try {
      await createCustomer(stores, { id: 'acme', name: 'Acme' });
      const key = await issueCredential(stores, 'acme', { kind: 'api-key' });
      const auth = new Authenticator(stores.tenancy, 30_000, 2_000, 10_000, { concurrent: 2, queued: 6, failuresPerMinute: 5 });

      // Eight different wrong secrets at once: at most two scrypt runs at a time, six wait.
      let peak = 0;
      const sampler = setInterval(() => {
        peak = Math.max(peak, auth.verificationLoad().running);
      }, 1);
      const wrong = await Promise.all(Array.from({ length: 8 }, (_, i) => auth.verify(key.id, `wrong-${i}`, `guesser-${i}`)));
      clearInterval(sampler);
      assert.deepEqual(wrong, Array(8).fill(null));
      assert.ok(peak >= 1 && peak <= 2, `peak concurrent verifications ${peak}`);

      // A queue full of waiters refuses the next unverified secret outright.
      const flood = Array.from({ length: 9 }, (_, i) =>
        auth.verify(key.id, `flood-${i}`, `flooder-${i}`).then(
          () => 'done',
          (e: unknown) => e,
        ),
      );
      const outcomes = await Promise.all(flood);
      assert.equal(outcomes.filter((o) => o instanceof VerificationThrottled).length, 1, '2 running + 6 waiting + 1 refused');

      // One client guessing: five failures, then refused without a verification.
      for (let i = 0; i < 5; i++) assert.equal(await auth.verify(key.id, `guess-${i}`, '203.0.113.9'), null);
      await assert.rejects(
        auth.verify(key.id, 'guess-5', '203.0.113.9'),
        (e: unknown) => e instanceof VerificationThrottled && e.retryAfterSeconds >= 1,
      );
      // ...and even the right secret from that client must wait out the minute,
      await assert.rejects(auth.verify(key.id, key.secret, '203.0.113.9'), VerificationThrottled);
      // while another client with the right secret is served, and then the guesser is too (cached).
      assert.equal((await auth.verify(key.id, key.secret, '198.51.100.7'))?.customer.id, 'acme');
      assert.equal(
        (await auth.verify(key.id, key.secret, '203.0.113.9'))?.customer.id,
        'acme',
        'a cached verification needs no scrypt run',
      );
    } finally {
      await stores.close();
    }
  });

  it('usernameOf: the username a header names, verified or not; null for anything that is not Basic', async () => {
    const stores = await openStores(
      { ...DEFAULT_CONFIG, dataDir: join(mkdtempSync(join(tmpdir(), 'warden-cred-')), 'data') },
      { log: () => undefined },
    );
    try {
      await createCustomer(stores, { id: 'acme', name: 'Acme' });
      const key = await issueCredential(stores, 'acme', { kind: 'api-key' });
      const auth = new Authenticator(stores.tenancy);
      const header = (u: string, p: string) => 'Basic ' + Buffer.from(`${u}:${p}`).toString('base64');
      assert.equal(auth.usernameOf(header(key.id, 'never-verified')), key.id);
      assert.equal((await auth.fromHeader(header(key.id, key.secret)))?.customer.id, 'acme');
      assert.equal(auth.usernameOf(header(key.id, key.secret)), key.id, 'from the verified-header cache');
      assert.equal(await auth.fromHeader(header(key.id, 'wrong')), null);
      assert.equal(auth.usernameOf(header(key.id, 'wrong')), key.id, 'a refused header still names its username');
      assert.equal(auth.usernameOf('Bearer abc'), null);
      assert.equal(auth.usernameOf(undefined), null);
    } finally {
      await stores.close();
    }
  });
});
