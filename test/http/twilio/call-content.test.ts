// CreateCall/UpdateCall parameters: what is screened of a Twiml parameter, and the form forwarded
// with Url, FallbackUrl and the Twiml's document URLs sent through the TwiML proxy.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { callScreenable, proxiedCallFields } from '../../../src/http/twilio/call-content.js';
import { TwimlProxy, TwimlProxyUrlError } from '../../../src/http/twilio/twiml-proxy.js';
import { isTwimlError, twimlContent } from '../../../src/http/twilio/twiml.js';

const proxy = new TwimlProxy({ key: 'k'.repeat(32), publicUrl: 'https://warden.example/' });
const PROXIED = /^https:\/\/warden\.example\/twilio\/twiml\/cust-1\/v1\.[\w-]+\.[\w-]+$/;

describe('callScreenable', () => {
  it('screens the Twiml text, then the URLs it names, one per line', () => {
    const r = callScreenable({
      To: '+15005550002',
      Twiml: '<Response><Say>Hello &#98;ob</Say><Play>https://cdn.example/a.mp3</Play></Response>',
    });
    assert.ok(!('error' in r));
    assert.equal(r.body, 'Hello bob\nhttps://cdn.example/a.mp3');
  });

  it('a Url-only call has nothing to screen in its parameters', () => {
    const r = callScreenable({ Url: 'https://app.example/voice' });
    assert.ok(!('error' in r));
    assert.equal(r.body, '');
  });

  it('names the Twilio error for a Twiml that cannot be read', () => {
    assert.equal((callScreenable({ Twiml: '<Response><Say>x</Response>' }) as { error: string }).error, 'twimlInvalid');
    assert.equal((callScreenable({ Twiml: '<!DOCTYPE x><Response/>' }) as { error: string }).error, 'twimlInvalid');
    assert.equal(
      (callScreenable({ Twiml: `<Response><Say>${'x'.repeat(4000)}</Say></Response>` }) as { error: string }).error,
      'twimlTooLarge',
    );
  });
});

describe('proxiedCallFields', () => {
  it('points Url and FallbackUrl at the proxy, each with its own method, and leaves the rest', () => {
    const fields = {
      To: '+15005550002',
      From: '+15005550001',
      Url: 'https://app.example/voice',
      Method: 'GET',
      FallbackUrl: 'https://app.example/fallback',
      StatusCallback: 'https://app.example/status',
    };
    const out = proxiedCallFields(fields, proxy, 'cust-1', 'CAwarden');
    assert.match(out.Url as string, PROXIED);
    assert.match(out.FallbackUrl as string, PROXIED);
    const claims = proxy.readToken('cust-1', (out.Url as string).split('/').at(-1) as string);
    assert.deepEqual(claims, { ref: 'CAwarden', method: 'GET', url: 'https://app.example/voice', bound: false });
    assert.equal(proxy.readToken('cust-1', (out.FallbackUrl as string).split('/').at(-1) as string)?.method, 'POST');
    assert.equal(out.StatusCallback, fields.StatusCallback);
    assert.equal(out.To, fields.To);
    assert.equal(fields.Url, 'https://app.example/voice', 'the input is not changed');
  });

  it("binds an UpdateCall's URLs to the call", () => {
    const out = proxiedCallFields({ Url: 'https://app.example/voice' }, proxy, 'cust-1', 'CA' + 'f'.repeat(32), { bound: true });
    assert.equal(proxy.readToken('cust-1', (out.Url as string).split('/').at(-1) as string)?.bound, true);
  });

  it("sends a Twiml's absolute document URLs through the proxy, leaves relative ones", () => {
    const out = proxiedCallFields(
      { Twiml: '<Response><Gather action="https://app.example/menu"><Say>Press 1</Say></Gather><Redirect>/rel</Redirect></Response>' },
      proxy,
      'cust-1',
      'CAw',
    );
    const c = twimlContent(out.Twiml as string);
    assert.ok(!isTwimlError(c));
    assert.match(c.documentUrls[0], PROXIED);
    assert.equal(c.documentUrls[1], '/rel');
    assert.equal(c.text, 'Press 1');
  });

  it('forwards the Twiml unchanged when the proxied one would exceed 4,000 characters', () => {
    const redirects = Array.from({ length: 40 }, (_, i) => `<Redirect>https://app.example/${i}</Redirect>`).join('');
    const twiml = `<Response>${redirects}</Response>`;
    assert.equal(proxiedCallFields({ Twiml: twiml }, proxy, 'cust-1', 'CAw').Twiml, twiml);
  });

  it('refuses a Url that is not absolute http(s), or given twice', () => {
    assert.throws(() => proxiedCallFields({ Url: 'ftp://app.example/x' }, proxy, 'cust-1', 'CAw'), TwimlProxyUrlError);
    assert.throws(
      () => proxiedCallFields({ Url: ['https://a.example/1', 'https://b.example/2'] }, proxy, 'cust-1', 'CAw'),
      TwimlProxyUrlError,
    );
  });
});
