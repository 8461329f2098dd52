import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_LINKS, screen } from '../../src/core/screen.js';
import { loadPack } from '../../src/policy/load-pack.js';
import { policyFrom, msg } from '../helpers.js';

const RULES = `
rules:
  - id: t.prize
    clause: content.unwanted.spam
    kind: phrase
    weight: 4
    description: prize lure
    phrases: [you have won, claim * prize]
    examples: { hit: [you have won], miss: [you won't believe it] }
  - id: t.urgent
    clause: content.unwanted.spam
    kind: phrase
    weight: 2
    description: urgency
    phrases: [urgent]
    examples: { hit: [urgent], miss: [calm] }
  - id: t.threat
    clause: content.violence
    kind: phrase
    weight: 1
    action: block
    description: threat
    phrases: [i will hurt you]
    examples: { hit: [i will hurt you], miss: [it will not hurt] }
  - id: t.shadow
    clause: content.unwanted.spam
    kind: phrase
    weight: 50
    shadow: true
    description: trial rule
    phrases: [bonus]
    examples: { hit: [bonus], miss: [onus] }
  - id: t.voice-only
    clause: content.unwanted.spam
    kind: phrase
    weight: 6
    channels: [voice]
    description: robocall script
    phrases: [press one now]
    examples: { hit: [{ body: press one now, channel: voice }], miss: [{ body: press one now, channel: sms }] }
`;
const policy = policyFrom(RULES);
const ctx = { policy, newId: () => 'd1' };

test('a decision has the documented shape', () => {
  const d = screen(msg('URGENT: you have W0N!'), ctx);
  assert.equal(d.id, 'd1');
  assert.equal(d.messageId, 'm1');
  assert.equal(d.action, 'review');
  assert.equal(d.score, 6);
  assert.match(d.policyVersion, /^test@1\+[0-9a-f]{8}$/);
  assert.deepEqual(d.reasons.map((r) => r.rule).sort(), ['t.prize', 't.urgent']);
  for (const r of d.reasons) {
    assert.equal(typeof r.clause, 'string');
    assert.equal(typeof r.weight, 'number');
    assert.equal(typeof r.detail, 'string');
  }
});

test('evidence points at the original text', () => {
  const body = 'Hey!! Y0U HAVE W0N!!';
  const d = screen(msg(body), ctx);
  const ev = d.reasons.find((r) => r.rule === 't.prize')!.evidence!;
  assert.equal(ev.text, 'Y0U HAVE W0N');
  assert.equal(body.slice(ev.start, ev.end), ev.text);
});

test('scores choose the action by threshold; a clean message is allowed', () => {
  assert.equal(screen(msg('see you at lunch'), ctx).action, 'allow');
  assert.equal(screen(msg('urgent'), ctx).action, 'allow');
  assert.equal(screen(msg('urgent, claim your prize'), ctx).action, 'review');
});

test('a direct action overrides a low score', () => {
  const d = screen(msg('I will hurt you'), ctx);
  assert.equal(d.score, 1);
  assert.equal(d.action, 'block');
});

test('shadow rules are reported but never act', () => {
  const d = screen(msg('bonus'), ctx);
  assert.equal(d.action, 'allow');
  assert.equal(d.score, 0);
  assert.equal(d.reasons[0].rule, 't.shadow');
  assert.equal(d.reasons[0].shadow, true);
});

test('rules limited to channels', () => {
  assert.equal(screen(msg('press one now', { channel: 'voice' }), ctx).action, 'review');
  assert.equal(screen(msg('press one now', { channel: 'sms' }), ctx).action, 'allow');
});

test('state snapshot: opted-out recipients and suspended senders are blocked', () => {
  const state = {
    optedOut: (customer: string, to: string) => customer === 'c1' && to === '+15005550001',
    suspension: (customer: string, endUser?: string) => (endUser === 'bad' ? { detail: 'end user suspended' } : null),
  };
  const optedOut = screen(msg('hello'), { ...ctx, state });
  assert.equal(optedOut.action, 'block');
  assert.equal(optedOut.reasons[0].clause, 'law.opt-out');
  const other = screen(msg('hello', { to: '+15005550002' }), { ...ctx, state });
  assert.equal(other.action, 'allow');
  const suspended = screen(msg('hello', { to: '+15005550002', endUser: 'bad' }), { ...ctx, state });
  assert.equal(suspended.action, 'block');
  assert.equal(suspended.reasons[0].clause, 'account.suspended');
});

test('default pack: media URLs are screened and cited by field', () => {
  const { policy: def } = loadPack();
  const d = screen(msg('see attached', { channel: 'mms', mediaUrls: ['https://bit.ly/abc'] }), { policy: def });
  const r = d.reasons.find((x) => x.rule === 'link.public-shortener');
  assert.ok(r, 'shortener in media URL found');
  assert.equal(r.evidence?.field, 'mediaUrls[0]');
  assert.equal(d.action, 'block');
});

test('default pack: evasion does not help', () => {
  const { policy: def } = loadPack();
  const plain = screen(msg('Your account has been suspended, verify your identity at secure-login.xyz/a'), { policy: def });
  const evasive = screen(msg('Yоur аccount h@s b33n susp3nded, v.e.r.i.f.y your identity at secure-login[.]xyz/a'), { policy: def });
  assert.notEqual(plain.action, 'allow');
  assert.ok(evasive.score >= plain.score, `evasive ${evasive.score} >= plain ${plain.score}`);
  assert.equal(evasive.action, 'block');
});

test('screening is deterministic apart from the decision id', () => {
  const { policy: def } = loadPack();
  const a = screen(msg('Free entry! txt WIN to 80082'), { policy: def, newId: () => 'x' });
  const b = screen(msg('Free entry! txt WIN to 80082'), { policy: def, newId: () => 'x' });
  assert.deepEqual(a, b);
});

test('default pack: link paths are not counted as leetspeak', () => {
  const { policy: def } = loadPack();
  const inLink = screen(msg('look at this https://example.com/1jL4hi8ZMF0a and 4bc0de3'), { policy: def });
  assert.equal(
    inLink.reasons.find((r) => r.rule === 'evasion.leetspeak'),
    undefined,
  );
  const inText = screen(msg('fr33 c@sh at https://example.com/x'), { policy: def });
  assert.ok(inText.reasons.find((r) => r.rule === 'evasion.leetspeak'));
});

test('a negative weight offsets only its own clause, never below zero, and no action', () => {
  const p = policyFrom(`
rules:
  - id: t.hateword
    clause: content.hate
    kind: phrase
    weight: 6
    description: hate word
    phrases: [vermin]
    examples: { hit: [vermin], miss: [kitten] }
  - id: t.prize
    clause: content.unwanted.spam
    kind: phrase
    weight: 6
    description: prize lure
    phrases: [you have won]
    examples: { hit: [you have won], miss: [you won't believe it] }
  - id: t.threat
    clause: content.violence
    kind: phrase
    weight: 1
    action: block
    description: threat
    phrases: [i will hurt you]
    examples: { hit: [i will hurt you], miss: [it will not hurt] }
  - id: t.rebuttal
    clause: content.hate
    kind: phrase
    weight: -9
    description: counter-speech
    phrases: [is racist]
    examples: { hit: [that is racist], miss: [that is fine] }
`);
  const c = { policy: p, newId: () => 'd' };
  // Offsets the hate rule it shares a clause with, down to zero and no further.
  const a = screen(msg('calling them vermin is racist'), c);
  assert.equal(a.score, 0);
  assert.equal(a.action, 'allow');
  assert.ok(a.reasons.some((r) => r.rule === 't.rebuttal' && r.weight === -9));
  // Does not touch another clause's weight.
  const b = screen(msg('you have won, calling them vermin is racist'), c);
  assert.equal(b.score, 6);
  assert.equal(b.action, 'review');
  // Does not lower a direct action.
  const d = screen(msg('I will hurt you, that is racist'), c);
  assert.equal(d.action, 'block');
  assert.equal(d.score, 1);
  // An offset with nothing under its clause changed nothing, so the decision does not list it;
  // pack tests (includeHelperRules) still see that the rule matched.
  const idle = screen(msg('you have won, that is racist'), c);
  assert.equal(idle.score, 6);
  assert.deepEqual(
    idle.reasons.map((r) => r.rule),
    ['t.prize'],
  );
  assert.ok(screen(msg('you have won, that is racist'), { ...c, includeHelperRules: true }).reasons.some((r) => r.rule === 't.rebuttal'));
  // The default pack: "to claim" in a prize SMS is not counter-speech to report.
  const { policy: def } = loadPack();
  const spam = screen(msg('URGENT! You have WON a FREE prize, call 09061701461 to claim'), { policy: def });
  assert.equal(spam.action, 'block');
  assert.equal(
    spam.reasons.find((r) => r.weight < 0),
    undefined,
  );
});

test('default pack: links past the per-message bound are no way past the screen', () => {
  const { policy: def } = loadPack();
  const harmless = Array.from({ length: MAX_LINKS }, (_, i) => `https://example${i}.com/a`).join(' ');
  // The known-bad link comes after every link that is checked one by one.
  const d = screen(msg(`${harmless} https://bit.ly/x`), { policy: def });
  const r = d.reasons.find((x) => x.rule === 'core.too-many-links');
  assert.ok(r, 'more links than the bound is itself a reason');
  assert.equal(r.clause, 'integrity.bypass');
  assert.equal(r.evidence?.text, 'https://bit.ly/x', 'the evidence is the first link left unchecked');
  assert.notEqual(d.action, 'allow');
  // Within the bound, every link is checked and no such reason is given.
  const within = screen(msg(`${harmless.split(' ').slice(1).join(' ')} https://bit.ly/x`), { policy: def });
  assert.equal(
    within.reasons.find((x) => x.rule === 'core.too-many-links'),
    undefined,
  );
  assert.ok(
    within.reasons.find((x) => x.rule === 'link.public-shortener'),
    'the last link within the bound is checked',
  );
  // Media URLs count towards the bound too.
  const media = screen(msg(harmless, { channel: 'mms', mediaUrls: ['https://example.org/p.jpg'] }), { policy: def });
  assert.equal(media.reasons.find((x) => x.rule === 'core.too-many-links')?.evidence?.field, 'mediaUrls[0]');
});
