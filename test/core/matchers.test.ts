import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RegexSet } from '../../src/core/regex-set.js';
import { DOUBLED, PhraseMatcher, WILDCARD } from '../../src/core/phrase-matcher.js';
import { normalise, phraseForms } from '../../src/core/normalise.js';
import { expandPhrase } from '../../src/policy/phrase-template.js';

test('regex set: rules matching at the same position or overlapping are all reported', () => {
  const set = new RegexSet([
    { pattern: '\\d{10,}', rule: 0 },
    { pattern: '09\\d{9}', rule: 1 },
    { pattern: '1701', rule: 2 },
    { pattern: 'never', rule: 3 },
  ]);
  const hits: Array<{ rule: number; start: number; end: number }> = [];
  set.match('call 09061701851 now', (h) => hits.push(h));
  assert.deepEqual(hits.map((h) => h.rule).sort(), [0, 1, 2]);
  const r2 = hits.find((h) => h.rule === 2)!;
  assert.equal('call 09061701851 now'.slice(r2.start, r2.end), '1701');
});

test('phrase matcher: many phrases, word boundaries, wildcards and one hit per rule', () => {
  const m = new PhraseMatcher();
  for (let i = 0; i < 5000; i++) m.add(phraseForms(`word${i} filler`), i);
  m.add(phraseForms('claim your prize'), 9000);
  m.add(
    ['claim', WILDCARD, 'prize'].map((f) => (f === WILDCARD ? f : phraseForms(f)[0])),
    9001,
  );
  m.add(phraseForms('prize'), 9002);
  assert.equal(m.phraseCount, 5003);
  const hits: number[] = [];
  m.match(normalise('CLAIM Y0UR PRIZE now, claim our prize, prizes'), (h) => hits.push(h.rule));
  assert.deepEqual(hits.sort(), [9000, 9001, 9002]);
  const none: number[] = [];
  m.match(normalise('reclaim yourprize'), (h) => none.push(h.rule));
  assert.deepEqual(none, []);
  const far: number[] = [];
  m.match(normalise('word4999 filler'), (h) => far.push(h.rule));
  assert.deepEqual(far, [4999]);
});

test('phrase matcher: a word marked DOUBLED matches only where a double letter was written', () => {
  const m = new PhraseMatcher();
  m.add(['cons' + DOUBLED], 1); // "coons", squeezed
  m.add(['the', 'cons' + DOUBLED], 2);
  m.add(phraseForms('pros'), 3);
  const hits = (text: string) => {
    const out: number[] = [];
    m.match(normalise(text), (h) => out.push(h.rule));
    return out.sort();
  };
  assert.deepEqual(hits('pros and cons'), [3]);
  assert.deepEqual(hits('the coons'), [1, 2]);
  assert.deepEqual(hits('the c00ns'), [1, 2], 'leet digits');
  assert.deepEqual(hits('cooooons'), [1], 'stretched');
  assert.deepEqual(hits('the cons'), []);
});

test('phrase templates expand alternatives and optional words', () => {
  assert.deepEqual(
    expandPhrase('{kill|hurt} [all] {them|those people}').sort(),
    [
      'hurt all them',
      'hurt all those people',
      'hurt them',
      'hurt those people',
      'kill all them',
      'kill all those people',
      'kill them',
      'kill those people',
    ].sort(),
  );
  assert.deepEqual(expandPhrase('plain phrase'), ['plain phrase']);
  assert.throws(() => expandPhrase('{a|b'), /unclosed/);
  assert.throws(() => expandPhrase('a}'), /unmatched/);
  assert.throws(() => expandPhrase('{a|{b}}'), /nested/);
  assert.throws(() => expandPhrase(Array.from({ length: 8 }, () => '{a|b|c|d|e}').join(' ')), /more than/);
});
