// Hashed features over a normalised text, shared by training and inference so both see exactly
// the same thing. Pure and allocation-light: the caller hands in reusable buffers.
//
// Features, each hashed (FNV-1a with a murmur3 finaliser, one seed per kind) into 2^bits buckets:
//  - word unigrams over the canonical token forms of `joined` (leetspeak mapped, repeats squeezed,
//    split letters glued), plus a digit-run shape ("#5" for a 5-digit number);
//  - word bigrams of consecutive canonical forms;
//  - character 3- to 5-grams inside each canonical form with word boundaries ("<hat", "ate>");
//  - word unigrams and bigrams inside double quotes, or within three words after a negation
//    ("not", "don't", "never"...), hash apart from the same words elsewhere, so that quoting or
//    denying a hateful statement does not read like making it;
//  - symbols outside words (currency, "!", "/", "@"...), which matter for spam and links;
//  - number shapes that mark SMS marketing: an amount of money ("£1.50", "$500", "150p") and the
//    leading digits of long numbers ("09..." premium-rate, "087..." non-geographic);
//  - in a clause that names a protected group ("women", "muslims", "gay people"...): every other
//    word paired with an abstract group placeholder, so that "<group> ... disgusting" learnt on
//    one group and template carries over to another;
//  - words reported rather than asserted (after "calling", "saying", "said", "claim"... in the
//    same clause) as an extra feature, so that counter-speech ("stop calling women trash") can
//    be told from the statement it reports.
// Every feature remembers the span in `folded` it came from, so a decision can show it as evidence.

import { phraseForms, type NormalisedText } from '../core/normalise.js';

export const FEATURE_VERSION = 'warden-features-v3';

const NEGATIONS = new Set(['not', 'no', 'never', 'nobody', 'nothing', 'none', 'nor', 'neither', 'cannot', 'dont', 'don', 'doesn', 'didn', 'isn', 'aren', 'wasn', 'weren', 'won', 'wouldn', 'shouldn', 'couldn', 'can', 'ain', 'hardly', 'stop']);
/** Words that name a protected group (or a member), as canonical forms. */
const GROUP_WORDS = new Set([
  'women', 'woman', 'female', 'females', 'girls', 'trans', 'transgender', 'transgenders', 'gay', 'gays', 'lesbian', 'lesbians',
  'homosexual', 'homosexuals', 'bisexual', 'bisexuals', 'black', 'blacks', 'disabled', 'muslim', 'muslims', 'islam', 'islamic',
  'immigrant', 'immigrants', 'migrant', 'migrants', 'refugee', 'refugees', 'foreigner', 'foreigners', 'jew', 'jews', 'jewish',
  'asian', 'asians', 'mexican', 'mexicans', 'arab', 'arabs', 'african', 'africans', 'hindu', 'hindus', 'christian', 'christians',
].flatMap((w) => phraseForms(w)));
/** Verbs that introduce reported (not asserted) words for the rest of the clause. */
const REPORTING_WORDS = new Set([
  'call', 'calling', 'called', 'calls', 'say', 'saying', 'said', 'says', 'tell', 'telling', 'told', 'claim', 'claiming', 'claims',
  'claimed', 'write', 'writing', 'wrote', 'threaten', 'threatening', 'threatened', 'believe', 'believing', 'think', 'thinking',
].flatMap((w) => phraseForms(w)));
const FLAG_QUOTED = 0x51a7c3e9;
const FLAG_NEGATED = 0x2f6b1d85;

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
const SEED_WORD = 0x9e3779b1;
const SEED_BIGRAM = 0x85ebca6b;
const SEED_CHAR = 0xc2b2ae35;
const SEED_SYMBOL = 0x27d4eb2f;
const SEED_SHAPE = 0x165667b1;
const SEED_GROUP_PAIR = 0x7feb352d;
const SEED_REPORTED = 0x846ca68b;
const SEED_MONEY = 0x3243f6a9;
const SEED_PREFIX = 0xb7e15163;
const BOUNDARY = 0x3c; // '<' and '>' both map to one boundary code; they never occur inside a form.

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function hashString(s: string, seed: number): number {
  let h = (FNV_OFFSET ^ seed) >>> 0;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), FNV_PRIME);
  return h;
}

/** Reusable output buffers: bucket of each feature and, when asked, its span in `folded`. */
export class FeatureBuffer {
  buckets: Int32Array;
  starts: Int32Array;
  ends: Int32Array;
  /** Human-readable kind+text, filled only when explaining. */
  names: string[] = [];
  count = 0;
  /** Scratch: 1 for tokens in a clause that names a group. */
  groupClause = new Uint8Array(64);

  constructor(capacity = 1024) {
    this.buckets = new Int32Array(capacity);
    this.starts = new Int32Array(capacity);
    this.ends = new Int32Array(capacity);
  }

  reserve(extra: number): void {
    const need = this.count + extra;
    if (need <= this.buckets.length) return;
    const cap = Math.max(need, this.buckets.length * 2);
    const b = new Int32Array(cap); b.set(this.buckets.subarray(0, this.count)); this.buckets = b;
    const s = new Int32Array(cap); s.set(this.starts.subarray(0, this.count)); this.starts = s;
    const e = new Int32Array(cap); e.set(this.ends.subarray(0, this.count)); this.ends = e;
  }
}

function isDigitCode(c: number): boolean {
  return c >= 48 && c <= 57;
}

const LETTER_OR_NUMBER = /[\p{L}\p{N}]/u;

function isWordCode(c: number): boolean {
  if (c < 128) return (c >= 97 && c <= 122) || isDigitCode(c) || (c >= 65 && c <= 90);
  // Surrogate halves belong to emoji and other astral symbols: treat them as symbols.
  return c < 0xd800 || c > 0xdfff ? LETTER_OR_NUMBER.test(String.fromCharCode(c)) : false;
}

/** Marks (in `buf.groupClause`) the tokens of `joined` that sit in a clause naming a protected group. */
function markGroupClauses(text: NormalisedText, buf: FeatureBuffer): Uint8Array {
  const tokens = text.joined;
  const nt = tokens.length;
  if (buf.groupClause.length < nt) buf.groupClause = new Uint8Array(nt * 2);
  const flags = buf.groupClause;
  const folded = text.folded;
  let clauseStart = 0;
  let hasGroup = false;
  let gap = 0;
  for (let t = 0; t <= nt; t++) {
    let boundary = t === nt;
    if (!boundary) {
      for (let i = gap; i < tokens[t].start; i++) {
        const c = folded.charCodeAt(i);
        if (c === 0x2e || c === 0x21 || c === 0x3f || c === 0x3b || c === 0x0a) { boundary = true; break; }
      }
      gap = tokens[t].end;
    }
    if (boundary) {
      for (let k = clauseStart; k < t; k++) flags[k] = hasGroup ? 1 : 0;
      clauseStart = t;
      hasGroup = false;
    }
    if (t < nt && GROUP_WORDS.has(tokens[t].form)) hasGroup = true;
  }
  return flags;
}

/**
 * Extracts the hashed features of `text` into `buf` (reset first). With `explainMode`, also
 * records each feature's span in `folded` (for evidence) and, when `true`, a readable name.
 */
export function extractFeatures(text: NormalisedText, bits: number, buf: FeatureBuffer, explainMode: boolean | 'spans' = false, charNgrams = true): number {
  // 'spans': spans only (decision evidence); true: spans and readable names (tests, debugging).
  const explain = explainMode !== false;
  const named = explainMode === true;
  const mask = (1 << bits) - 1;
  const tokens = text.joined;
  buf.count = 0;
  if (named) buf.names = [];
  let prevHash = 0;
  let prevStart = -1;
  let prevForm = '';
  let quoted = false;
  let negated = 0;
  let gapFrom = 0;
  let reported = false;
  const folded = text.folded;
  const groupClause = markGroupClauses(text, buf);
  for (let t = 0; t < tokens.length; t++) {
    const tok = tokens[t];
    const form = tok.form;
    const len = form.length;
    // Scope marks from the characters between the previous word and this one.
    for (let i = gapFrom; i < tok.start; i++) {
      const c = folded.charCodeAt(i);
      if (c === 0x22 || c === 0x201c || c === 0x201d || c === 0xab || c === 0xbb) quoted = !quoted;
      else if (c === 0x2e || c === 0x2c || c === 0x21 || c === 0x3f || c === 0x3b || c === 0x3a) { negated = 0; reported = false; }
    }
    gapFrom = tok.end;
    const scope = (quoted ? FLAG_QUOTED : 0) ^ (negated > 0 ? FLAG_NEGATED : 0);
    if (negated > 0) negated--;
    if (NEGATIONS.has(form) || (form === 't' && t > 0)) negated = 3;
    // Unigram, bigram, shape, group pair, reported word, money, and at most (len + 2) * 3 character n-grams.
    buf.reserve(len * 3 + 16);
    const b = buf.buckets;
    const wordHash = hashString(form, SEED_WORD ^ scope);
    let n = buf.count;
    b[n] = fmix(wordHash) & mask;
    if (explain) { buf.starts[n] = tok.start; buf.ends[n] = tok.end; if (named) buf.names[n] = form; }
    n++;
    if (groupClause[t] === 1 && !GROUP_WORDS.has(form)) {
      b[n] = fmix(hashString(form, SEED_GROUP_PAIR ^ scope)) & mask;
      if (explain) { buf.starts[n] = tok.start; buf.ends[n] = tok.end; if (named) buf.names[n] = `<group> ${form}`; }
      n++;
    }
    if (reported) {
      b[n] = fmix(hashString(form, SEED_REPORTED)) & mask;
      if (explain) { buf.starts[n] = tok.start; buf.ends[n] = tok.end; if (named) buf.names[n] = `reported ${form}`; }
      n++;
    } else if (REPORTING_WORDS.has(form)) {
      reported = true;
    }
    const first = folded.charCodeAt(tok.start);
    if (isDigitCode(first) || first === 0x24) {
      const before = tok.start > 0 ? folded.charCodeAt(tok.start - 1) : 0;
      const last = folded.charCodeAt(tok.end - 1);
      if (first === 0x24 || before === 0xa3 || before === 0x24 || before === 0x20ac || (last === 0x70 && isDigitCode(folded.charCodeAt(tok.end - 2)))) {
        b[n] = fmix(SEED_MONEY) & mask;
        if (explain) { buf.starts[n] = tok.start; buf.ends[n] = tok.end; if (named) buf.names[n] = '<money>'; }
        n++;
      }
    }
    if (prevStart >= 0) {
      b[n] = fmix(Math.imul(prevHash, 31) ^ wordHash ^ SEED_BIGRAM) & mask;
      if (explain) { buf.starts[n] = prevStart; buf.ends[n] = tok.end; if (named) buf.names[n] = `${prevForm} ${form}`; }
      n++;
    }
    let allDigits = true;
    for (let k = 0; k < len; k++) if (!isDigitCode(form.charCodeAt(k))) { allDigits = false; break; }
    if (allDigits) {
      b[n] = fmix(Math.imul(Math.min(len, 12), FNV_PRIME) ^ SEED_SHAPE) & mask;
      if (explain) { buf.starts[n] = tok.start; buf.ends[n] = tok.end; if (named) buf.names[n] = `#${Math.min(len, 12)} digits`; }
      n++;
      if (len >= 7) {
        // Leading digits of a long number: "09..." premium rate, "087..." non-geographic, "07..." mobile.
        for (let k = 2; k <= 3; k++) {
          b[n] = fmix(hashString(form.slice(0, k), SEED_PREFIX)) & mask;
          if (explain) { buf.starts[n] = tok.start; buf.ends[n] = tok.end; if (named) buf.names[n] = `#${form.slice(0, k)}...`; }
          n++;
        }
      }
    }
    // Character n-grams of "<form>". They depend on the word alone, so inference may take them
    // from a per-word cache instead (charNgrams = false).
    if (charNgrams) {
      const added = charNgramBuckets(form, bits, b, n, named ? (i, p) => `${i < 0 ? '<' : ''}${form.slice(Math.max(i, 0), Math.min(p + 1, len))}${p === len ? '>' : ''}` : undefined, buf.names);
      if (explain) for (let k = n; k < n + added; k++) { buf.starts[k] = tok.start; buf.ends[k] = tok.end; }
      n += added;
    }
    buf.count = n;
    prevHash = wordHash;
    prevStart = tok.start;
    prevForm = form;
  }
  // Symbols outside words.
  for (let i = 0; i < folded.length; i++) {
    const c = folded.charCodeAt(i);
    if (c <= 32 || isWordCode(c)) continue;
    buf.reserve(1);
    const n = buf.count;
    buf.buckets[n] = fmix(Math.imul((FNV_OFFSET ^ SEED_SYMBOL) >>> 0 ^ c, FNV_PRIME)) & mask;
    if (explain) { buf.starts[n] = i; buf.ends[n] = i + 1; if (named) buf.names[n] = folded[i]; }
    buf.count = n + 1;
  }
  return buf.count;
}

/**
 * Writes the character 3- to 5-gram buckets of one canonical word form (with word boundaries:
 * positions -1 and len stand for the boundary) into `out` from `offset`; returns how many.
 * With `name`, also writes each n-gram's readable name into `names` at the same index.
 */
export function charNgramBuckets(form: string, bits: number, out: Int32Array, offset = 0,
  name?: (start: number, end: number) => string, names?: string[]): number {
  const mask = (1 << bits) - 1;
  const last = form.length;
  let n = offset;
  for (let i = -1; i <= last - 2; i++) {
    let h = (FNV_OFFSET ^ SEED_CHAR) >>> 0;
    for (let k = 0; k < 5; k++) {
      const p = i + k;
      if (p > last) break;
      const c = p < 0 || p === last ? BOUNDARY : form.charCodeAt(p);
      h = Math.imul(h ^ c, FNV_PRIME);
      if (k >= 2) {
        if (name !== undefined && names !== undefined) names[n] = name(i, p);
        out[n++] = fmix(h) & mask;
      }
    }
  }
  return n - offset;
}
