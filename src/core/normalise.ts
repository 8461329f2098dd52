// Text normalisation that undoes the usual filter-evasion tricks while keeping a map back to the
// original text, so evidence can point at what the sender actually wrote.
//
// Two layers:
//  1. `folded`: one pass over the code points: invisible and bidi controls dropped, NFKC
//     (full-width, ligatures, maths letters), diacritics stripped, lower-cased, Cyrillic/Greek
//     look-alikes mapped to Latin. Every folded UTF-16 unit knows its original span.
//  2. tokens: words over `folded` in canonical form: leetspeak mapped (only inside words that
//     also hold letters, so "2 for 1" stays numeric), repeated letters squeezed ("freeeee" ->
//     "fre"). Phrases in rule packs go through the same pipeline, so both sides agree.
//     A second, `joined` view glues letters split by separators ("f.r.e.e", "f r e e", "fr-ee").

import { CONFUSABLES } from './confusables.js';

export interface Token {
  /** Canonical form used for matching. */
  form: string;
  /** Second reading where a character is ambiguous (1 and | read as l instead of i). */
  alt?: string;
  /** Digits or symbols in this word were read as letters. */
  leet?: true;
  /** Span in `folded` (end exclusive). */
  start: number;
  end: number;
}

export interface EvasionSignals {
  /** Zero-width, bidi and other invisible characters removed. */
  invisible: number;
  /** Words mixing Latin letters with Cyrillic/Greek look-alikes. */
  mixedScript: number;
  /** Words where digits or symbols stood for letters. */
  leet: number;
  /** Runs of letters split by separators that were glued back together. */
  split: number;
  /** Letters repeated three or more times in a row. */
  stretched: number;
}

export interface NormalisedText {
  original: string;
  folded: string;
  /**
   * Original UTF-16 offset where each folded unit starts / ends; null when the text was plain
   * ASCII, where folded offsets equal original offsets (the common case, kept allocation-free).
   */
  starts: Int32Array | null;
  ends: Int32Array | null;
  tokens: Token[];
  /** Tokens with split letters glued; `=== tokens` when nothing was glued. */
  joined: Token[];
  signals: EvasionSignals;
}

// Zero-width, joiners, soft hyphen, bidi embeddings/isolates/marks, variation selectors, BOM,
// Mongolian vowel separator, invisible maths operators, tag characters. The class deliberately
// lists combining-class code points one by one, which eslint mistakes for combined characters.
const INVISIBLE =
  // eslint-disable-next-line no-misleading-character-class
  /[\u00AD\u034F\u061C\u115F\u1160\u17B4\u17B5\u180B-\u180E\u200B-\u200F\u202A-\u202E\u2060-\u206F\u3164\uFE00-\uFE0F\uFEFF\uFFA0]|\uDB40[\uDC00-\uDCFF]/;
const MARKS = /\p{M}/gu;

interface Fold {
  out: string;
  confusable: boolean;
}
const foldCache = new Map<string, Fold>();

/** Folds one non-ASCII code point. Cached: texts repeat the same few characters. */
function foldCodePoint(ch: string): Fold {
  let f = foldCache.get(ch);
  if (f !== undefined) return f;
  if (INVISIBLE.test(ch)) {
    f = { out: '', confusable: false };
  } else {
    const base = ch.normalize('NFKC').normalize('NFD').replace(MARKS, '').toLowerCase();
    let out = '';
    let confusable = false;
    for (const c of base) {
      const mapped = CONFUSABLES.get(c);
      if (mapped !== undefined) {
        out += mapped;
        confusable = true;
      } else {
        out += c;
      }
    }
    f = { out, confusable };
  }
  if (foldCache.size < 65536) foldCache.set(ch, f);
  return f;
}

const LEET: Readonly<Record<string, string>> = {
  '0': 'o',
  '1': 'i',
  '3': 'e',
  '4': 'a',
  '5': 's',
  '7': 't',
  '@': 'a',
  $: 's',
  '|': 'i',
  '!': 'i',
};
const LEET_ALT: Readonly<Record<string, string>> = { '1': 'l', '|': 'l' };

const LETTER = /\p{L}/u;
/** Per UTF-16 unit above ASCII: 0 not yet known, 1 a letter, 2 not a letter. */
const letterKind = new Uint8Array(0x10000);
function isLetter(code: number): boolean {
  if (code < 128) return code >= 97 && code <= 122;
  let k = letterKind[code];
  if (k === 0) letterKind[code] = k = LETTER.test(String.fromCharCode(code)) ? 1 : 2;
  return k === 1;
}
function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}
/** Digits that leetspeak reads as letters: 0 1 3 4 5 7. */
function isLeetDigit(code: number): boolean {
  return code === 48 || code === 49 || code === 51 || code === 52 || code === 53 || code === 55;
}
// Symbols that stand for letters in leetspeak; they belong to a word only next to a letter or digit.
function isLeetSymbol(code: number): boolean {
  return code === 64 /* @ */ || code === 36 /* $ */ || code === 124 /* | */ || code === 33; /* ! */
}

/**
 * Per UTF-16 unit above ASCII: 0 not yet known, 1 "plain" (folds to its own lower case, one unit
 * for one, no look-alike, not invisible: "£", "€", "�"), 2 anything else. Plain units can be
 * lower-cased with the ASCII around them and keep one-to-one offsets, so a text of ASCII and
 * plain units (UK spam writes "£" in most messages) takes the ASCII path.
 */
const plainKind = new Uint8Array(0x10000);
function isPlain(code: number): boolean {
  let k = plainKind[code];
  if (k === 0) {
    const ch = String.fromCharCode(code);
    // Surrogates need their pair; capital sigma lower-cases by context (final form).
    const f = (code >= 0xd800 && code <= 0xdfff) || code === 0x3a3 ? null : foldCodePoint(ch);
    plainKind[code] = k = f !== null && !f.confusable && f.out.length === 1 && f.out === ch.toLowerCase() && !INVISIBLE.test(ch) ? 1 : 2;
  }
  return k === 1;
}

/** Whether every unit of `text` is ASCII or plain (see isPlain). */
function allPlain(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 128 && !isPlain(c)) return false;
  }
  return true;
}

interface Folded {
  folded: string;
  starts: Int32Array | null;
  ends: Int32Array | null;
  confusableAt: Uint8Array | null;
}

/** Runs the per-code-point fold and returns the folded text with its offset maps. */
function fold(original: string, signals: EvasionSignals): Folded {
  // ASCII (and plain units, see isPlain) needs only lower-casing, and its offsets map one to one.
  if (allPlain(original)) return { folded: original.toLowerCase(), starts: null, ends: null, confusableAt: null };
  const n = original.length;
  let cap = n + 16;
  let starts = new Int32Array(cap);
  let ends = new Int32Array(cap);
  let confusableAt = new Uint8Array(cap);
  const parts: string[] = [];
  let len = 0;
  let plainRunStart = -1;

  const grow = (need: number) => {
    if (len + need <= cap) return;
    cap = (len + need) * 2;
    const ns = new Int32Array(cap);
    ns.set(starts);
    starts = ns;
    const ne = new Int32Array(cap);
    ne.set(ends);
    ends = ne;
    const nc = new Uint8Array(cap);
    nc.set(confusableAt);
    confusableAt = nc;
  };
  const push = (s: string, start: number, end: number, confusable: boolean) => {
    grow(s.length);
    for (let k = 0; k < s.length; k++) {
      starts[len] = start;
      ends[len] = end;
      confusableAt[len] = confusable ? 1 : 0;
      len++;
    }
    parts.push(s);
  };
  const flushPlain = (upTo: number) => {
    if (plainRunStart < 0) return;
    grow(upTo - plainRunStart);
    for (let i = plainRunStart; i < upTo; i++) {
      starts[len] = i;
      ends[len] = i + 1;
      confusableAt[len] = 0;
      len++;
    }
    parts.push(original.slice(plainRunStart, upTo).toLowerCase());
    plainRunStart = -1;
  };

  for (let i = 0; i < n;) {
    const code = original.charCodeAt(i);
    if (code < 128 || isPlain(code)) {
      if (plainRunStart < 0) plainRunStart = i;
      i++;
      continue;
    }
    flushPlain(i);
    const cp = original.codePointAt(i)!;
    const width = cp > 0xffff ? 2 : 1;
    const ch = original.slice(i, i + width);
    const f = foldCodePoint(ch);
    if (f.out === '') {
      // Combining marks fold to '' too; only count true invisibles as evasion.
      if (INVISIBLE.test(ch)) signals.invisible++;
    } else {
      push(f.out, i, i + width, f.confusable);
    }
    i += width;
  }
  flushPlain(n);
  return {
    folded: parts.join(''),
    starts: starts.subarray(0, len),
    ends: ends.subarray(0, len),
    confusableAt: confusableAt.subarray(0, len),
  };
}

/** Canonical form of one word: leet mapped where the word has letters, repeats squeezed. */
function canonical(raw: string, signals: EvasionSignals | null): { form: string; alt?: string; leet?: true } {
  let hasLetter = false;
  let hasLeetChar = false;
  let allDigits = true;
  let repeats = false;
  let prevCode = -1;
  for (let k = 0; k < raw.length; k++) {
    const c = raw.charCodeAt(k);
    if (c === prevCode) repeats = true;
    prevCode = c;
    if (isDigit(c)) {
      if (isLeetDigit(c)) hasLeetChar = true;
      continue;
    }
    allDigits = false;
    if (isLetter(c)) hasLetter = true;
    else if (isLeetSymbol(c)) hasLeetChar = true;
  }
  if (allDigits) return { form: raw };
  // The common case: an ordinary word with nothing to map or squeeze.
  if (!repeats && !(hasLetter && hasLeetChar)) return { form: raw };
  const mapLeet = hasLetter && hasLeetChar;
  let hasAmbiguous = false;
  if (mapLeet) {
    for (let k = 0; k < raw.length; k++)
      if (LEET_ALT[raw[k]] !== undefined) {
        hasAmbiguous = true;
        break;
      }
  }
  let form = '';
  let alt = '';
  let prev = '';
  let prevAlt = '';
  let stretched = false;
  let run = 1;
  for (let k = 0; k < raw.length; k++) {
    const ch = raw[k];
    const mapped = mapLeet ? (LEET[ch] ?? ch) : ch;
    // Squeeze repeated letters only: "4999" and "49" are different numbers.
    if (mapped === prev && !(mapped >= '0' && mapped <= '9')) {
      run++;
      if (run === 3) stretched = true;
    } else {
      form += mapped;
      prev = mapped;
      run = 1;
    }
    if (hasAmbiguous) {
      const a = LEET_ALT[ch] ?? mapped;
      if (a !== prevAlt) {
        alt += a;
        prevAlt = a;
      }
    }
  }
  if (signals) {
    if (mapLeet) signals.leet++;
    if (stretched) signals.stretched++;
  }
  const out: { form: string; alt?: string; leet?: true } = { form };
  if (hasAmbiguous && alt !== form) out.alt = alt;
  if (mapLeet) out.leet = true;
  return out;
}

function tokenize(folded: string, confusableAt: Uint8Array | null, signals: EvasionSignals | null): Token[] {
  const tokens: Token[] = [];
  const n = folded.length;
  let i = 0;
  while (i < n) {
    const c = folded.charCodeAt(i);
    const wordChar = isLetter(c) || isDigit(c);
    const leetStart = isLeetSymbol(c) && i + 1 < n && (isLetter(folded.charCodeAt(i + 1)) || isDigit(folded.charCodeAt(i + 1)));
    if (!wordChar && !leetStart) {
      i++;
      continue;
    }
    const start = i;
    let asciiLatin = false;
    let confusable = false;
    // Most words hold no repeated character, leet digit or symbol: canonical() would return them
    // unchanged, so they skip its second pass over the word.
    let plain = true;
    let prevCode = -1;
    while (i < n) {
      const d = folded.charCodeAt(i);
      if (isLetter(d) || isDigit(d)) {
        if (confusableAt !== null && confusableAt[i]) confusable = true;
        else if (d >= 97 && d <= 122) asciiLatin = true;
        if (d === prevCode || isLeetDigit(d)) plain = false;
        prevCode = d;
        i++;
      } else if (isLeetSymbol(d) && i > start) {
        // A symbol inside or at the end of a word: keep it only if a word character follows,
        // or it ends a word of letters ("cr@p" but not "free!").
        const next = i + 1 < n ? folded.charCodeAt(i + 1) : 0;
        if (isLetter(next) || isDigit(next)) {
          i++;
          plain = false;
        } else break;
      } else if (isLeetSymbol(d)) {
        i++;
        plain = false;
      } else break;
    }
    const raw = folded.slice(start, i);
    if (signals && confusable && asciiLatin) signals.mixedScript++;
    if (plain) {
      tokens.push({ form: raw, start, end: i });
      continue;
    }
    const canon = canonical(raw, signals);
    const token: Token = { form: canon.form, start, end: i };
    if (canon.alt !== undefined) token.alt = canon.alt;
    if (canon.leet) token.leet = true;
    tokens.push(token);
  }
  return tokens;
}

// Separators that split a word without a space ("fr-ee", "f.r.e.e", "fr_ee", "f*r*e*e").
function isJoiner(code: number): boolean {
  return code === 45 || code === 46 || code === 95 || code === 42 || code === 8203;
}

/**
 * Glues tokens that the sender split: tokens joined by a single in-word separator with no space,
 * and runs of three or more single letters separated by single spaces or separators.
 */
function joinSplit(folded: string, tokens: Token[], signals: EvasionSignals | null): Token[] {
  if (tokens.length < 2) return tokens;
  const out: Token[] = [];
  let changed = false;
  let i = 0;
  while (i < tokens.length) {
    let j = i;
    // Extend over in-word separators: exactly one joiner character between tokens.
    while (j + 1 < tokens.length && tokens[j + 1].start - tokens[j].end === 1 && isJoiner(folded.charCodeAt(tokens[j].end))) j++;
    let singleRun = false;
    if (j === i && tokens[i].end - tokens[i].start === 1) {
      // Single letters separated by one space or joiner: "f r e e".
      let k = i;
      while (k + 1 < tokens.length && tokens[k + 1].end - tokens[k + 1].start === 1 && tokens[k + 1].start - tokens[k].end === 1) k++;
      if (k - i + 1 >= 3) {
        j = k;
        singleRun = true;
      }
    }
    if (j > i) {
      let raw = '';
      for (let k = i; k <= j; k++) raw += folded.slice(tokens[k].start, tokens[k].end);
      const { form, alt } = canonical(raw, null);
      const t: Token = { form, start: tokens[i].start, end: tokens[j].end };
      if (alt !== undefined) t.alt = alt;
      // "a b i t c h" is the article and a split word more often than one word: the run without a
      // leading one-letter word ("a", "i") is the token's alternative form.
      else if (singleRun && j - i >= 3 && (form.charCodeAt(0) === 97 || form.charCodeAt(0) === 105))
        t.alt = canonical(raw.slice(1), null).form;
      out.push(t);
      changed = true;
      if (signals && singleRun) signals.split++;
      i = j + 1;
    } else {
      out.push(tokens[i]);
      i++;
    }
  }
  return changed ? out : tokens;
}

export function normalise(original: string): NormalisedText {
  const signals: EvasionSignals = { invisible: 0, mixedScript: 0, leet: 0, split: 0, stretched: 0 };
  const { folded, starts, ends, confusableAt } = fold(original, signals);
  const tokens = tokenize(folded, confusableAt, signals);
  const joined = joinSplit(folded, tokens, signals);
  return { original, folded, starts, ends, tokens, joined, signals };
}

/** Canonical tokens of a phrase as written in a rule pack, or of any short text. */
export function phraseTokens(phrase: string): Token[] {
  const { folded, confusableAt } = fold(phrase, { invisible: 0, mixedScript: 0, leet: 0, split: 0, stretched: 0 });
  return tokenize(folded, confusableAt, null);
}

/** Canonical word forms of a phrase as written in a rule pack. */
export function phraseForms(phrase: string): string[] {
  return phraseTokens(phrase).map((t) => t.form);
}

/** Maps a span of `folded` back to the original text. */
export function originalSpan(n: NormalisedText, start: number, end: number): { start: number; end: number; text: string } {
  const len = n.folded.length;
  if (len === 0) return { start: 0, end: 0, text: '' };
  if (n.starts === null || n.ends === null) {
    const s = Math.max(0, Math.min(start, len));
    const e = Math.max(s, Math.min(end, len));
    return { start: s, end: e, text: n.original.slice(s, e) };
  }
  const s = n.starts[Math.min(start, len - 1)];
  const e = n.ends[Math.max(0, Math.min(end, len) - 1)];
  return { start: s, end: e, text: n.original.slice(s, e) };
}
