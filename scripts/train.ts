// `npm run train`: rebuilds models/content-v1.json from the development data in ../shared/data
// (or --data DIR), deterministically. Trains logistic regression and naive Bayes the same way
// (cross-fitted calibration and thresholds on the training part), measures both on our own
// validation split, keeps the better one and records the data hashes, seed and figures in the file.

import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  loadData,
  HEADS,
  SPAM,
  PHISHING,
  HATE,
  VIOLENCE,
  VALIDATION_PERCENT,
  VALIDATION_SALT,
  splitBucket,
  type Row,
} from '../src/classifier/data.js';
import {
  trainLogReg,
  trainNaiveBayes,
  trainNbLogReg,
  rawScores,
  fitPlatt,
  sigmoid,
  chooseThreshold,
  featurise,
  DEFAULT_LOGREG,
  DEFAULT_NB,
  type Example,
  type LinearWeights,
  type RateCap,
} from '../src/classifier/train.js';
import { encodeWeights, HashedLinearModel, MODEL_FORMAT, type ModelFile, type HeadSpec } from '../src/classifier/model.js';
import { FEATURE_VERSION, FeatureBuffer } from '../src/classifier/features.js';
import { computeFigures, TARGETS, lowerIsBetter, type Figures } from '../src/classifier/evaluate.js';
import { normalise } from '../src/core/normalise.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

const { values: args } = parseArgs({
  options: {
    data: { type: 'string', default: resolve(ROOT, '../shared/data') },
    out: { type: 'string', default: resolve(ROOT, 'models/content-v1.json') },
    method: { type: 'string', default: 'auto' },
    select: { type: 'string', default: 'naive-bayes+nb-logreg' },
    'davidson-offensive': { type: 'string', default: '0.3' },
    seed: { type: 'string', default: String(DEFAULT_LOGREG.seed) },
    bits: { type: 'string', default: '18' },
    quant: { type: 'string', default: '8' },
    folds: { type: 'string', default: '5' },
    epochs: { type: 'string', default: String(DEFAULT_LOGREG.epochs) },
    lr: { type: 'string', default: String(DEFAULT_LOGREG.learningRate) },
    l2: { type: 'string', default: String(DEFAULT_LOGREG.l2) },
    'dump-oof': { type: 'string' },
    'nb-alpha': { type: 'string', default: String(DEFAULT_NB.alpha) },
    'hatecheck-weight': { type: 'string', default: '10' },
    'davidson-weight': { type: 'string', default: '0.3' },
  },
});

const BITS = Number(args.bits);
const SEED = Number(args.seed);
const FOLDS = Number(args.folds);
const QUANT = Number(args.quant) as 8 | 16;
const H = HEADS.length;
const t0 = Date.now();
const log = (s: string) => process.stderr.write(`[train ${((Date.now() - t0) / 1000).toFixed(1)}s] ${s}\n`);

/** How much each dataset counts for each head (HateCheck is small but is the sharpest hate data). */
const DATASET_WEIGHT: Record<string, number[]> = {
  'sms-spam-collection': [1, 1, 1, 1],
  'sms-phishing-mendeley': [1, 1, 1, 1],
  hatecheck: [1, 1, Number(args['hatecheck-weight']), Number(args['hatecheck-weight'])],
  'davidson-hate-offensive': [0.5, 0.5, Number(args['davidson-weight']), Number(args['davidson-weight'])],
  'ethos-hate-speech': [1, 1, 1, 1],
};

const data = loadData(args.data);
log(`read ${data.rows.length} rows from ${args.data}`);
const train = data.rows.filter((r) => r.split === 'train');
const validation = data.rows.filter((r) => r.split === 'validation');
log(
  `split: ${train.length} train, ${validation.length} validation, ${data.rows.length - train.length - validation.length} dropped (text also in validation)`,
);

const buf = new FeatureBuffer();
const featurised = new Map<Row, Int32Array>();
for (const r of data.rows) if (r.split !== 'dropped') featurised.set(r, featurise(r.text, BITS, buf));
log('featurised');

// Per-head class balance: positives count sqrt(neg/pos) times (at most 4x), on top of the dataset weight.
const posWeight = HEADS.map((_, h) => {
  let pos = 0,
    neg = 0;
  for (const r of train) {
    if (r.y[h] === 1) pos++;
    else if (r.y[h] === 0) neg++;
  }
  return Math.min(4, Math.max(1, Math.sqrt(neg / Math.max(pos, 1))));
});

/** Davidson's offensive_language tweets as hate negatives: mostly slurs and insults HateCheck calls hateful. */
const DAVIDSON_OFFENSIVE = Number(args['davidson-offensive']);

function toExample(r: Row): Example {
  const sw = new Float32Array(H);
  for (let h = 0; h < H; h++) sw[h] = DATASET_WEIGHT[r.dataset][h] * (r.y[h] === 1 ? posWeight[h] : 1);
  if (r.dataset === 'davidson-hate-offensive' && r.label === 'offensive_language') sw[HATE] = DAVIDSON_OFFENSIVE;
  return { buckets: featurised.get(r)!, y: Int8Array.from(r.y), sw };
}
const trainExamples = train.map(toExample);

const NB = { ...DEFAULT_NB, alpha: Number(args['nb-alpha']) };
const LOGREG = { ...DEFAULT_LOGREG, seed: SEED, epochs: Number(args.epochs), learningRate: Number(args.lr), l2: Number(args.l2) };
type Fitter = (ex: readonly Example[]) => LinearWeights;
const FITTERS: Record<string, Fitter> = {
  logreg: (ex) => trainLogReg(ex, H, BITS, LOGREG),
  'naive-bayes': (ex) => trainNaiveBayes(ex, H, BITS, NB),
  'nb-logreg': (ex) => trainNbLogReg(ex, H, BITS, LOGREG),
};

// Operating-point rules per head, applied to cross-fitted probabilities of the training part.
const isSmsHam = Uint8Array.from(train, (r) => (r.dataset.startsWith('sms-') && r.label === 'ham' ? 1 : 0));
const isMendeleySpam = Uint8Array.from(train, (r) => (r.dataset === 'sms-phishing-mendeley' && r.label === 'spam' ? 1 : 0));
const isHateNegative = Uint8Array.from(train, (r) => (!r.dataset.startsWith('sms-') && r.y[HATE] === 0 ? 1 : 0));
const GOALS: Array<{ objective: 'recall' | 'accuracy'; caps: RateCap[] }> = [];
GOALS[SPAM] = { objective: 'recall', caps: [{ member: isSmsHam, maxRate: 0.0015 }] };
GOALS[PHISHING] = {
  objective: 'recall',
  caps: [
    { member: isSmsHam, maxRate: 0.0005 },
    { member: isMendeleySpam, maxRate: 0.15 },
  ],
};
// Hate and violence must not fire on ordinary SMS at all: no cross-fitted SMS ham may reach them.
GOALS[HATE] = { objective: 'accuracy', caps: [{ member: isSmsHam, maxRate: 0 }] };
GOALS[VIOLENCE] = {
  objective: 'accuracy',
  caps: [
    { member: isSmsHam, maxRate: 0 },
    { member: isHateNegative, maxRate: 0.03 },
  ],
};

function foldOf(r: Row): number {
  // A second hash of the split key, so duplicates and HateCheck templates stay in one fold.
  return splitBucket(`fold:${r.splitKey}`) % FOLDS;
}

interface Fitted {
  method: string;
  heads: HeadSpec[];
  final: LinearWeights;
  seconds: number;
  cv: Figures[];
  oof: Float64Array[];
}

/**
 * Cross-validated figures of one head on the training part (out-of-fold probabilities at the
 * head's operating point): what picks the method per head, so the validation split stays unseen.
 */
function cvFigures(h: number, p: Float64Array, threshold: number): Figures {
  const rate = (sel: (r: Row) => boolean, hit: (i: number) => boolean) => {
    let n = 0,
      k = 0;
    train.forEach((r, i) => {
      if (sel(r)) {
        n++;
        if (hit(i)) k++;
      }
    });
    return n > 0 ? Math.round((k / n) * 10000) / 10000 : NaN;
  };
  const flagged = (i: number) => p[i] >= threshold;
  const f: Figures = {};
  f.sms_ham_fpr = rate((r) => r.dataset.startsWith('sms-') && r.label === 'ham', flagged);
  if (h === SPAM) f.uci_spam_recall = rate((r) => r.dataset === 'sms-spam-collection' && r.label === 'spam', flagged);
  if (h === SPAM || h === PHISHING)
    f.smishing_recall = rate((r) => r.dataset === 'sms-phishing-mendeley' && r.label === 'smishing', flagged);
  if (h === HATE || h === VIOLENCE) {
    const correct = (i: number) => flagged(i) === (train[i].label === 'hateful');
    f.hatecheck_accuracy = rate((r) => r.dataset === 'hatecheck', correct);
    const funcs = [...new Set(train.filter((r) => r.dataset === 'hatecheck').map((r) => r.functionality ?? ''))];
    f.hatecheck_min_functionality = Math.min(...funcs.map((g) => rate((r) => r.dataset === 'hatecheck' && r.functionality === g, correct)));
    f.davidson_hate_recall = rate((r) => r.dataset === 'davidson-hate-offensive' && r.label === 'hate_speech', flagged);
    f.davidson_neither_flag_rate = rate((r) => r.dataset === 'davidson-hate-offensive' && r.label === 'neither', flagged);
  }
  if (h === VIOLENCE) {
    f.threat_recall = rate((r) => r.dataset === 'hatecheck' && r.y[VIOLENCE] === 1, flagged);
    f.hatecheck_non_threat_flag_rate = rate((r) => r.dataset === 'hatecheck' && r.y[VIOLENCE] === 0, flagged);
  }
  return f;
}

/** The cross-validated figure each head's method is chosen by. */
function cvScore(h: number, f: Figures): number {
  if (h === SPAM) return f.uci_spam_recall;
  if (h === PHISHING) return f.smishing_recall;
  if (h === VIOLENCE) return f.threat_recall - f.hatecheck_non_threat_flag_rate - 10 * f.sms_ham_fpr;
  return f.hatecheck_accuracy + 0.25 * f.hatecheck_min_functionality - 10 * f.sms_ham_fpr;
}

/** Cross-fits one method on the training part: calibration and operating point per head, then the final fit. */
function fitMethod(method: string): Fitted {
  const start = Date.now();
  const fit = FITTERS[method];
  const oof = Array.from({ length: H }, () => new Float64Array(train.length));
  const folds = train.map(foldOf);
  const z = new Float64Array(H);
  for (let k = 0; k < FOLDS; k++) {
    const m = fit(trainExamples.filter((_, i) => folds[i] !== k));
    train.forEach((_, i) => {
      if (folds[i] !== k) return;
      rawScores(m, trainExamples[i].buckets, z);
      for (let h = 0; h < H; h++) oof[h][i] = z[h];
    });
  }
  const final = fit(trainExamples);
  return calibrate(method, oof, final, start);
}

/**
 * Ensemble of two methods with the same scaling: per head, the sum of their raw scores, each
 * divided by its cross-fitted standard deviation. Still one linear form, so inference is unchanged.
 */
function ensemble(a: Fitted, b: Fitted): Fitted {
  if (a.final.scaling !== b.final.scaling) throw new Error(`cannot add ${a.method} and ${b.method}: different scaling`);
  const name = `${a.method}+${b.method}`;
  const sd = (x: Float64Array) => {
    let m = 0,
      v = 0;
    for (const t of x) m += t;
    m /= x.length;
    for (const t of x) v += (t - m) * (t - m);
    return Math.sqrt(v / x.length) || 1;
  };
  const w = new Float64Array(a.final.w.length);
  const bias = new Float64Array(H);
  const oof = Array.from({ length: H }, () => new Float64Array(train.length));
  for (let h = 0; h < H; h++) {
    const sa = sd(a.oof[h]),
      sb = sd(b.oof[h]);
    for (let k = h; k < w.length; k += H) w[k] = a.final.w[k] / sa + b.final.w[k] / sb;
    bias[h] = a.final.bias[h] / sa + b.final.bias[h] / sb;
    for (let i = 0; i < train.length; i++) oof[h][i] = a.oof[h][i] / sa + b.oof[h][i] / sb;
  }
  return calibrate(name, oof, { ...a.final, method: name, w, bias }, Date.now());
}

/** Platt scaling and operating point per head on cross-fitted raw scores. */
function calibrate(method: string, oof: Float64Array[], final: LinearWeights, start: number): Fitted {
  const heads: HeadSpec[] = [];
  const cv: Figures[] = [];
  for (let h = 0; h < H; h++) {
    const idx = train.map((r, i) => (r.y[h] >= 0 ? i : -1)).filter((i) => i >= 0);
    const platt = fitPlatt(
      idx.map((i) => oof[h][i]),
      idx.map((i) => train[i].y[h]),
    );
    const p = Float64Array.from(oof[h], (v) => sigmoid(platt.a * v + platt.b));
    const y = Int8Array.from(train, (r) => r.y[h]);
    const w = Float64Array.from(trainExamples, (e) => e.sw[h]);
    const { threshold } = chooseThreshold(p, y, w, GOALS[h].objective, GOALS[h].caps);
    cv.push(cvFigures(h, p, threshold));
    heads.push({
      label: HEADS[h].label,
      clause: HEADS[h].clause,
      bias: final.bias[h],
      platt,
      threshold: Math.min(threshold, 0.999),
      scaling: final.scaling,
      method: final.method,
    });
  }
  const seconds = (Date.now() - start) / 1000;
  log(`${method}: fitted and calibrated in ${seconds.toFixed(1)}s`);
  HEADS.forEach((hd, h) =>
    log(
      `  cv ${hd.label}: ${Object.entries(cv[h])
        .map(([k, v]) => `${k}=${v.toFixed(4)}`)
        .join(' ')}`,
    ),
  );
  return { method, heads, final, seconds, cv, oof };
}

interface Built {
  name: string;
  file: ModelFile;
  figures: Figures;
  labelFigures: Record<string, number>;
}

/** Builds the stored model from one method per head and measures it on the validation part. */
function assemble(name: string, perHead: Fitted[]): Built {
  const size = (1 << BITS) * H;
  const w = new Float64Array(size);
  for (let i = 0; i < size; i++) w[i] = perHead[i % H].final.w[i];
  const enc = encodeWeights(w, H, QUANT);
  const file: ModelFile = {
    format: MODEL_FORMAT,
    name: 'content-v1',
    method: name,
    features: { version: FEATURE_VERSION, bits: BITS },
    heads: perHead.map((f, h) => f.heads[h]),
    quantisation: { bits: QUANT, scales: enc.scales },
    weights: enc.data,
  };
  const model = new HashedLinearModel(file);
  const probs = new Float64Array(H);
  const labelHits = HEADS.map(() => ({ tp: 0, pos: 0, fp: 0, neg: 0 }));
  const scored = validation.map((r) => {
    model.probabilities(normalise(r.text), probs);
    const labels = file.heads.filter((hd, h) => probs[h] >= hd.threshold).map((hd) => hd.label);
    for (let h = 0; h < H; h++) {
      const flagged = probs[h] >= file.heads[h].threshold;
      if (r.y[h] === 1) {
        labelHits[h].pos++;
        if (flagged) labelHits[h].tp++;
      }
      if (r.y[h] === 0) {
        labelHits[h].neg++;
        if (flagged) labelHits[h].fp++;
      }
    }
    return { dataset: r.dataset, label: r.label, functionality: r.functionality, flagged: labels.length > 0, labels };
  });
  const labelFigures: Record<string, number> = {};
  HEADS.forEach((hd, h) => {
    labelFigures[`${hd.label}.recall`] = Math.round((labelHits[h].tp / Math.max(labelHits[h].pos, 1)) * 10000) / 10000;
    labelFigures[`${hd.label}.fpr`] = Math.round((labelHits[h].fp / Math.max(labelHits[h].neg, 1)) * 10000) / 10000;
  });
  return { name, file, figures: computeFigures(scored), labelFigures };
}

function targetsMet(f: Figures): number {
  return Object.entries(TARGETS).filter(([k, [bound, kind]]) => (kind === 'min' ? f[k] >= bound : f[k] <= bound)).length;
}
function quality(f: Figures): number {
  return (
    f['sms_spam.spam_recall'] +
    f['sms_phishing.smishing_recall'] +
    f['hatecheck.accuracy'] +
    f['hatecheck.min_functionality_accuracy'] +
    f['davidson.hate_recall'] -
    f['davidson.neither_flag_rate'] -
    10 * f['sms_spam.ham_fpr'] -
    10 * f['sms_phishing.ham_fpr']
  );
}

const methods = args.method === 'auto' ? Object.keys(FITTERS) : args.method.split(',');
const fitted: Record<string, Fitted> = {};
for (const m of methods) {
  if (FITTERS[m] === undefined) throw new Error(`unknown method ${m}`);
  fitted[m] = fitMethod(m);
}
// Candidates measured on validation for the record: each method alone.
if (fitted['naive-bayes'] !== undefined && fitted['nb-logreg'] !== undefined) {
  const e = ensemble(fitted['naive-bayes'], fitted['nb-logreg']);
  fitted[e.method] = e;
}
const candidates: Built[] = Object.keys(fitted).map((m) =>
  assemble(
    m,
    HEADS.map(() => fitted[m]),
  ),
);
// The model kept: by default the naive Bayes + NB-weighted logistic regression ensemble for every
// head; `--select cv` takes, per head, the method with the best cross-validated figure instead
// (see docs/classifier.md for why that is not the default).
const perHead = HEADS.map((_, h) =>
  args.select === 'cv' || fitted[args.select] === undefined
    ? Object.values(fitted).sort((a, b) => cvScore(h, b.cv[h]) - cvScore(h, a.cv[h]))[0]
    : fitted[args.select],
);
const chosenName = perHead.every((f) => f === perHead[0]) ? perHead[0].method : perHead.map((f) => f.method).join('/');
let best = candidates.find((c) => c.name === chosenName);
if (best === undefined) {
  best = assemble(chosenName, perHead);
  candidates.push(best);
}
for (const c of candidates)
  log(
    `${c.name}: ${targetsMet(c.figures)}/${Object.keys(TARGETS).length} targets met on validation, quality ${quality(c.figures).toFixed(4)}`,
  );
const chosen = best.name;
const out = best.file;

out.training = {
  method: chosen,
  seed: SEED,
  data: args.data === resolve(ROOT, '../shared/data') ? '../shared/data' : args.data,
  dataSha256: data.sha256,
  split: {
    rule: `key = canonical text (HateCheck: template id); validation if int(sha256("${VALIDATION_SALT}" + key)[:8], 16) % 100 < ${VALIDATION_PERCENT}; training rows whose text is in validation, and repeats inside a dataset, are dropped`,
    train: train.length,
    validation: validation.length,
    dropped: data.rows.length - train.length - validation.length,
  },
  calibration: `Platt scaling on ${FOLDS}-fold cross-fitted scores of the training part; thresholds chosen on the same scores`,
  hyperparameters: {
    logreg: LOGREG,
    naiveBayes: NB,
    bits: BITS,
    quantisation: QUANT,
    datasetWeight: DATASET_WEIGHT,
    positiveWeight: posWeight,
  },
};
out.validation = {
  figures: best.figures,
  labels: best.labelFigures,
  compared: Object.fromEntries(candidates.map((c) => [c.name, { figures: c.figures, labels: c.labelFigures }])),
};

if (args['dump-oof'] !== undefined) {
  // Error analysis on the training part only: cross-fitted probability per head of the kept method.
  const f = perHead[0];
  const lines = train.map((r, i) =>
    JSON.stringify({
      dataset: r.dataset,
      label: r.label,
      functionality: r.functionality,
      text: r.text,
      p: HEADS.map((_, h) => Math.round(sigmoid(f.heads[h].platt.a * f.oof[h][i] + f.heads[h].platt.b) * 1000) / 1000),
    }),
  );
  writeFileSync(args['dump-oof'], lines.join('\n') + '\n');
  log(`wrote cross-fitted probabilities of the training part to ${args['dump-oof']}`);
}

mkdirSync(dirname(args.out), { recursive: true });
const json = JSON.stringify(out, null, 1) + '\n';
writeFileSync(args.out, json);
log(`wrote ${args.out} (${(json.length / 1024).toFixed(0)} KiB), method ${chosen}`);

const rows = Object.keys(best.figures).filter((k) => !k.startsWith('hatecheck.func.'));
const cols = candidates;
process.stdout.write(`chosen: ${chosen}\nfigure${' '.repeat(40)}${cols.map((c) => c.name.padStart(22)).join('')}\n`);
for (const k of rows) {
  const mark = TARGETS[k] ? (TARGETS[k][1] === 'min' ? ` (>= ${TARGETS[k][0]})` : ` (<= ${TARGETS[k][0]})`) : '';
  process.stdout.write(
    `${(k + mark).padEnd(46)}${cols.map((c) => c.figures[k].toFixed(4).padStart(22)).join('')}${lowerIsBetter(k) ? '  (lower is better)' : ''}\n`,
  );
}
for (const k of Object.keys(best.figures).filter((k) => k.startsWith('hatecheck.func.'))) {
  process.stdout.write(`  ${k.padEnd(44)}${cols.map((c) => c.figures[k].toFixed(4).padStart(22)).join('')}\n`);
}
for (const k of Object.keys(best.labelFigures)) {
  process.stdout.write(`label ${k.padEnd(40)}${cols.map((c) => c.labelFigures[k].toFixed(4).padStart(22)).join('')}\n`);
}
process.stdout.write(`thresholds: ${out.heads.map((h) => `${h.label}=${h.threshold.toFixed(4)}`).join(' ')}\n`);
