// The content classifier at run time: a linear model over hashed features (see features.ts),
// one calibrated head per label. Loading decodes the model file once; predict() is pure and
// synchronous (no I/O) and does a few hundred multiply-adds per SMS.

import { readFileSync } from 'node:fs';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { ContentModel, ModelSignal } from '../core/compiled-policy.js';
import type { NormalisedText } from '../core/normalise.js';
import { charNgramBuckets, extractFeatures, FeatureBuffer, FEATURE_VERSION, lexeme, wordFlags, type Lexeme } from './features.js';

export const MODEL_FORMAT = 'warden-content-model/1';

/** One label of the model as stored in the file. */
export interface HeadSpec {
  label: string;
  clause: string;
  bias: number;
  /** Platt scaling of the raw score z: p = 1 / (1 + exp(-(a z + b))). */
  platt: { a: number; b: number };
  /** Operating point chosen at training time: the probability at which the label is flagged. */
  threshold: number;
  /** How the summed weights are scaled: by 1/sqrt(#features) (logistic regression) or not (naive Bayes). */
  scaling: 'sqrt' | 'none';
  /** Which method trained this head's weights. */
  method: string;
}

/** The JSON model file. Weights are quantised, bucket-major ([bucket * heads + head]), deflated, base64. */
export interface ModelFile {
  format: string;
  name: string;
  method: string;
  features: { version: string; bits: number };
  heads: HeadSpec[];
  quantisation: { bits: 8 | 16; scales: number[] };
  weights: string;
  training?: Record<string, unknown>;
  validation?: Record<string, unknown>;
}

/**
 * Per-label configuration from the pack: score weight w (signal weight = min(w * p, max)), the
 * minimum probability at which the label is reported (default: the model's operating point).
 */
export interface LabelConfig {
  weight: number;
  minProbability: number;
  maxWeight: number;
}

export const DEFAULT_LABEL_WEIGHT = 6;

/** Quantises weights per head to signed ints and packs them into the file's string form. */
export function encodeWeights(w: Float64Array | Float32Array, heads: number, bits: 8 | 16): { scales: number[]; data: string } {
  const scales: number[] = [];
  const max = (1 << (bits - 1)) - 1;
  for (let h = 0; h < heads; h++) {
    let m = 0;
    for (let i = h; i < w.length; i += heads) m = Math.max(m, Math.abs(w[i]));
    scales.push(m === 0 ? 1 : m / max);
  }
  const q = bits === 8 ? new Int8Array(w.length) : new Int16Array(w.length);
  for (let i = 0; i < w.length; i++) q[i] = Math.round(w[i] / scales[i % heads]);
  const bytes = Buffer.from(q.buffer, q.byteOffset, q.byteLength);
  return { scales, data: deflateRawSync(bytes, { level: 9 }).toString('base64') };
}

/**
 * Decodes the file's quantised weights as they are stored (int8 or int16 per bucket and head) plus
 * one scale per head. Inference sums the integers and scales once per head: the table stays a
 * quarter of the size of a float table, so far more of it stays in the CPU cache.
 */
export function decodeQuantised(file: ModelFile): { q: Int8Array | Int16Array; scales: Float64Array } {
  const heads = file.heads.length;
  const size = (1 << file.features.bits) * heads;
  const raw = inflateRawSync(Buffer.from(file.weights, 'base64'));
  const q =
    file.quantisation.bits === 8
      ? new Int8Array(raw.buffer, raw.byteOffset, raw.byteLength)
      : new Int16Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
  if (q.length !== size) throw new Error(`weights hold ${q.length} values, expected ${size}`);
  return { q, scales: Float64Array.from(file.quantisation.scales) };
}

/** Decodes the file's weights into a dense Float32Array. */
export function decodeWeights(file: ModelFile): Float32Array {
  const { q, scales } = decodeQuantised(file);
  const heads = file.heads.length;
  const w = new Float32Array(q.length);
  for (let i = 0; i < q.length; i++) w[i] = q[i] * scales[i % heads];
  return w;
}

const EMPTY: ModelSignal[] = [];

export class HashedLinearModel implements ContentModel {
  readonly name: string;
  readonly heads: readonly HeadSpec[];
  readonly file: ModelFile;
  private readonly q: Int8Array | Int16Array;
  private readonly scales: Float64Array;
  private readonly bits: number;
  private readonly config: LabelConfig[];
  private readonly buf = new FeatureBuffer();
  private readonly sums: Float64Array;

  constructor(file: ModelFile, weights: Record<string, number> = {}) {
    if (file.format !== MODEL_FORMAT) throw new Error(`unknown model format ${file.format}`);
    if (file.features.version !== FEATURE_VERSION)
      throw new Error(`model built for features ${file.features.version}, this build has ${FEATURE_VERSION}`);
    this.file = file;
    this.name = file.name;
    this.heads = file.heads;
    this.bits = file.features.bits;
    ({ q: this.q, scales: this.scales } = decodeQuantised(file));
    this.sums = new Float64Array(file.heads.length);
    const labels = new Set(file.heads.map((h) => h.label));
    for (const key of Object.keys(weights)) {
      const label = key.replace(/\.(?:min|max)$/, '');
      if (!labels.has(label)) throw new Error(`weights name unknown label "${label}" (labels: ${[...labels].join(', ')})`);
    }
    this.config = file.heads.map((h) => ({
      weight: weights[h.label] ?? DEFAULT_LABEL_WEIGHT,
      minProbability: weights[`${h.label}.min`] ?? h.threshold,
      maxWeight: weights[`${h.label}.max`] ?? Infinity,
    }));
  }

  /**
   * Per word form: the summed weights (per head, as integers) of its character n-grams and how many
   * there are. Words repeat across messages, so most words cost one map lookup instead of a score
   * of hash computations and scattered reads of the weight table. Exact: integer sums.
   * The map gives a small integer id; the sums of all words live in one flat array at
   * id * (heads + 1), which keeps them together in memory instead of one small array per word.
   */
  private readonly wordIds = new Map<string, number>();
  /** Characters of the forms in wordIds: long hostile words must not make the cache hold gigabytes. */
  private wordChars = 0;
  private wordSums = new Int32Array(4096 * 5);
  private wordLex: Array<Lexeme | null> = [];
  private wordFlagsOf = new Uint8Array(4096);
  private readonly ngramScratch = new Int32Array(1024);
  /** The word id of each token of the last probabilities() call, so strongest() need not look them up again. */
  private tokenIds = new Int32Array(256);

  private wordId(form: string): number {
    const cached = this.wordIds.get(form);
    if (cached !== undefined) return cached;
    const H = this.heads.length;
    const id = this.wordIds.size;
    if ((id + 1) * (H + 1) > this.wordSums.length) {
      const s = new Int32Array(this.wordSums.length * 2);
      s.set(this.wordSums);
      this.wordSums = s;
      const f = new Uint8Array(this.wordFlagsOf.length * 2);
      f.set(this.wordFlagsOf);
      this.wordFlagsOf = f;
    }
    const scratch = form.length * 3 + 8 <= this.ngramScratch.length ? this.ngramScratch : new Int32Array(form.length * 3 + 8);
    const n = charNgramBuckets(form, this.bits, scratch);
    const sums = this.wordSums;
    const at = id * (H + 1);
    sums.fill(0, at, at + H);
    for (let i = 0; i < n; i++) {
      const o = scratch[i] * H;
      for (let h = 0; h < H; h++) sums[at + h] += this.q[o + h];
    }
    sums[at + H] = n;
    this.wordLex[id] = lexeme(form);
    this.wordFlagsOf[id] = wordFlags(form);
    this.wordIds.set(form, id);
    this.wordChars += form.length;
    return id;
  }

  /** Calibrated probability of every head, in the order of `heads`. */
  probabilities(text: NormalisedText, out: Float64Array = new Float64Array(this.heads.length)): Float64Array {
    const H = this.heads.length;
    // Context features (words, bigrams, shapes...) with their spans, for evidence; character
    // n-grams come summed per word from the cache.
    // Per word, one cache lookup gives its summed n-gram weights and its lexicon entry (which
    // extractFeatures then reads from buf.lex instead of looking it up again).
    const sums = this.sums;
    sums.fill(0);
    const tokens = text.joined;
    const lex = this.buf.lex;
    if (this.buf.flags.length < tokens.length) this.buf.flags = new Uint8Array(tokens.length * 2);
    if (this.tokenIds.length < tokens.length) this.tokenIds = new Int32Array(tokens.length * 2);
    // Forget the words only between messages, so the ids of this message's tokens stay valid for strongest().
    if (this.wordIds.size + tokens.length > 200_000 || this.wordChars + text.folded.length > 4_000_000) {
      this.wordIds.clear();
      this.wordChars = 0;
    }
    const flags = this.buf.flags;
    const ids = this.tokenIds;
    let grams = 0;
    for (let t = 0; t < tokens.length; t++) {
      const id = this.wordId(tokens[t].form);
      ids[t] = id;
      // Read after wordId(), which may have grown the array.
      const ws = this.wordSums;
      const at = id * (H + 1);
      for (let h = 0; h < H; h++) sums[h] += ws[at + h];
      grams += ws[at + H];
      lex[t] = this.wordLex[id];
      flags[t] = this.wordFlagsOf[id];
    }
    const n = extractFeatures(text, this.bits, this.buf, 'spans', false, true) + grams;
    const b = this.buf.buckets;
    const q = this.q;
    const count = this.buf.count;
    if (H === 4) {
      let s0 = 0,
        s1 = 0,
        s2 = 0,
        s3 = 0;
      for (let i = 0; i < count; i++) {
        const o = b[i] << 2;
        s0 += q[o];
        s1 += q[o + 1];
        s2 += q[o + 2];
        s3 += q[o + 3];
      }
      sums[0] += s0;
      sums[1] += s1;
      sums[2] += s2;
      sums[3] += s3;
    } else {
      for (let i = 0; i < count; i++) {
        const o = b[i] * H;
        for (let h = 0; h < H; h++) sums[h] += q[o + h];
      }
    }
    for (let h = 0; h < H; h++) sums[h] *= this.scales[h];
    this.lastCount = n;
    const sqrt = n > 0 ? 1 / Math.sqrt(n) : 0;
    for (let h = 0; h < H; h++) {
      const head = this.heads[h];
      const z = head.bias + (head.scaling === 'sqrt' ? sqrt : 1) * sums[h];
      out[h] = 1 / (1 + Math.exp(-(head.platt.a * z + head.platt.b)));
    }
    return out;
  }

  private readonly probs = new Float64Array(8);
  /** Feature count (context features plus character n-grams) of the last probabilities() call. */
  private lastCount = 0;

  predict(text: NormalisedText): ModelSignal[] {
    const p = this.probabilities(text, this.probs);
    let out: ModelSignal[] = EMPTY;
    for (let h = 0; h < this.heads.length; h++) {
      const cfg = this.config[h];
      if (p[h] < cfg.minProbability || cfg.weight <= 0) continue;
      if (out === EMPTY) out = [];
      const head = this.heads[h];
      out.push({
        clause: head.clause,
        label: head.label,
        probability: Math.round(p[h] * 1000) / 1000,
        weight: Math.round(Math.min(cfg.weight * p[h], cfg.maxWeight) * 1000) / 1000,
        features: this.strongest(text, h, 3),
      });
    }
    return out;
  }

  /** The spans of `folded` that push head `h` up the most: per word (its unigram and n-grams) and per bigram. */
  explain(text: NormalisedText, h: number, top: number): Array<{ feature: string; start: number; end: number }> {
    this.probabilities(text, this.probs);
    return this.strongest(text, h, top);
  }

  /** Ranks spans by their contribution to head `h`, from the features of the last probabilities() call. */
  private strongest(text: NormalisedText, h: number, top: number): Array<{ feature: string; start: number; end: number }> {
    const H = this.heads.length;
    const buf = this.buf;
    const n = this.lastCount;
    const scale = (this.heads[h].scaling === 'sqrt' ? (n > 0 ? 1 / Math.sqrt(n) : 0) : 1) * this.scales[h];
    // Sum per distinct span, slots in order of first appearance (the tie-break below relies on it).
    this.spanCount = 0;
    this.spanReserve(buf.count + text.joined.length, text.folded.length);
    this.spanFirst.fill(-1, 0, text.folded.length + 1);
    for (let i = 0; i < buf.count; i++) this.addSpan(buf.starts[i], buf.ends[i], scale * this.q[buf.buckets[i] * H + h]);
    const tokens = text.joined;
    for (let t = 0; t < tokens.length; t++)
      this.addSpan(tokens[t].start, tokens[t].end, scale * this.wordSums[this.tokenIds[t] * (H + 1) + h]);
    // The `top` positive spans by sum (ties: earlier start, then first appearance): an insertion
    // into a short list instead of sorting every span.
    const best: number[] = [];
    const sums = this.spanSum,
      starts = this.spanStart;
    for (let k = 0; k < this.spanCount; k++) {
      const v = sums[k];
      if (!(v > 0)) continue;
      let at = best.length;
      while (at > 0 && (v > sums[best[at - 1]] || (v === sums[best[at - 1]] && starts[k] < starts[best[at - 1]]))) at--;
      if (at >= top) continue;
      best.splice(at, 0, k);
      if (best.length > top) best.pop();
    }
    return best.map((k) => {
      const start = this.spanStart[k],
        end = this.spanEnd[k];
      return { feature: `${text.folded.slice(start, end)} (+${sums[k].toFixed(2)})`, start, end };
    });
  }

  // Scratch of strongest(): per distinct span (slot) its start, end and summed contribution. The
  // slots of one start form a list (spanFirst[start], then spanNext[slot]): a start has at most a
  // few spans (the word, a bigram, a call to action), so finding a span takes a step or two.
  private spanStart = new Int32Array(256);
  private spanEnd = new Int32Array(256);
  private spanSum = new Float64Array(256);
  private spanNext = new Int32Array(256);
  private spanFirst = new Int32Array(1024);
  private spanCount = 0;

  private spanReserve(slots: number, textLength: number): void {
    if (slots > this.spanStart.length) {
      this.spanStart = new Int32Array(slots * 2);
      this.spanEnd = new Int32Array(slots * 2);
      this.spanSum = new Float64Array(slots * 2);
      this.spanNext = new Int32Array(slots * 2);
    }
    if (textLength + 1 > this.spanFirst.length) this.spanFirst = new Int32Array((textLength + 1) * 2);
  }

  private addSpan(start: number, end: number, v: number): void {
    let k = this.spanFirst[start];
    while (k >= 0 && this.spanEnd[k] !== end) k = this.spanNext[k];
    if (k < 0) {
      k = this.spanCount++;
      this.spanStart[k] = start;
      this.spanEnd[k] = end;
      this.spanSum[k] = 0;
      this.spanNext[k] = this.spanFirst[start];
      this.spanFirst[start] = k;
    }
    this.spanSum[k] += v;
  }
}

/** Parses and checks a model file's JSON text. */
export function parseModelFile(json: string): ModelFile {
  const f = JSON.parse(json) as ModelFile;
  if (typeof f !== 'object' || f === null || !Array.isArray(f.heads) || typeof f.weights !== 'string') {
    throw new Error('not a Warden content model file');
  }
  return f;
}

/** Loads a model file; `weights` are the pack's per-label weights (`spam: 16`, `spam.min: 0.9`, `spam.max: 9`). */
export function loadContentModel(file: string, weights?: Record<string, number>): HashedLinearModel {
  return new HashedLinearModel(parseModelFile(readFileSync(file, 'utf8')), weights);
}
