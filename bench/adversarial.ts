// Adversarial message bodies, one family per screening stage, each built to the length asked for.
// Shared by the worst-case rows of `npm run bench` and the linearity property test
// (test/core/linearity.test.ts): a stage whose cost grows faster than its input shows up in both.
//
// Every generator returns exactly `n` UTF-16 units (a whole number of repetitions, padded), so
// timings at two lengths compare like with like. `variant` changes the letters (never the shape:
// TLDs, schemes and marks stay), so repeated timings do not just measure the caches of the
// first run (the classifier remembers the words it has seen).

/** Repeats `unit` and pads with spaces to exactly `n` units. */
function fill(unit: string, n: number, head = '', tail = ''): string {
  const room = Math.max(0, n - head.length - tail.length);
  const body = unit.repeat(Math.floor(room / unit.length));
  return (head + body + tail).padEnd(n, ' ').slice(0, n);
}

/** Shifts the lower-case ASCII letters of `s` by `k` places. */
function rot(s: string, k: number): string {
  if (k % 26 === 0) return s;
  return s.replace(/[a-z]/g, (c) => String.fromCharCode(97 + ((c.charCodeAt(0) - 97 + k) % 26)));
}

/** Four letters naming `k` (base 26): ends a long word so that every variant is a new word. */
function tag(k: number): string {
  let out = '';
  for (let i = 0; i < 4; i++, k = Math.floor(k / 26)) out += String.fromCharCode(97 + (k % 26));
  return out;
}

export interface AdversarialFamily {
  name: string;
  /** The stage the family aims at. */
  stage: string;
  make(n: number, variant?: number): string;
}

export const ADVERSARIAL: readonly AdversarialFamily[] = [
  // One link whose host is a very long run of labels: host-suffix lookups (domain lists, brands).
  { name: 'dotted host', stage: 'url: host suffixes, brands', make: (n, v = 0) => fill(`${rot('a', v)}.`, n, 'http://', 'com/x') },
  // The same without a scheme or path, so it is read as a bare domain.
  { name: 'bare dotted host', stage: 'url: candidate scanner', make: (n, v = 0) => fill(`${rot('ab', v)}.`, n, '', 'com') },
  // Many short links: per-link work and the per-link checks of every URL rule.
  { name: 'many urls', stage: 'url: per link', make: (n, v = 0) => fill(`${rot('bit', v)}.ly/x `, n) },
  // Leet words between links: which words lie outside links.
  {
    name: 'leet words and urls',
    stage: 'evasion: leet outside links',
    make: (n, v = 0) => fill(`${rot('fr', v)}33 ${rot('a', v)}.co/b `, n),
  },
  // One word repeated: phrase trie, classifier word and bigram features.
  { name: 'repeated tokens', stage: 'phrase matcher, classifier', make: (n, v = 0) => fill(`${rot('free', v)} `, n) },
  // One word of n letters: tokeniser, canonical forms, character n-grams, lexicon look-ups.
  { name: 'long word', stage: 'normalise: tokens; classifier: lexicon', make: (n, v = 0) => fill(rot('abcdefghij', v), n, '', tag(v)) },
  // One letter stretched: squeezing repeats.
  { name: 'stretched letter', stage: 'normalise: squeeze', make: (n, v = 0) => fill(rot('e', v), n, 'fr', tag(v)) },
  // Letters each carrying a combining mark: the per-code-point fold.
  { name: 'combining marks', stage: 'normalise: fold', make: (n, v = 0) => fill(`${rot('e', v)}\u0301`, n) },
  // Zero-width characters between letters: invisible stripping, offset maps.
  { name: 'zero-width runs', stage: 'normalise: invisibles', make: (n, v = 0) => fill(rot('f\u200b\u200b\u200br\u200be\u200be ', v), n) },
  // Letters split by separators: joining split words.
  { name: 'split letters', stage: 'normalise: join', make: (n, v = 0) => fill(rot('f r e e ', v), n, '', tag(v).split('').join(' ')) },
  // The first words of multi-word phrases, never completed: trie walks that fail late.
  {
    name: 'phrase-trie near-misses',
    stage: 'phrase matcher',
    make: (n, v = 0) => fill(`your account has been your account will be ${rot('x', v)} `, n),
  },
  // Quotes that open a long match: regular-expression rules restarted at every candidate.
  { name: 'quotes', stage: 'regex set', make: (n, v = 0) => fill(`"${rot('a', v)} `, n) },
  // Money, premium-rate prefixes and digit runs that start many patterns.
  { name: 'money and digits', stage: 'regex set', make: (n, v = 0) => fill(`$1,000 £2 09${v % 10} `, n) },
];

/** An ordinary SMS, for the rows beside the worst cases. */
export const ORDINARY_SMS = 'Hi Sam, your appointment is confirmed for Tuesday at 3pm. Reply STOP to opt out.';
