// Training logic for the content classifier: deterministic given the examples, their order and
// the seed. No I/O here; scripts/train.ts reads the data and writes the model file.
//
// Two methods fit the same linear form z_h = bias_h + s * sum_k w[bucket_k, h], so one run-time
// model serves both:
//  - logistic regression, one-vs-rest, AdaGrad SGD with L2, s = 1/sqrt(#features);
//  - multinomial naive Bayes, w = log-count ratio of the head's positive vs negative class, s = 1.
// Labels per head are 1 (positive), 0 (negative) or -1 (unknown: the example does not train that head).

import { extractFeatures, FeatureBuffer } from './features.js';
import { normalise } from '../core/normalise.js';

export interface Example {
  buckets: Int32Array;
  /** Per head: 1, 0 or -1 (unknown). */
  y: Int8Array;
  /** Per head: sample weight. */
  sw: Float32Array;
}

export interface LinearWeights {
  method: string;
  heads: number;
  bits: number;
  scaling: 'sqrt' | 'none';
  /** Bucket-major: w[bucket * heads + head]. */
  w: Float64Array;
  bias: Float64Array;
}

/** Small, fast, seedable PRNG (mulberry32). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Hashed feature buckets of a raw text. */
export function featurise(text: string, bits: number, buf = new FeatureBuffer()): Int32Array {
  const n = extractFeatures(normalise(text), bits, buf);
  return buf.buckets.slice(0, n);
}

export interface LogRegOptions {
  epochs: number;
  learningRate: number;
  l2: number;
  seed: number;
  /**
   * Optional fixed per-feature scale r (bucket-major, like the weights): the model is
   * z = bias + s * sum(r_k * w_k), as in NBSVM (Wang & Manning 2012) where r is naive Bayes'
   * log-count ratio. The returned weights are r_k * w_k, so inference does not change.
   */
  featureScale?: Float64Array;
  /** Scale of the summed weights: 1/sqrt(#features) (default) or none. */
  scaling?: 'sqrt' | 'none';
}

export const DEFAULT_LOGREG: LogRegOptions = { epochs: 20, learningRate: 0.5, l2: 1e-6, seed: 20261127 };

export function trainLogReg(
  examples: readonly Example[],
  heads: number,
  bits: number,
  opts: LogRegOptions = DEFAULT_LOGREG,
): LinearWeights {
  const size = (1 << bits) * heads;
  const w = new Float64Array(size);
  const g2 = new Float64Array(size);
  const bias = new Float64Array(heads);
  const biasG2 = new Float64Array(heads);
  const rnd = mulberry32(opts.seed);
  const order = Array.from({ length: examples.length }, (_, i) => i);
  const grad = new Float64Array(heads);
  const eps = 1e-8;
  const r = opts.featureScale;
  const flat = opts.scaling === 'none';
  for (let epoch = 0; epoch < opts.epochs; epoch++) {
    // Fisher-Yates shuffle with the seeded PRNG.
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(rnd() * (i + 1));
      const t = order[i];
      order[i] = order[j];
      order[j] = t;
    }
    for (const idx of order) {
      const ex = examples[idx];
      const b = ex.buckets;
      const n = b.length;
      const s = flat ? 1 : n > 0 ? 1 / Math.sqrt(n) : 0;
      let any = false;
      for (let h = 0; h < heads; h++) {
        grad[h] = 0;
        if (ex.y[h] < 0) continue;
        let z = 0;
        if (r === undefined) for (let i = 0; i < n; i++) z += w[b[i] * heads + h];
        else
          for (let i = 0; i < n; i++) {
            const k = b[i] * heads + h;
            z += r[k] * w[k];
          }
        z = bias[h] + s * z;
        const p = 1 / (1 + Math.exp(-z));
        grad[h] = (p - ex.y[h]) * ex.sw[h];
        any = true;
      }
      if (!any) continue;
      for (let h = 0; h < heads; h++) {
        const g = grad[h];
        if (g === 0) continue;
        biasG2[h] += g * g;
        bias[h] -= (opts.learningRate * g) / (Math.sqrt(biasG2[h]) + eps);
        const gs = g * s;
        for (let i = 0; i < n; i++) {
          const k = b[i] * heads + h;
          const gk = (r === undefined ? gs : gs * r[k]) + opts.l2 * w[k];
          g2[k] += gk * gk;
          w[k] -= (opts.learningRate * gk) / (Math.sqrt(g2[k]) + eps);
        }
      }
    }
  }
  if (r !== undefined) for (let k = 0; k < size; k++) w[k] *= r[k];
  return { method: r === undefined ? 'logreg' : 'nb-logreg', heads, bits, scaling: flat ? 'none' : 'sqrt', w, bias };
}

/**
 * NB-weighted logistic regression (NBSVM-style): naive Bayes log-count ratios over binary
 * features (Laplace alpha), then logistic regression on features scaled by them.
 */
export function trainNbLogReg(
  examples: readonly Example[],
  heads: number,
  bits: number,
  opts: LogRegOptions = DEFAULT_LOGREG,
  alpha = 1,
): LinearWeights {
  const nb = trainNaiveBayes(examples, heads, bits, { alpha });
  // Centre the ratios per head (the class prior lives in the bias) and keep a floor so that no
  // feature is switched off entirely.
  const r = new Float64Array(nb.w.length);
  for (let h = 0; h < heads; h++) {
    for (let k = h; k < r.length; k += heads) r[k] = Math.max(Math.abs(nb.w[k]), 0.25);
  }
  return trainLogReg(examples, heads, bits, { ...opts, featureScale: r, scaling: 'none' });
}

export interface NaiveBayesOptions {
  /** Additive (Laplace/Lidstone) smoothing. */
  alpha: number;
}

// alpha chosen by 5-fold cross-validation on the training part (docs/classifier.md): 0.02, 0.1, 0.5, 1, 2, 4
// were compared; 1 keeps spam recall and the weakest HateCheck functionality best together.
export const DEFAULT_NB: NaiveBayesOptions = { alpha: 1 };

export function trainNaiveBayes(
  examples: readonly Example[],
  heads: number,
  bits: number,
  opts: NaiveBayesOptions = DEFAULT_NB,
): LinearWeights {
  const buckets = 1 << bits;
  const pos = new Float64Array(buckets * heads);
  const neg = new Float64Array(buckets * heads);
  const totPos = new Float64Array(heads);
  const totNeg = new Float64Array(heads);
  const docsPos = new Float64Array(heads);
  const docsNeg = new Float64Array(heads);
  for (const ex of examples) {
    for (let h = 0; h < heads; h++) {
      const y = ex.y[h];
      if (y < 0) continue;
      const wt = ex.sw[h];
      const counts = y === 1 ? pos : neg;
      for (let i = 0; i < ex.buckets.length; i++) counts[ex.buckets[i] * heads + h] += wt;
      if (y === 1) {
        totPos[h] += wt * ex.buckets.length;
        docsPos[h] += wt;
      } else {
        totNeg[h] += wt * ex.buckets.length;
        docsNeg[h] += wt;
      }
    }
  }
  const w = new Float64Array(buckets * heads);
  const bias = new Float64Array(heads);
  for (let h = 0; h < heads; h++) {
    const dp = Math.log(totPos[h] + opts.alpha * buckets);
    const dn = Math.log(totNeg[h] + opts.alpha * buckets);
    for (let k = 0; k < buckets; k++) {
      const i = k * heads + h;
      w[i] = Math.log(pos[i] + opts.alpha) - dp - (Math.log(neg[i] + opts.alpha) - dn);
    }
    bias[h] = Math.log(Math.max(docsPos[h], 1e-9)) - Math.log(Math.max(docsNeg[h], 1e-9));
  }
  return { method: 'naive-bayes', heads, bits, scaling: 'none', w, bias };
}

/** Raw (uncalibrated) score of every head for one example. */
export function rawScores(
  m: { w: ArrayLike<number>; bias: ArrayLike<number>; heads: number; scaling: 'sqrt' | 'none' },
  buckets: Int32Array,
  out = new Float64Array(m.heads),
): Float64Array {
  const n = buckets.length;
  const s = m.scaling === 'sqrt' ? (n > 0 ? 1 / Math.sqrt(n) : 0) : 1;
  for (let h = 0; h < m.heads; h++) {
    let z = 0;
    for (let i = 0; i < n; i++) z += m.w[buckets[i] * m.heads + h];
    out[h] = m.bias[h] + s * z;
  }
  return out;
}

/**
 * Platt scaling: fits p = sigmoid(a z + b) to labelled scores by Newton's method on the
 * (weighted) log loss, with Platt's target smoothing against over-confidence.
 */
export function fitPlatt(z: ArrayLike<number>, y: ArrayLike<number>, weight?: ArrayLike<number>): { a: number; b: number } {
  let nPos = 0,
    nNeg = 0;
  for (let i = 0; i < z.length; i++) {
    const wt = weight ? weight[i] : 1;
    if (y[i] === 1) nPos += wt;
    else nNeg += wt;
  }
  const tPos = (nPos + 1) / (nPos + 2);
  const tNeg = 1 / (nNeg + 2);
  const loss = (a: number, b: number) => {
    let l = 0;
    for (let i = 0; i < z.length; i++) {
      const wt = weight ? weight[i] : 1;
      const t = y[i] === 1 ? tPos : tNeg;
      const f = a * z[i] + b;
      // Numerically stable t*log(1+e^-f) + (1-t)*log(1+e^f).
      l +=
        wt *
        (f >= 0
          ? t * Math.log1p(Math.exp(-f)) + (1 - t) * (f + Math.log1p(Math.exp(-f)))
          : t * (-f + Math.log1p(Math.exp(f))) + (1 - t) * Math.log1p(Math.exp(f)));
    }
    return l;
  };
  let a = 1,
    b = 0;
  let current = loss(a, b);
  for (let iter = 0; iter < 100; iter++) {
    let ga = 0,
      gb = 0,
      haa = 1e-12,
      hab = 0,
      hbb = 1e-12;
    for (let i = 0; i < z.length; i++) {
      const wt = weight ? weight[i] : 1;
      const t = y[i] === 1 ? tPos : tNeg;
      const p = 1 / (1 + Math.exp(-(a * z[i] + b)));
      const d = (p - t) * wt;
      ga += d * z[i];
      gb += d;
      const v = p * (1 - p) * wt;
      haa += v * z[i] * z[i];
      hab += v * z[i];
      hbb += v;
    }
    const det = haa * hbb - hab * hab;
    if (!(Math.abs(det) > 1e-18)) break;
    const da = (hbb * ga - hab * gb) / det;
    const db = (haa * gb - hab * ga) / det;
    // Backtracking: halve the Newton step until the loss goes down.
    let step = 1;
    let next = loss(a - da, b - db);
    while (!(next < current) && step > 1e-8) {
      step /= 2;
      next = loss(a - step * da, b - step * db);
    }
    if (!(next < current)) break;
    a -= step * da;
    b -= step * db;
    const gain = current - next;
    current = next;
    if (gain < 1e-10 * Math.max(1, Math.abs(current))) break;
  }
  return { a, b };
}

export function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

export interface RateCap {
  /** Rows the cap applies to (1 = member). */
  member: Uint8Array;
  /** Largest share of members that may be flagged. */
  maxRate: number;
}

/**
 * Picks the probability at or above which a head flags, sweeping from the top score down:
 * stops where a cap would be broken, and keeps the highest threshold that maximises the
 * objective (recall of the positives, or sample-weighted accuracy) among those before it.
 * `y` is 1, 0 or -1 (ignored for the objective; caps still count it).
 */
export function chooseThreshold(
  p: ArrayLike<number>,
  y: ArrayLike<number>,
  weight: ArrayLike<number>,
  objective: 'recall' | 'accuracy',
  caps: readonly RateCap[],
): { threshold: number; objective: number } {
  const order = Array.from({ length: p.length }, (_, i) => i).sort((a, b) => p[b] - p[a] || a - b);
  let posW = 0,
    negW = 0;
  for (let i = 0; i < p.length; i++) {
    if (y[i] === 1) posW += weight[i];
    else if (y[i] === 0) negW += weight[i];
  }
  const capN = caps.map((c) => c.member.reduce((s, v) => s + v, 0));
  const capK = caps.map(() => 0);
  let tpW = 0,
    fpW = 0;
  const score = () => (objective === 'recall' ? (posW > 0 ? tpW / posW : 0) : (tpW + negW - fpW) / Math.max(posW + negW, 1e-12));
  let best = score();
  let bestThreshold = 1.0001;
  let i = 0;
  while (i < order.length) {
    const pv = p[order[i]];
    let j = i;
    while (j < order.length && p[order[j]] === pv) {
      const k = order[j];
      if (y[k] === 1) tpW += weight[k];
      else if (y[k] === 0) fpW += weight[k];
      for (let c = 0; c < caps.length; c++) if (caps[c].member[k]) capK[c]++;
      j++;
    }
    if (caps.some((c, ci) => capN[ci] > 0 && capK[ci] / capN[ci] > c.maxRate)) break;
    const s = score();
    if (s > best + 1e-12) {
      best = s;
      const next = j < order.length ? p[order[j]] : 0;
      bestThreshold = (pv + next) / 2;
    }
    i = j;
  }
  return { threshold: bestThreshold, objective: best };
}
