// TwiML reading: what a document speaks, sends, dials and fetches, however it is written
// (entities, character references, CDATA, comments, SSML), and the documents it refuses.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  TWIML_DOCUMENT_LIMIT,
  TWIML_PARAMETER_LIMIT,
  isTwimlError,
  parseTwiml,
  serializeTwiml,
  twimlContent,
  twimlErrorName,
  type TwimlContent,
} from '../../../src/http/twilio/twiml.js';

function read(xml: string, max?: number): TwimlContent {
  const r = twimlContent(xml, max);
  if (isTwimlError(r)) assert.fail(`unexpected error: ${r.error}: ${r.detail}`);
  return r;
}

function refused(xml: string, max?: number) {
  const r = twimlContent(xml, max);
  assert.ok(isTwimlError(r), `expected a refusal for ${xml.slice(0, 60)}`);
  return r;
}

describe('twimlContent: text', () => {
  it('reads <Say> and decodes the predefined entities and character references', () => {
    assert.equal(
      read('<Response><Say>Verify your &#98;ank &amp; pay&#x6D;ent &lt;now&gt; &quot;x&quot; &apos;y&apos;</Say></Response>').text,
      'Verify your bank & payment <now> "x" \'y\'',
    );
  });

  it('joins CDATA sections and text around comments into the word they split', () => {
    assert.equal(read('<Response><Say>pa<![CDATA[ss]]>wo<!-- hidden -->rd</Say></Response>').text, 'password');
  });

  it('reads nested <Gather><Say>, <Message>, <Sms> and <Message><Body>, one block per line', () => {
    const c = read(`<?xml version="1.0" encoding="UTF-8"?>
      <Response>
        <Gather action="/next" numDigits="1"><Say>Press 1 to confirm</Say><Play>https://cdn.example/a.mp3</Play></Gather>
        <Sms to="+15005550006">Your code is 1234</Sms>
        <Message><Body>Claim your prize</Body><Media>https://cdn.example/p.jpg</Media></Message>
        <Message>Plain body</Message>
      </Response>`);
    assert.deepEqual(c.text.split('\n'), ['Press 1 to confirm', 'Your code is 1234', 'Claim your prize', 'Plain body']);
    assert.deepEqual(c.urls, ['/next', 'https://cdn.example/a.mp3', 'https://cdn.example/p.jpg']);
    assert.deepEqual(c.documentUrls, ['/next']);
    assert.deepEqual(c.numbers, ['+15005550006']);
  });

  it('separate verbs never merge into one word', () => {
    assert.equal(read('<Response><Say>hello</Say><Say>world</Say></Response>').text, 'hello\nworld');
  });

  it('reads SSML inside <Say> as the voice does: inline tags join, a break gives both readings', () => {
    assert.equal(
      read('<Response><Say>pay<emphasis level="strong">me</emphasis>nt <say-as interpret-as="characters">due</say-as></Say></Response>')
        .text,
      'payment due',
    );
    assert.deepEqual(read('<Response><Say>pay<break time="1s"/>ment</Say></Response>').text.split('\n'), ['payment', 'pay ment']);
    assert.deepEqual(read('<Response><Say><prosody rate="slow">your<break/>password</prosody></Say></Response>').text.split('\n'), [
      'yourpassword',
      'your password',
    ]);
    assert.equal(read('<Response><Say><p>one</p><p>two</p><s>three</s></Say></Response>').text, 'one two three');
  });

  it('reads a <sub> both as its alias and as its content', () => {
    assert.deepEqual(read('<Response><Say>call <sub alias="your bank">the office</sub> now</Say></Response>').text.split('\n'), [
      'call your bank now',
      'call the office now',
    ]);
  });

  it('screens the text of elements it does not know, and spoken attributes', () => {
    const c = read(
      '<Response><Connect><ConversationRelay url="wss://ai.example/ws" welcomeGreeting="Hi, this is your bank"/></Connect><Custom>odd text</Custom></Response>',
    );
    assert.deepEqual(c.text.split('\n'), ['Hi, this is your bank', 'odd text']);
    assert.deepEqual(c.urls, ['wss://ai.example/ws']);
    assert.deepEqual(c.documentUrls, []);
  });

  it('collapses whitespace and ignores names nobody hears', () => {
    const c = read(
      '<Response><Say>  a\n\t b  </Say><Dial><Conference>room-free-money</Conference></Dial><Enqueue waitUrl="/wait">q1</Enqueue><Pause length="2"/></Response>',
    );
    assert.equal(c.text, 'a b');
    assert.deepEqual(c.documentUrls, ['/wait']);
  });
});

describe('twimlContent: numbers and URLs', () => {
  it('lists dialled numbers and addresses, caller IDs and the documents a Dial fetches', () => {
    const c = read(`<Response>
      <Dial callerId="+15005550001" action="https://app.example/after">+15005550002</Dial>
      <Dial><Number url="https://app.example/whisper" sendDigits="1">+447700900123</Number><Sip>sip:a@example.com</Sip><Client>agent<Identity>bob</Identity></Client></Dial>
      <Redirect method="GET">https://app.example/loop</Redirect>
      <Record recordingStatusCallback="https://app.example/rec"/>
    </Response>`);
    assert.deepEqual(c.numbers, ['+15005550001', '+15005550002', '+447700900123', 'sip:a@example.com', 'agent', 'bob']);
    assert.deepEqual(c.documentUrls, ['https://app.example/after', 'https://app.example/whisper', 'https://app.example/loop']);
    assert.ok(c.urls.includes('https://app.example/rec'));
    assert.equal(c.text, '');
  });

  it('decodes character references in URLs too', () => {
    assert.deepEqual(read('<Response><Play>https://evil&#46;example/x.mp3</Play></Response>').urls, ['https://evil.example/x.mp3']);
  });
});

describe('twimlContent: refusals', () => {
  it('refuses any DOCTYPE, so entity expansion (billion laughs, XXE) cannot happen', () => {
    const bomb =
      '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><Response><Say>&lol2;</Say></Response>';
    assert.equal(refused(bomb).error, 'doctype');
    const xxe = '<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><Response><Say>&x;</Say></Response>';
    assert.equal(refused(xxe).error, 'doctype');
  });

  it('refuses entities XML does not define (HTML ones such as &nbsp;)', () => {
    assert.equal(refused('<Response><Say>a&nbsp;b</Say></Response>').error, 'malformed');
  });

  it('refuses malformed documents with a clear reason', () => {
    for (const bad of [
      '<Response><Say>unclosed</Response>',
      '<Response>',
      'just text',
      '<Response/><Response/>',
      '<Response><Say a="1" a="2"/></Response>',
      '<Response><Say>a & b</Say></Response>',
      '',
    ]) {
      const e = refused(bad);
      assert.equal(e.error, 'malformed', bad);
      assert.ok(e.detail.length > 0);
      assert.equal(twimlErrorName(e), 'twimlInvalid');
    }
  });

  it('takes a byte-order mark and whitespace before the XML declaration', () => {
    assert.equal(read('\uFEFF\n  <?xml version="1.0" encoding="UTF-8"?>\n<Response><Say>a</Say></Response>').text, 'a');
    assert.equal(refused('<Response/>\n<?xml version="1.0"?>').error, 'malformed');
  });

  it('refuses a root other than <Response>', () => {
    assert.match(refused('<Say>hi</Say>').detail, /Response/);
  });

  it('refuses nesting deeper than TwiML goes', () => {
    assert.equal(refused('<Response>' + '<a>'.repeat(100) + '</a>'.repeat(100) + '</Response>').error, 'malformed');
  });

  it('caps the Twiml parameter at the 4,000 characters Twilio accepts', () => {
    const at = `<Response><Say>${'x'.repeat(TWIML_PARAMETER_LIMIT - 32)}</Say></Response>`;
    assert.equal(at.length, TWIML_PARAMETER_LIMIT);
    assert.equal(read(at).text.length, TWIML_PARAMETER_LIMIT - 32);
    const e = refused(at + ' ');
    assert.equal(e.error, 'too-large');
    assert.equal(twimlErrorName(e), 'twimlTooLarge');
  });
});

describe('twimlContent: size', () => {
  it('screens all of a long fetched document, not a prefix of it', () => {
    const says = Array.from({ length: 2000 }, (_, i) => `<Say>line ${i}</Say>`).join('');
    const xml = `<Response>${says}<Say>the last words</Say></Response>`;
    assert.ok(xml.length > 10_000 && xml.length <= TWIML_DOCUMENT_LIMIT);
    const lines = read(xml, TWIML_DOCUMENT_LIMIT).text.split('\n');
    assert.equal(lines.length, 2001);
    assert.equal(lines.at(-1), 'the last words');
  });

  it('takes time linear in the document', () => {
    const doc = (n: number) => `<Response>${'<Say>pay<break/>ment &#98;ank <![CDATA[x]]><!--c--></Say>'.repeat(n)}</Response>`;
    const time = (xml: string) => {
      let best = Infinity;
      for (let i = 0; i < 7; i++) {
        const t = performance.now();
        twimlContent(xml, 10_000_000);
        best = Math.min(best, performance.now() - t);
      }
      return best;
    };
    time(doc(16_000));
    // Eight times the input; a quadratic reader takes ~64 times as long on every attempt, while
    // noise from the garbage collector or other tests only inflates some attempts.
    const ratios: number[] = [];
    for (let attempt = 0; attempt < 5; attempt++) {
      const ratio = time(doc(16_000)) / time(doc(2_000));
      ratios.push(ratio);
      if (ratio < 24) break;
    }
    assert.ok(Math.min(...ratios) < 24, `8x input took ${ratios.map((r) => r.toFixed(1)).join(', ')}x as long`);
  });

  it('reads the largest document Twilio fetches quickly', () => {
    const unit = '<Say>a<break/>b&#98;<![CDATA[c]]><!--d--></Say>';
    const xml = `<Response>${unit.repeat(Math.floor((TWIML_DOCUMENT_LIMIT - 21) / unit.length))}</Response>`;
    const t = performance.now();
    const c = read(xml, TWIML_DOCUMENT_LIMIT);
    const ms = performance.now() - t;
    assert.ok(c.text.length > 0);
    assert.ok(ms < 250, `${xml.length} characters took ${ms.toFixed(1)} ms`);
  });
});

describe('serializeTwiml', () => {
  it('writes back a document that reads the same', () => {
    const xml =
      '<Response><Say voice="alice">a &amp; b &lt; <![CDATA[<c>]]></Say><Play loop="2">https://x.example/a.mp3?a=1&amp;b=2</Play><Gather action="/n?x=&quot;1&quot;"/></Response>';
    const tree = parseTwiml(xml);
    assert.ok(!isTwimlError(tree));
    const out = serializeTwiml(tree);
    assert.match(out, /^<\?xml version="1.0" encoding="UTF-8"\?><Response>/);
    assert.deepEqual(twimlContent(out), twimlContent(xml));
    assert.match(out, /a &amp; b &lt; &lt;c&gt;/);
  });
});
