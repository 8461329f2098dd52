import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { normalise, originalSpan } from '../../src/core/normalise.js';
import { extractFeatures, FeatureBuffer } from '../../src/classifier/features.js';
import { loadContentModel, encodeWeights, decodeWeights, type ModelFile } from '../../src/classifier/model.js';
import {
  trainLogReg,
  trainNaiveBayes,
  trainNbLogReg,
  featurise,
  fitPlatt,
  chooseThreshold,
  type Example,
} from '../../src/classifier/train.js';
import { textKey, splitBucket, loadData } from '../../src/classifier/data.js';
import { loadPack } from '../../src/policy/load-pack.js';
import { screen } from '../../src/core/screen.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const MODEL = resolve(ROOT, 'models/content-v1.json');
const DATA = resolve(ROOT, '../shared/data');

const SPAM =
  'WINNER!! You have been selected to receive a £900 prize reward! To claim call 09061701461. Claim code KL341. Valid 12 hours only.';
const HAM = 'Sorry, I will be a bit late for dinner, see you at eight.';

test('committed model loads fast and gives probabilities in [0, 1]', () => {
  const t = Date.now();
  const model = loadContentModel(MODEL);
  assert.ok(Date.now() - t < 1000, 'model loads in under a second');
  assert.deepEqual(
    model.heads.map((h) => h.clause),
    ['content.unwanted.spam', 'content.false.phishing', 'content.hate', 'content.violence'],
  );
  for (const text of [SPAM, HAM, '', '🙂🙂', 'ǝɯ ʎɐd']) {
    const p = model.probabilities(normalise(text));
    for (const v of p) assert.ok(v >= 0 && v <= 1 && Number.isFinite(v), `probability ${v} for ${JSON.stringify(text)}`);
  }
});

test('a spam text scores above a ham text, and only the spam is flagged', () => {
  const model = loadContentModel(MODEL, { spam: 16 });
  const ps = model.probabilities(normalise(SPAM))[0];
  const ph = model.probabilities(normalise(HAM))[0];
  assert.ok(ps > ph, `spam ${ps} > ham ${ph}`);
  const signals = model.predict(normalise(SPAM));
  const spam = signals.find((s) => s.label === 'spam');
  assert.ok(spam, 'spam label reported');
  assert.ok(spam.weight >= 5, 'a confident spam reaches review on its own');
  assert.deepEqual(model.predict(normalise(HAM)), []);
});

test('strongest features map to spans of the original text', () => {
  const model = loadContentModel(MODEL);
  const text = normalise(SPAM);
  const spam = model.predict(text).find((s) => s.label === 'spam');
  assert.ok(spam && spam.features.length > 0);
  for (const f of spam.features) {
    const span = originalSpan(text, f.start, f.end);
    assert.ok(span.text.length > 0);
    assert.equal(SPAM.slice(span.start, span.end), span.text);
    assert.ok(f.feature.toLowerCase().startsWith(text.folded.slice(f.start, f.end)));
  }
});

test('weights configure score: w * p, capped by max, below min probability nothing', () => {
  const capped = loadContentModel(MODEL, { spam: 100, 'spam.max': 7 });
  assert.equal(capped.predict(normalise(SPAM)).find((s) => s.label === 'spam')?.weight, 7);
  const off = loadContentModel(MODEL, { spam: 0, phishing: 0 });
  assert.equal(off.predict(normalise(SPAM)).filter((s) => s.label === 'spam' || s.label === 'phishing').length, 0);
  const strict = loadContentModel(MODEL, { 'spam.min': 1.01 });
  assert.equal(strict.predict(normalise(SPAM)).filter((s) => s.label === 'spam').length, 0);
  assert.throws(() => loadContentModel(MODEL, { nope: 1 }), /unknown label/);
});

test('default pack screens with the classifier as one more reason', () => {
  const { policy } = loadPack(undefined, { loadModel: loadContentModel });
  assert.equal(policy.models.length, 1);
  const d = screen({ id: '1', customer: 'c', channel: 'sms', from: 'x', to: 'y', body: SPAM }, { policy, newId: () => 'id' });
  const reason = d.reasons.find((r) => r.rule === 'model.content-v1.spam');
  assert.ok(reason, 'model reason present');
  assert.equal(reason.clause, 'content.unwanted.spam');
  assert.ok(reason.evidence && SPAM.includes(reason.evidence.text));
});

test('features are deterministic and stay inside the bucket range', () => {
  const a = featurise(SPAM, 18);
  const b = featurise(SPAM, 18);
  assert.deepEqual(a, b);
  assert.ok(a.length > 50);
  for (const x of a) assert.ok(x >= 0 && x < 1 << 18);
  // Look-alikes and leetspeak share the canonical word features.
  const buf = new FeatureBuffer();
  extractFeatures(normalise('free prize'), 18, buf, true);
  const plain = [...buf.buckets.subarray(0, buf.count)];
  extractFeatures(normalise('FR33 PRlZE'.replace('l', 'I')), 18, buf, true);
  assert.deepEqual([...buf.buckets.subarray(0, buf.count)].slice(0, 2), plain.slice(0, 2));
});

test('quoted or negated words hash apart from the same words stated', () => {
  const stated = new Set(featurise('I hate them', 18));
  const quoted = featurise('Saying "I hate them" is wrong', 18);
  const negated = featurise("I don't hate them", 18);
  const buf = new FeatureBuffer();
  extractFeatures(normalise('I hate them'), 18, buf, true);
  const hateUnigram = buf.buckets[buf.names.indexOf('hate')];
  assert.ok(stated.has(hateUnigram));
  assert.ok(!quoted.includes(hateUnigram));
  assert.ok(!negated.includes(hateUnigram));
});

function names(text: string): string[] {
  const buf = new FeatureBuffer();
  extractFeatures(normalise(text), 18, buf, true);
  return buf.names.slice(0, buf.count);
}

test('SMS number shapes: money amounts and the leading digits of long numbers', () => {
  assert.equal(names('Win £100 cash, only 150p').filter((n) => n === '<money>').length, 2);
  assert.ok(names('call 09061701461 now').includes('#090...'));
  assert.ok(!names('see you at 8 for 2 beers').includes('<money>'));
});

test('a clause naming a group pairs its words with a group placeholder; reported words are marked', () => {
  const hateful = names('Immigrants are disgusting.');
  assert.ok(hateful.includes('<group> disgusting'));
  // The placeholder is the same for every group: the pair carries over between groups.
  const fb = new FeatureBuffer();
  extractFeatures(normalise('Women are disgusting.'), 18, fb, true);
  const other = new Set(fb.buckets.subarray(0, fb.count));
  extractFeatures(normalise('Muslims are disgusting.'), 18, fb, true);
  assert.ok(
    fb.buckets[fb.names.indexOf('<group> disgusting')] !== undefined && other.has(fb.buckets[fb.names.indexOf('<group> disgusting')]),
  );
  // Only inside the clause that names the group; split letters count ("w o m e n").
  assert.ok(!names('The soup is disgusting. Women came.').includes('<group> disgusting'));
  assert.ok(names('W o m e n are vile').includes('<group> vile'));
  const reported = names('Stop calling women disgusting');
  assert.ok(reported.includes('reported disgusting'));
  assert.ok(!hateful.includes('reported disgusting'));
});

test('word classes: lexicon words, one-letter misspellings and glued words read as the word they stand for', () => {
  const plain = names('Women are a cancer.');
  assert.ok(plain.includes('<neg> in group clause'));
  // A dropped or swapped letter, never the first, maps back to the lexicon word; so does a group word.
  const misspelt = names('Womn are a cancr.');
  assert.ok(misspelt.includes('cancer (as cancr)'));
  assert.ok(misspelt.includes('<neg> in group clause'), 'the misspelt group word still marks the clause');
  assert.ok(names('Fukc them').includes('fuck (as fukc)'));
  // Glued to a neighbour: "ihate", "womendisgust".
  assert.ok(names('Ihate them').includes('hate (as ihate)'));
  assert.ok(names('These womendisgust me').includes('<neg> in group clause'));
  // Real words one letter away from a lexicon word are left alone.
  for (const w of ['back', 'down', 'treat', 'among', 'strange', 'garage']) {
    assert.ok(!names(`go ${w} home`).some((n) => n.includes(`(as ${w})`)), w);
  }
  // Calls to action: a texting or calling verb followed by a short code or a phone number.
  assert.ok(names('txt WIN to 80086 now').includes('<call to action short code>'));
  assert.ok(names('call 09061701461 to claim').includes('<call to action number>'));
  assert.ok(!names('call me at 8').some((n) => n.startsWith('<call to action')));
});

function synthetic(): Example[] {
  const spam = ['win a free prize now', 'claim your cash reward', 'free entry win tickets', 'urgent prize claim call now'];
  const ham = ['see you at lunch', 'running late sorry', 'call me when home', 'dinner at eight ok'];
  const out: Example[] = [];
  for (let i = 0; i < 40; i++) {
    const isSpam = i % 2 === 0;
    const text = (isSpam ? spam : ham)[i % 4] + ` ${i}`;
    out.push({ buckets: featurise(text, 12), y: Int8Array.from([isSpam ? 1 : 0]), sw: Float32Array.from([1]) });
  }
  return out;
}

test('training is deterministic: same data and seed give identical weights', () => {
  const a = trainLogReg(synthetic(), 1, 12, { epochs: 5, learningRate: 0.5, l2: 1e-6, seed: 7 });
  const b = trainLogReg(synthetic(), 1, 12, { epochs: 5, learningRate: 0.5, l2: 1e-6, seed: 7 });
  assert.deepEqual(a.w, b.w);
  assert.deepEqual(a.bias, b.bias);
  const c = trainLogReg(synthetic(), 1, 12, { epochs: 5, learningRate: 0.5, l2: 1e-6, seed: 8 });
  assert.notDeepEqual(a.w, c.w, 'the seed matters');
  const n1 = trainNaiveBayes(synthetic(), 1, 12);
  const n2 = trainNaiveBayes(synthetic(), 1, 12);
  assert.deepEqual(n1.w, n2.w);
});

test('trained models separate the synthetic classes; Platt and thresholds behave', () => {
  const ex = synthetic();
  const nblr = trainNbLogReg(ex, 1, 12, { epochs: 10, learningRate: 0.5, l2: 1e-6, seed: 1 });
  assert.equal(nblr.scaling, 'none');
  for (const m of [trainLogReg(ex, 1, 12, { epochs: 10, learningRate: 0.5, l2: 1e-6, seed: 1 }), trainNaiveBayes(ex, 1, 12), nblr]) {
    const s = m.scaling === 'sqrt';
    const score = (text: string) => {
      const b = featurise(text, 12);
      let z = 0;
      for (const k of b) z += m.w[k];
      return m.bias[0] + (s ? z / Math.sqrt(b.length) : z);
    };
    assert.ok(score('claim your free prize') > score('see you at dinner'), m.method);
  }
  const z = [-3, -2, -1, -0.5, 0.5, 1, 2, 3];
  const y = [0, 0, 0, 1, 0, 1, 1, 1];
  const { a } = fitPlatt(z, y);
  assert.ok(a > 0 && Number.isFinite(a));
  const p = [0.9, 0.8, 0.7, 0.6, 0.4, 0.3, 0.2, 0.1];
  const lab = [1, 1, 0, 1, 1, 0, 0, 0];
  const none = chooseThreshold(
    p,
    lab,
    lab.map(() => 1),
    'recall',
    [{ member: Uint8Array.from(lab, (v) => 1 - v), maxRate: 0 }],
  );
  assert.equal(none.objective, 0.5, 'stops before the first negative');
  assert.ok(none.threshold > 0.7 && none.threshold < 0.8);
});

test('weights survive quantisation', () => {
  const w = Float64Array.from({ length: 64 }, (_, i) => Math.sin(i) * 3);
  const enc = encodeWeights(w, 4, 16);
  const file = {
    features: { bits: 4 },
    heads: [{}, {}, {}, {}],
    quantisation: { bits: 16, scales: enc.scales },
    weights: enc.data,
  } as unknown as ModelFile;
  const back = decodeWeights(file);
  for (let i = 0; i < w.length; i++) assert.ok(Math.abs(back[i] - w[i]) < 1e-3);
});

test('split key: same text, same side, in any dataset', () => {
  assert.equal(textKey('FREE   Prize!!'), textKey('free prize'));
  assert.equal(splitBucket(textKey('Free prize')), splitBucket(textKey('FREE PRIZE!')));
});

test('validation split keeps texts and HateCheck templates on one side', { skip: !existsSync(DATA) && 'needs ../shared/data' }, () => {
  const { rows, sha256 } = loadData(DATA);
  assert.equal(Object.keys(sha256).length, 5);
  const val = new Set(rows.filter((r) => r.split === 'validation').map((r) => r.textKey));
  for (const r of rows) if (r.split === 'train') assert.ok(!val.has(r.textKey));
  const side = new Map<string, string>();
  for (const r of rows.filter((x) => x.dataset === 'hatecheck' && x.split !== 'dropped')) {
    const s = side.get(r.splitKey);
    if (s !== undefined) assert.equal(s, r.split);
    side.set(r.splitKey, r.split);
  }
});

test('words written in capitals carry a <capitals> feature: three letters or more, none lower-case, read from the original text', () => {
  const capitals = (text: string) => {
    const buf = new FeatureBuffer();
    extractFeatures(normalise(text), 18, buf, true);
    return buf.names.filter((n) => n === '<capitals>').length;
  };
  assert.equal(capitals('URGENT! You have WON a FREE prize'), 3);
  assert.equal(capitals('Urgent! You have won a free prize'), 0);
  assert.equal(capitals('OK see you at 5, TV is on'), 0, 'two capitals are not shouting');
  assert.equal(capitals('FR33E entry, CALL now'), 2, 'digits read as letters do not break a capitalised word');
  assert.equal(capitals('FReE'), 0);
  // Offsets map back through folding: full-width capitals are capitals of the original text.
  assert.equal(capitals('ＦＲＥＥ ｐｒｉｚｅ'), 1);
  // The same text in lower case loses only that feature.
  const shouted = featurise('CLAIM your prize', 18);
  const plain = featurise('claim your prize', 18);
  assert.equal(shouted.length, plain.length + 1);
});
