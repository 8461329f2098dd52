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

export const FEATURE_VERSION = 'warden-features-v5';

const NEGATIONS = new Set([
  'not',
  'no',
  'never',
  'nobody',
  'nothing',
  'none',
  'nor',
  'neither',
  'cannot',
  'dont',
  'don',
  'doesn',
  'didn',
  'isn',
  'aren',
  'wasn',
  'weren',
  'won',
  'wouldn',
  'shouldn',
  'couldn',
  'can',
  'ain',
  'hardly',
  'stop',
]);
/** Words that name a protected group (or a member), as canonical forms. */
const GROUP_WORDS = new Set(
  [
    'women',
    'woman',
    'female',
    'females',
    'girls',
    'trans',
    'transgender',
    'transgenders',
    'gay',
    'gays',
    'lesbian',
    'lesbians',
    'homosexual',
    'homosexuals',
    'bisexual',
    'bisexuals',
    'black',
    'blacks',
    'disabled',
    'muslim',
    'muslims',
    'islam',
    'islamic',
    'immigrant',
    'immigrants',
    'migrant',
    'migrants',
    'refugee',
    'refugees',
    'foreigner',
    'foreigners',
    'jew',
    'jews',
    'jewish',
    'asian',
    'asians',
    'mexican',
    'mexicans',
    'arab',
    'arabs',
    'african',
    'africans',
    'hindu',
    'hindus',
    'christian',
    'christians',
  ].flatMap((w) => phraseForms(w)),
);
/** Verbs that introduce reported (not asserted) words for the rest of the clause. */
const REPORTING_WORDS = new Set(
  [
    'call',
    'calling',
    'called',
    'calls',
    'say',
    'saying',
    'said',
    'says',
    'tell',
    'telling',
    'told',
    'claim',
    'claiming',
    'claims',
    'claimed',
    'write',
    'writing',
    'wrote',
    'threaten',
    'threatening',
    'threatened',
    'believe',
    'believing',
    'think',
    'thinking',
  ].flatMap((w) => phraseForms(w)),
);

// ---- Word classes (v4) ----------------------------------------------------------------------
// Small hand-written lexicons (our own words, the vocabulary of the default pack's hate rules):
// each word also emits an abstract class feature, so that "<group clause> <negative word>" learnt
// from one insult carries over to insults the training data never paired with a group, and a
// word written with one letter dropped or two letters swapped ("hatrd", "plageu", "womn") or
// glued to its neighbour ("ihate", "womendisgust") still reads as the word it stands for.
const CLASS_WORDS: ReadonlyArray<readonly [string, readonly string[]]> = [
  [
    'neg',
    [
      'vermin',
      'rats',
      'cockroaches',
      'parasites',
      'parasite',
      'animals',
      'beasts',
      'savages',
      'savage',
      'subhuman',
      'subhumans',
      'scum',
      'filth',
      'filthy',
      'trash',
      'garbage',
      'rubbish',
      'disease',
      'plague',
      'cancer',
      'virus',
      'pest',
      'pests',
      'burden',
      'threat',
      'danger',
      'dangerous',
      'inferior',
      'worthless',
      'useless',
      'disgusting',
      'disgust',
      'disgusts',
      'disgusted',
      'repulsive',
      'revolting',
      'repugnant',
      'despicable',
      'vile',
      'sickening',
      'pathetic',
      'stupid',
      'dumb',
      'brainless',
      'ignorant',
      'evil',
      'uncivilised',
      'uncivilized',
      'primitive',
      'criminals',
      'rapists',
      'terrorists',
      'thugs',
      'liars',
      'dishonest',
      'dirty',
      'idiots',
      'idiot',
      'morons',
      'moron',
      'freaks',
      'freak',
      'abomination',
      'abominations',
      'hate',
      'hated',
      'hatred',
      'hateful',
      'despise',
      'detest',
      'loathe',
      'loathing',
      'contempt',
      'disdain',
      'scorn',
      'abhor',
      'violent',
      'cruel',
      'ugly',
      'gross',
      'lazy',
      'inbred',
      'degenerate',
      'degenerates',
      'infest',
      'infesting',
      'swarm',
      'swarms',
      'dickheads',
      'assholes',
      'bastards',
      'scumbags',
      'shitheads',
      'pigs',
      'apes',
      'monkeys',
      'disgrace',
      'lesser',
      'waste',
      'nasty',
      'sick',
      'mad',
      'insane',
      'crazy',
      'worst',
    ],
  ],
  [
    'threat',
    [
      'kill',
      'killed',
      'killing',
      'murder',
      'murdered',
      'murdering',
      'shoot',
      'shot',
      'shooting',
      'stab',
      'stabbing',
      'hang',
      'hanged',
      'lynch',
      'lynched',
      'slaughter',
      'butcher',
      'exterminate',
      'exterminated',
      'eradicate',
      'eradicated',
      'gas',
      'gassed',
      'burn',
      'burned',
      'burnt',
      'behead',
      'strangle',
      'drown',
      'drowned',
      'torture',
      'rape',
      'massacre',
      'execute',
      'executed',
      'die',
      'dead',
      'death',
      'hurt',
      'suffer',
      'wipe',
      'punch',
      'beat',
      'attack',
      'bomb',
      'destroy',
      'annihilate',
      'cull',
    ],
  ],
  [
    'pos',
    [
      'love',
      'loved',
      'lovely',
      'adore',
      'admire',
      'admired',
      'respect',
      'respected',
      'cherish',
      'appreciate',
      'beautiful',
      'wonderful',
      'amazing',
      'fantastic',
      'great',
      'brilliant',
      'kind',
      'caring',
      'compassionate',
      'heroes',
      'hero',
      'gorgeous',
      'valuable',
      'precious',
      'smart',
      'intelligent',
      'clever',
      'talented',
      'strong',
      'brave',
      'welcome',
      'welcomed',
      'awesome',
      'incredible',
      'inspiring',
      'admirable',
      'generous',
      'friendly',
      'honoured',
      'honored',
      'celebrated',
      'celebrate',
      'protected',
      'happy',
      'proud',
      'support',
      'equal',
      'deserve',
      'worth',
      'trust',
      'trusted',
      'human',
      'humans',
      'help',
      'hug',
      'smile',
      'care',
    ],
  ],
  [
    'slur',
    [
      'nigger',
      'niggers',
      'nigga',
      'niggas',
      'coon',
      'coons',
      'faggot',
      'faggots',
      'fag',
      'fags',
      'dyke',
      'dykes',
      'tranny',
      'trannies',
      'shemale',
      'shemales',
      'kike',
      'kikes',
      'spic',
      'spics',
      'chink',
      'chinks',
      'gook',
      'gooks',
      'wetback',
      'wetbacks',
      'raghead',
      'ragheads',
      'towelhead',
      'towelheads',
      'muzzie',
      'muzzies',
      'rapefugee',
      'rapefugees',
      'paki',
      'pakis',
      'retard',
      'retards',
      'retarded',
      'cripple',
      'cripples',
      'mong',
      'mongs',
      'jihadi',
      'jihadis',
      'queer',
      'queers',
      'bitch',
      'bitches',
      'slut',
      'sluts',
      'whore',
      'whores',
      'hoe',
      'hoes',
      'cunt',
      'cunts',
    ],
  ],
  [
    'profane',
    [
      'fuck',
      'fucking',
      'fucked',
      'fucker',
      'fuckers',
      'motherfucker',
      'motherfuckers',
      'shit',
      'shitty',
      'damn',
      'crap',
      'ass',
      'dick',
      'piss',
    ],
  ],
];
const CLASS_GROUP = CLASS_WORDS.length;
const CLASS_NAMES = [...CLASS_WORDS.map(([c]) => c), 'group'];
/** Words that are one letter away from a lexicon word but mean something else. */
const NOT_VARIANTS = new Set([
  'treat',
  'beats',
  'beast',
  'heat',
  'shat',
  'rash',
  'tash',
  'mod',
  'sic',
  'hat',
  'ate',
  'die',
  'dice',
  'love',
  'live',
  'lose',
  'move',
  'hang',
  'bet',
  'bat',
  'bar',
  'cat',
  'car',
  'date',
  'gate',
  'late',
  'mate',
  'rate',
  'hare',
  'harm',
  'ham',
  'sure',
  'sick',
  'lick',
  'kil',
  'kit',
  'kin',
  'kind',
  'wipe',
  'hug',
  'huge',
  'her',
  'care',
  'core',
  'cure',
  'came',
  'help',
  'hello',
  'hope',
  'smile',
  'smiled',
  'women',
  'woman',
  'human',
  'humans',
  'great',
  'grate',
  'treat',
  'threat',
  'trust',
  'truth',
  'worth',
  'wroth',
  'with',
  'worse',
  'worst',
  'dyke',
  'poke',
  'pike',
  'mike',
  'nice',
  'dumb',
  'dump',
  'numb',
  'lazy',
  'crazy',
  'shot',
  'shit',
  'shut',
  'spot',
  'stop',
  'cold',
  'bomb',
  'tomb',
  'comb',
  'cull',
  'call',
  'full',
  'pull',
  'bull',
  'dull',
  'dead',
  'deal',
  'read',
  'head',
  'lead',
  'beat',
  'meat',
  'seat',
  'punch',
  'lunch',
  'bunch',
  'burn',
  'turn',
  'born',
  'barn',
  'gas',
  'has',
  'was',
  'gap',
  'mad',
  'made',
  'maid',
  'bad',
  'sad',
  'evil',
  'devil',
  'veil',
  'vile',
  'file',
  'mile',
  'pile',
  'tile',
  'while',
  'ugly',
  'gross',
  'grass',
  'across',
  'waste',
  'taste',
  'paste',
  'haste',
  'west',
  'best',
  'test',
  'rest',
  'pest',
  'post',
  'past',
  'host',
  'most',
  'lost',
  'cost',
  'hate',
  'have',
  'gave',
  'save',
  'wave',
  'cave',
  'rats',
  'arts',
  'rate',
  'star',
  'tars',
  'apes',
  'apse',
  'pigs',
  'pies',
  'dies',
  'lies',
  'ties',
  'scum',
  'sum',
  'scam',
  'slum',
  'dirty',
  'thirty',
  'dirt',
  'shirt',
  'sucker',
  'sucks',
  'pest',
  'pets',
  'coon',
  'con',
  'soon',
  'moon',
  'noon',
  'spic',
  'spice',
  'epic',
  'chink',
  'think',
  'chin',
  'link',
  'pink',
  'sink',
  'drink',
  'pak',
  'park',
  'pack',
  'monk',
  'mon',
  'mong',
  'among',
  'along',
  'long',
  'song',
  'wrong',
  'strong',
  'string',
  'queer',
  'queen',
  'query',
  'quer',
  'hoe',
  'shoe',
  'hole',
  'home',
  'hoes',
  'shoes',
  'goes',
  'does',
  'toes',
  'cunt',
  'count',
  'aunt',
  'hunt',
  'punt',
  'bitch',
  'pitch',
  'witch',
  'ditch',
  'itch',
  'slut',
  'shut',
  'smut',
  'whore',
  'whole',
  'where',
  'who',
  'whose',
  'ass',
  'as',
  'pass',
  'mass',
  'class',
  'dick',
  'disk',
  'kick',
  'pick',
  'piss',
  'miss',
  'kiss',
  'damn',
  'dam',
  'dan',
  'crap',
  'cap',
  'carp',
  'fuck',
  'luck',
  'duck',
  'suck',
  'tuck',
  'muck',
  'buck',
  'proud',
  'prod',
  'support',
  'sport',
  'equal',
  'dessert',
  'deserve',
  'reserve',
  'server',
  'serve',
  'lovely',
  'lonely',
  'loved',
  'lover',
  'loves',
  'moved',
  'lived',
  'brave',
  'grave',
  'brace',
  'smart',
  'start',
  'mart',
  'star',
  'strong',
  'wrong',
  'hero',
  'her',
  'here',
  'were',
  'care',
  'cared',
  'scared',
  'scare',
  'trade',
  'bread',
  'brad',
  'dread',
  'read',
  'shoot',
  'short',
  'shout',
  'shoo',
  'stab',
  'tab',
  'sab',
  'stub',
  'tank',
  'hanged',
  'changed',
  'hanger',
  'anger',
  'ranger',
  'danger',
  'dancer',
  'cancer',
  'canceled',
  'canter',
  'planet',
  'plane',
  'plague',
  'league',
  'vague',
  'virus',
  'virtue',
  'burden',
  'garden',
  'harden',
  'border',
  'murder',
  'order',
  'murmur',
  'bombs',
  'tombs',
  'combs',
  'attack',
  'attach',
  'attic',
  'kind',
  'king',
  'mind',
  'find',
  'bind',
  'wind',
  'kid',
  'cuts',
  'chik',
  'strange',
  'garage',
  'violet',
  'backs',
  'swam',
  'thus',
  'inane',
  'hose',
  'beta',
  'younger',
  'solved',
  'asia',
  'africa',
  'crazy',
  'cray',
  'lovey',
  'thug',
  'liar',
  'frek',
  'wore',
  'back',
  'down',
  'anger',
  'among',
  'girl',
  'inbed',
]);
/** Verbs that ask the reader to text or call a number ("txt WIN to 80086", "call 09061701461"). */
const CTA_VERBS = new Set(['text', 'txt', 'reply', 'send', 'call', 'ring', 'dial', 'sms', 'msg', 'cal'].flatMap((w) => phraseForms(w)));
const WORD_CTA = 1,
  WORD_NEGATION = 2,
  WORD_REPORTING = 4;

/**
 * What a word form is for the scope rules, as bits: a call-to-action verb (1), a negation (2), a
 * reporting verb (4). The model caches it per word with lexeme(), so a message costs no set lookups.
 */
export function wordFlags(form: string): number {
  return (
    (CTA_VERBS.has(form) ? WORD_CTA : 0) | (NEGATIONS.has(form) ? WORD_NEGATION : 0) | (REPORTING_WORDS.has(form) ? WORD_REPORTING : 0)
  );
}

/** Words a glued word may start with ("ihate", "peopledisgust", "womendisgust"). */
const GLUE_LEFT = new Set([
  'i',
  'we',
  'you',
  'they',
  'these',
  'those',
  'all',
  'so',
  'the',
  'are',
  'is',
  'a',
  'people',
  'just',
  'such',
  'to',
]);

export interface Lexeme {
  cls: number;
  canon: string;
  group: boolean;
}

const LEXICON = new Map<string, Lexeme>();
for (let c = 0; c < CLASS_WORDS.length; c++) {
  for (const w of CLASS_WORDS[c][1])
    for (const f of phraseForms(w)) if (!LEXICON.has(f)) LEXICON.set(f, { cls: c, canon: f, group: false });
}
for (const f of GROUP_WORDS) LEXICON.set(f, { cls: CLASS_GROUP, canon: f, group: true });

/** One-edit variants (a letter dropped, two neighbours swapped; never the first letter) of lexicon words. */
const VARIANTS = (() => {
  const out = new Map<string, Lexeme | null>();
  const add = (v: string, lx: Lexeme) => {
    if (LEXICON.has(v) || NOT_VARIANTS.has(v) || v.length < 4) return;
    const prev = out.get(v);
    if (prev === undefined) out.set(v, lx);
    // Two words of the same class ("woman", "women" -> "womn") keep the first; different classes: neither.
    else if (prev !== null && prev.canon !== lx.canon && (prev.cls !== lx.cls || prev.group !== lx.group)) out.set(v, null);
  };
  for (const [form, lx] of LEXICON) {
    // Drop a letter after the first two ("womn", "hatrd"): dropping the second letter of a short
    // word too often makes another word ("back" from "black", "down" from "drown").
    if (form.length >= 5) for (let i = 2; i < form.length; i++) add(form.slice(0, i) + form.slice(i + 1), lx);
    if (form.length >= 4)
      for (let i = 1; i < form.length - 1; i++) {
        if (form[i] !== form[i + 1]) add(form.slice(0, i) + form[i + 1] + form[i] + form.slice(i + 2), lx);
      }
  }
  return out;
})();

/** Every known form (lexicon words and their variants), then glued words and misses as they are met: one lookup per word. */
const KNOWN: ReadonlyMap<string, Lexeme> = new Map([...VARIANTS].filter((e): e is [string, Lexeme] => e[1] !== null).concat([...LEXICON]));
let lookupCache = new Map<string, Lexeme | null>(KNOWN);
// A glued word splits where its left part is a group or glue word and its right part a lexicon
// word, so only splits within those lengths are tried: a 10,000-letter word costs a few look-ups,
// not one slice and hash of every prefix (which was quadratic in the word).
const LONGEST_LEFT = Math.max(...[...GROUP_WORDS, ...GLUE_LEFT].map((w) => w.length));
const LONGEST_RIGHT = Math.max(...[...LEXICON.keys()].map((w) => w.length));
/** Longer forms are not remembered: they cannot be glued words, and each would hold its length in memory. */
const LONGEST_CACHED = LONGEST_LEFT + LONGEST_RIGHT;

/** The lexicon entry a word form stands for: itself, a one-edit variant, or the second half of a glued pair. */
export function lexeme(form: string): Lexeme | null {
  let r = lookupCache.get(form);
  if (r !== undefined) return r;
  r = null;
  if (form.length >= 5 && !NOT_VARIANTS.has(form)) {
    const last = Math.min(form.length - 4, LONGEST_LEFT);
    for (let k = Math.max(1, form.length - LONGEST_RIGHT); k <= last && r === null; k++) {
      const left = form.slice(0, k);
      const leftGroup = GROUP_WORDS.has(left);
      if (!leftGroup && !GLUE_LEFT.has(left)) continue;
      const right = LEXICON.get(form.slice(k));
      if (right !== undefined) r = leftGroup ? { ...right, group: true } : right;
    }
  }
  if (form.length > LONGEST_CACHED) return r;
  if (lookupCache.size >= 200_000) lookupCache = new Map<string, Lexeme | null>(KNOWN);
  lookupCache.set(form, r);
  return r;
}

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
const SEED_CLASS = 0x9b05688c;
const SEED_CTA = 0x510e527f;
const SEED_CAPS = 0x9b05688d;
const FLAG_IN_GROUP = 0x1f83d9ab;
const FLAG_REPORTED = 0x5be0cd19;
const BOUNDARY = 0x3c; // '<' and '>' both map to one boundary code; they never occur inside a form.

const CLASS_HASH = CLASS_NAMES.map((c) => hashString(c, SEED_CLASS));

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
  /** Scratch: the lexicon entry of each token (see lexeme()). */
  lex: Array<Lexeme | null> = [];
  /** Scratch: wordFlags() of each token. */
  flags = new Uint8Array(64);

  constructor(capacity = 1024) {
    this.buckets = new Int32Array(capacity);
    this.starts = new Int32Array(capacity);
    this.ends = new Int32Array(capacity);
  }

  reserve(extra: number): void {
    const need = this.count + extra;
    if (need <= this.buckets.length) return;
    const cap = Math.max(need, this.buckets.length * 2);
    const b = new Int32Array(cap);
    b.set(this.buckets.subarray(0, this.count));
    this.buckets = b;
    const s = new Int32Array(cap);
    s.set(this.starts.subarray(0, this.count));
    this.starts = s;
    const e = new Int32Array(cap);
    e.set(this.ends.subarray(0, this.count));
    this.ends = e;
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
function markGroupClauses(text: NormalisedText, buf: FeatureBuffer, lexFilled: boolean): Uint8Array {
  const tokens = text.joined;
  const nt = tokens.length;
  if (buf.groupClause.length < nt) buf.groupClause = new Uint8Array(nt * 2);
  if (buf.flags.length < nt) {
    const c = new Uint8Array(nt * 2);
    c.set(buf.flags);
    buf.flags = c;
  }
  const flags = buf.groupClause;
  const lex = buf.lex;
  const folded = text.folded;
  let clauseStart = 0;
  let hasGroup = false;
  let gap = 0;
  for (let t = 0; t <= nt; t++) {
    let boundary = t === nt;
    if (!boundary) {
      for (let i = gap; i < tokens[t].start; i++) {
        const c = folded.charCodeAt(i);
        if (c === 0x2e || c === 0x21 || c === 0x3f || c === 0x3b || c === 0x0a) {
          boundary = true;
          break;
        }
      }
      gap = tokens[t].end;
    }
    if (boundary) {
      for (let k = clauseStart; k < t; k++) flags[k] = hasGroup ? 1 : 0;
      clauseStart = t;
      hasGroup = false;
    }
    if (t < nt) {
      if (!lexFilled) buf.flags[t] = wordFlags(tokens[t].form);
      const lx = lexFilled ? lex[t] : (lex[t] = lexeme(tokens[t].form));
      if (lx !== null && lx.group) hasGroup = true;
    }
  }
  return flags;
}

/** Whether the sender wrote the token in capitals: three or more letters, none lower-case ("FREE", "URGENT", "FR33E"). */
function writtenInCapitals(text: NormalisedText, tok: { start: number; end: number }): boolean {
  if (tok.end - tok.start < 3) return false;
  const original = text.original;
  const from = text.starts === null ? tok.start : text.starts[tok.start];
  const to = text.ends === null ? tok.end : text.ends[tok.end - 1];
  let capitals = 0;
  for (let i = from; i < to; i++) {
    const c = original.charCodeAt(i);
    if (c >= 65 && c <= 90) capitals++;
    else if (c >= 97 && c <= 122) return false;
    else if (c >= 128) {
      const ch = original[i];
      if (ch !== ch.toUpperCase()) return false;
      if (ch !== ch.toLowerCase()) capitals++;
    }
  }
  return capitals >= 3;
}

/**
 * Extracts the hashed features of `text` into `buf` (reset first). With `explainMode`, also
 * records each feature's span in `folded` (for evidence) and, when `true`, a readable name.
 */
// eslint-disable-next-line max-lines-per-function, limits/max-lines-per-function -- one pass over the words on the hot path: every feature family reads the same per-word state, which split functions would have to pass between them
export function extractFeatures(
  text: NormalisedText,
  bits: number,
  buf: FeatureBuffer,
  explainMode: boolean | 'spans' = false,
  charNgrams = true,
  lexFilled = false,
): number {
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
  // lexFilled: the caller has already put lexeme(form) of every token into buf.lex and
  // wordFlags(form) into buf.flags (the model's per-word cache does).
  const groupClause = markGroupClauses(text, buf, lexFilled);
  for (let t = 0; t < tokens.length; t++) {
    const tok = tokens[t];
    const form = tok.form;
    const len = form.length;
    // Scope marks from the characters between the previous word and this one.
    for (let i = gapFrom; i < tok.start; i++) {
      const c = folded.charCodeAt(i);
      if (c === 0x22 || c === 0x201c || c === 0x201d || c === 0xab || c === 0xbb) quoted = !quoted;
      else if (c === 0x2e || c === 0x2c || c === 0x21 || c === 0x3f || c === 0x3b || c === 0x3a) {
        negated = 0;
        reported = false;
      }
    }
    gapFrom = tok.end;
    const scope = (quoted ? FLAG_QUOTED : 0) ^ (negated > 0 ? FLAG_NEGATED : 0);
    if (negated > 0) negated--;
    const wf = buf.flags[t];
    if ((wf & WORD_NEGATION) !== 0 || (form === 't' && t > 0)) negated = 3;
    // Unigram, bigram, shape, group pair, reported word, money, and at most (len + 2) * 3 character n-grams.
    buf.reserve(len * 3 + 20);
    const b = buf.buckets;
    const wordHash = hashString(form, SEED_WORD ^ scope);
    let n = buf.count;
    b[n] = fmix(wordHash) & mask;
    if (explain) {
      buf.starts[n] = tok.start;
      buf.ends[n] = tok.end;
      if (named) buf.names[n] = form;
    }
    n++;
    const lx = buf.lex[t];
    if (groupClause[t] === 1 && (lx === null || lx.cls !== CLASS_GROUP)) {
      b[n] = fmix(hashString(form, SEED_GROUP_PAIR ^ scope)) & mask;
      if (explain) {
        buf.starts[n] = tok.start;
        buf.ends[n] = tok.end;
        if (named) buf.names[n] = `<group> ${form}`;
      }
      n++;
    }
    if (lx !== null) {
      // The word's class, with its scope, whether its clause names a group and whether it is reported.
      const ctx = scope ^ (groupClause[t] === 1 ? FLAG_IN_GROUP : 0) ^ (reported ? FLAG_REPORTED : 0);
      b[n] = fmix(Math.imul(CLASS_HASH[lx.cls] ^ ctx, FNV_PRIME)) & mask;
      if (explain) {
        buf.starts[n] = tok.start;
        buf.ends[n] = tok.end;
        if (named) buf.names[n] = `<${CLASS_NAMES[lx.cls]}>${groupClause[t] === 1 ? ' in group clause' : ''}`;
      }
      n++;
      if (lx.canon !== form) {
        // A misspelt or glued word also counts as the word it stands for.
        b[n] = fmix(hashString(lx.canon, SEED_WORD ^ scope)) & mask;
        if (explain) {
          buf.starts[n] = tok.start;
          buf.ends[n] = tok.end;
          if (named) buf.names[n] = `${lx.canon} (as ${form})`;
        }
        n++;
        if (groupClause[t] === 1 && !lx.group) {
          b[n] = fmix(hashString(lx.canon, SEED_GROUP_PAIR ^ scope)) & mask;
          if (explain) {
            buf.starts[n] = tok.start;
            buf.ends[n] = tok.end;
            if (named) buf.names[n] = `<group> ${lx.canon}`;
          }
          n++;
        }
      }
    }
    if (reported) {
      b[n] = fmix(hashString(form, SEED_REPORTED)) & mask;
      if (explain) {
        buf.starts[n] = tok.start;
        buf.ends[n] = tok.end;
        if (named) buf.names[n] = `reported ${form}`;
      }
      n++;
    } else if ((wf & WORD_REPORTING) !== 0) {
      reported = true;
    }
    if (writtenInCapitals(text, tok)) {
      // Shouting: two thirds of SMS spam holds a word of three or more capitals, one ham in sixteen.
      b[n] = fmix(SEED_CAPS) & mask;
      if (explain) {
        buf.starts[n] = tok.start;
        buf.ends[n] = tok.end;
        if (named) buf.names[n] = '<capitals>';
      }
      n++;
    }
    if ((wf & WORD_CTA) !== 0) {
      // A call to action: within the next four words, a short code (4-6 digits) or a phone number (10+).
      for (let k = t + 1; k <= t + 4 && k < tokens.length; k++) {
        const f = tokens[k].form;
        let digits = f.length > 0;
        for (let i = 0; i < f.length && digits; i++) if (!isDigitCode(f.charCodeAt(i))) digits = false;
        if (!digits || f.length < 4 || (f.length > 6 && f.length < 10)) continue;
        b[n] = fmix(Math.imul(SEED_CTA ^ (f.length <= 6 ? 1 : 2) ^ (k - t), FNV_PRIME)) & mask;
        if (explain) {
          buf.starts[n] = tok.start;
          buf.ends[n] = tokens[k].end;
          if (named) buf.names[n] = `<call to action ${f.length <= 6 ? 'short code' : 'number'}>`;
        }
        n++;
        break;
      }
    }
    const first = folded.charCodeAt(tok.start);
    if (isDigitCode(first) || first === 0x24) {
      const before = tok.start > 0 ? folded.charCodeAt(tok.start - 1) : 0;
      const last = folded.charCodeAt(tok.end - 1);
      if (
        first === 0x24 ||
        before === 0xa3 ||
        before === 0x24 ||
        before === 0x20ac ||
        (last === 0x70 && isDigitCode(folded.charCodeAt(tok.end - 2)))
      ) {
        b[n] = fmix(SEED_MONEY) & mask;
        if (explain) {
          buf.starts[n] = tok.start;
          buf.ends[n] = tok.end;
          if (named) buf.names[n] = '<money>';
        }
        n++;
      }
    }
    if (prevStart >= 0) {
      b[n] = fmix(Math.imul(prevHash, 31) ^ wordHash ^ SEED_BIGRAM) & mask;
      if (explain) {
        buf.starts[n] = prevStart;
        buf.ends[n] = tok.end;
        if (named) buf.names[n] = `${prevForm} ${form}`;
      }
      n++;
    }
    let allDigits = true;
    for (let k = 0; k < len; k++)
      if (!isDigitCode(form.charCodeAt(k))) {
        allDigits = false;
        break;
      }
    if (allDigits) {
      b[n] = fmix(Math.imul(Math.min(len, 12), FNV_PRIME) ^ SEED_SHAPE) & mask;
      if (explain) {
        buf.starts[n] = tok.start;
        buf.ends[n] = tok.end;
        if (named) buf.names[n] = `#${Math.min(len, 12)} digits`;
      }
      n++;
      if (len >= 7) {
        // Leading digits of a long number: "09..." premium rate, "087..." non-geographic, "07..." mobile.
        for (let k = 2; k <= 3; k++) {
          b[n] = fmix(hashString(form.slice(0, k), SEED_PREFIX)) & mask;
          if (explain) {
            buf.starts[n] = tok.start;
            buf.ends[n] = tok.end;
            if (named) buf.names[n] = `#${form.slice(0, k)}...`;
          }
          n++;
        }
      }
    }
    // Character n-grams of "<form>". They depend on the word alone, so inference may take them
    // from a per-word cache instead (charNgrams = false).
    if (charNgrams) {
      const added = charNgramBuckets(
        form,
        bits,
        b,
        n,
        named ? (i, p) => `${i < 0 ? '<' : ''}${form.slice(Math.max(i, 0), Math.min(p + 1, len))}${p === len ? '>' : ''}` : undefined,
        buf.names,
      );
      if (explain)
        for (let k = n; k < n + added; k++) {
          buf.starts[k] = tok.start;
          buf.ends[k] = tok.end;
        }
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
    buf.buckets[n] = fmix(Math.imul(((FNV_OFFSET ^ SEED_SYMBOL) >>> 0) ^ c, FNV_PRIME)) & mask;
    if (explain) {
      buf.starts[n] = i;
      buf.ends[n] = i + 1;
      if (named) buf.names[n] = folded[i];
    }
    buf.count = n + 1;
  }
  return buf.count;
}

/**
 * Writes the character 3- to 5-gram buckets of one canonical word form (with word boundaries:
 * positions -1 and len stand for the boundary) into `out` from `offset`; returns how many.
 * With `name`, also writes each n-gram's readable name into `names` at the same index.
 */
export function charNgramBuckets(
  form: string,
  bits: number,
  out: Int32Array,
  offset = 0,
  name?: (start: number, end: number) => string,
  names?: string[],
): number {
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
