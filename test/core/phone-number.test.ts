// Canonical recipient numbers: the forms a number is written in, what is not a number, and the
// fast path for North American numbers checked against libphonenumber itself.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parsePhoneNumberFromString } from 'libphonenumber-js';
import { canonicalAddress, canonicalNumber, canonicalRecipient, countryOfNumber } from '../../src/core/phone-number.js';
import { parseMessage } from '../../src/core/message-input.js';

describe('canonical phone numbers', () => {
  it('removes formatting, reads national digits in a given country, strips a trunk prefix after the country code', () => {
    assert.equal(canonicalNumber('+1 (415) 555-0100'), '+14155550100');
    assert.equal(canonicalNumber('+1.415.555.0100'), '+14155550100');
    assert.equal(canonicalNumber('(415) 555-0100', 'US'), '+14155550100');
    assert.equal(canonicalNumber('020 7946 0000', 'GB'), '+442079460000');
    assert.equal(canonicalNumber('+44 (0)20 7946 0000'), '+442079460000');
    assert.equal(canonicalNumber('+4402079460000'), '+442079460000');
  });

  it('is null for what cannot be a phone number', () => {
    for (const s of ['', 'hello', '+1415', '+1 415 555 01', '(415) 555-0100', '12', '+999 1234567', 'x'.repeat(100)])
      assert.equal(canonicalNumber(s), null, s);
  });

  it('keeps channel addresses, with their number in E.164', () => {
    assert.equal(canonicalAddress(' WhatsApp:+1 415 555 0100 '), 'whatsapp:+14155550100');
    assert.equal(canonicalAddress('client:alice'), 'client:alice');
    assert.equal(canonicalAddress('sip:alice@example.com'), 'sip:alice@example.com');
    assert.equal(canonicalAddress('+1 415 555 0100'), '+14155550100');
    assert.equal(canonicalAddress('nonsense'), null);
    assert.equal(canonicalAddress('rcs:+1 415 555 0100'), '+14155550100', "RCS shares the number's opt-outs with SMS");
  });

  it('the North American fast path answers what libphonenumber answers (2,000 numbers)', () => {
    let seed = 12345;
    const rnd = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    for (let i = 0; i < 2000; i++) {
      const n = `+1${2 + rnd(8)}${String(rnd(100)).padStart(2, '0')}${String(rnd(10_000_000)).padStart(7, '0')}`;
      assert.equal(canonicalNumber(n), parsePhoneNumberFromString(n)?.number, n);
    }
  });

  it('reads a recipient written without country code in the country of the sender', () => {
    assert.equal(canonicalRecipient('020 7946 0000', '+442079460999'), '+442079460000');
    assert.equal(canonicalRecipient('(415) 555-0100', 'whatsapp:+15005550006'), '+14155550100');
    assert.equal(canonicalRecipient('(415) 555-0100', 'MG' + '0'.repeat(32)), null);
    assert.equal(canonicalRecipient('+1 415 555 0100', ''), '+14155550100');
  });

  it('knows the country of a number, by area code where a calling code is shared', () => {
    assert.equal(countryOfNumber('+14155550100'), 'US');
    assert.equal(countryOfNumber('+16135550123'), 'CA');
    assert.equal(countryOfNumber('+442079460000'), 'GB');
  });

  it('parseMessage puts phone-channel recipients in canonical form and refuses what is no number', () => {
    const ok = parseMessage({ to: '+1 (415) 555-0100', body: 'hi' }, 'm1');
    assert.ok(ok.ok);
    assert.equal(ok.message.to, '+14155550100');
    const bad = parseMessage({ to: 'hello', body: 'hi' }, 'm2');
    assert.deepEqual(bad, { ok: false, error: 'field "to" is not a phone number (E.164 such as +14155550100) or channel address' });
    const chat = parseMessage({ to: 'user-42', channel: 'chat', body: 'hi' }, 'm3');
    assert.ok(chat.ok && chat.message.to === 'user-42');
    const national = parseMessage({ to: '(415) 555-0100', from: '+15005550006', body: 'hi' }, 'm5');
    assert.ok(national.ok && national.message.to === '+14155550100', "national digits read in the sender's country");
    assert.equal(parseMessage({ to: '(415) 555-0100', from: 'ACME', body: 'hi' }, 'm6').ok, false, 'no country to read them in');
    const none = parseMessage({ body: 'hi' }, 'm4');
    assert.ok(none.ok && none.message.to === '', 'no recipient: content only');
  });
});
