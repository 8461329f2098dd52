import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normalise, originalSpan, phraseForms } from '../../src/core/normalise.js';

const forms = (text: string) => normalise(text).tokens.map((t) => t.form);
const joined = (text: string) => normalise(text).joined.map((t) => t.form);

test('NFKC folds full-width letters, ligatures and mathematical letters', () => {
  assert.deepEqual(forms('ＦＲＥＥ'), phraseForms('free'));
  assert.deepEqual(forms('ﬁnal'), phraseForms('final'));
  assert.deepEqual(forms('𝐟𝐫𝐞𝐞'), phraseForms('free'));
});

test('case folding and diacritics', () => {
  assert.deepEqual(forms('FrÉé PRÍZE'), phraseForms('free prize'));
  assert.deepEqual(forms('cafe\u0301'), ['cafe']);
});

test('Cyrillic and Greek homoglyphs fold to Latin and are counted as mixed script', () => {
  const n = normalise('pаypаl ассount'); // Cyrillic а and с
  assert.deepEqual(
    n.tokens.map((t) => t.form),
    phraseForms('paypal account'),
  );
  assert.equal(n.signals.mixedScript, 2);
  const greek = normalise('frοm yοur bank'); // Greek omicron
  assert.deepEqual(
    greek.tokens.map((t) => t.form),
    phraseForms('from your bank'),
  );
  // Real Cyrillic words are not mixed-script evasion.
  assert.equal(normalise('Привет').signals.mixedScript, 0);
});

test('zero-width and bidi control characters are removed and counted', () => {
  const n = normalise('fr\u200Bee mo\u200Dney \u202Eclaim\u202C');
  assert.deepEqual(
    n.tokens.map((t) => t.form),
    phraseForms('free money claim'),
  );
  assert.equal(n.signals.invisible, 4);
});

test('each leetspeak substitution maps inside words', () => {
  assert.deepEqual(forms('fr33'), phraseForms('free'));
  assert.deepEqual(forms('m0ney'), phraseForms('money'));
  assert.deepEqual(forms('w1n'), phraseForms('win'));
  assert.deepEqual(forms('4ccount'), phraseForms('account'));
  assert.deepEqual(forms('5ale'), phraseForms('sale'));
  assert.deepEqual(forms('7icket'), phraseForms('ticket'));
  assert.deepEqual(forms('c@sh'), phraseForms('cash'));
  assert.deepEqual(forms('$ave'), phraseForms('save'));
  // 1 reads as i or l: the alternative reading is kept for matching.
  const t = normalise('bi11').tokens[0];
  assert.equal(t.alt, phraseForms('bill')[0]);
  assert.equal(normalise('fr33 c@sh').signals.leet, 2);
});

test('numbers without letters are left alone', () => {
  assert.deepEqual(forms('call 0800 1000'), ['cal', '0800', '1000']);
  assert.equal(normalise('2 for 1').signals.leet, 0);
});

test('letters split by separators are glued in the joined view', () => {
  assert.deepEqual(joined('f.r.e.e'), phraseForms('free'));
  assert.deepEqual(joined('get f r e e stuff'), phraseForms('get free stuff'));
  assert.deepEqual(joined('fr-ee'), phraseForms('free'));
  assert.deepEqual(joined('fr_ee'), phraseForms('free'));
  assert.equal(normalise('f r e e').signals.split, 1);
  // A leading "a" or "i" may be the article or pronoun: the rest is the alternative form.
  const article = normalise('you are a s c a m m e r').joined.at(-1)!;
  assert.equal(article.alt, phraseForms('scammer')[0]);
  assert.equal(normalise('i n f o').joined[0].form, phraseForms('info')[0]);
  // Ordinary text keeps one view.
  const n = normalise('hello there');
  assert.equal(n.joined, n.tokens);
});

test('stretched letters are squeezed on both sides', () => {
  assert.deepEqual(forms('freeeeee'), phraseForms('free'));
  assert.deepEqual(forms('wiiiinner'), phraseForms('winner'));
  assert.equal(normalise('yesssss').signals.stretched, 1);
});

test('spans map back to the original text through every transformation', () => {
  const original = 'Hi ＦＲ\u200BＥＥ prize!';
  const n = normalise(original);
  const free = n.tokens[1];
  const span = originalSpan(n, free.start, free.end);
  assert.equal(span.text, 'ＦＲ\u200BＥＥ');
  assert.equal(original.slice(span.start, span.end), span.text);
  const emoji = normalise('😀 𝐟𝐫𝐞𝐞');
  const s2 = originalSpan(emoji, emoji.tokens[0].start, emoji.tokens[0].end);
  assert.equal(s2.text, '𝐟𝐫𝐞𝐞');
});

test('empty and whitespace-only text', () => {
  assert.deepEqual(normalise('').tokens, []);
  assert.deepEqual(normalise('   \n\t').tokens, []);
  assert.deepEqual(originalSpan(normalise(''), 0, 0), { start: 0, end: 0, text: '' });
});

test('symbols that fold to themselves ("£", "€", "�") keep offsets one to one; folded letters beside them still map back', () => {
  const plain = normalise('WIN £100 or €50 now\ufffd');
  assert.equal(plain.folded, 'win £100 or €50 now\ufffd');
  assert.equal(plain.starts, null, 'one-to-one offsets need no map');
  assert.deepEqual(originalSpan(plain, 4, 8), { start: 4, end: 8, text: '£100' });
  const mixed = normalise('£5 FRÉÉ ｐｒｉｚｅ £10');
  assert.equal(mixed.folded, '£5 free prize £10');
  const prize = mixed.tokens.find((t) => t.form === 'prize')!;
  assert.equal(originalSpan(mixed, prize.start, prize.end).text, 'ｐｒｉｚｅ');
  const last = mixed.tokens[mixed.tokens.length - 1];
  assert.equal(originalSpan(mixed, last.start - 1, last.end).text, '£10');
  // Capital sigma lower-cases by its position, so it never takes the one-to-one path.
  assert.notEqual(normalise('ΣΑΣ').starts, null);
});
