// Phrase templates: `{kill|murder|wipe out} [all] {immigrants|refugees}` expands at compile time
// into every phrase it stands for, so a pack states a family of phrases once and the screening
// core still matches them all with one trie walk (no regular expression in the hot path).
//   {a|b|c}  one of the alternatives (each may hold several words)
//   [x]      optional words
//   *        exactly one word of any kind (handled by the phrase matcher)

export const MAX_EXPANSIONS = 20_000;

type Part = string[]; // alternatives for one slot; '' means "nothing"

function parse(template: string): Part[] {
  const parts: Part[] = [];
  let i = 0;
  let literal = '';
  const flush = () => {
    if (literal.trim() !== '') parts.push([literal.trim()]);
    literal = '';
  };
  while (i < template.length) {
    const c = template[i];
    if (c === '{' || c === '[') {
      const close = c === '{' ? '}' : ']';
      const end = template.indexOf(close, i + 1);
      if (end < 0) throw new Error(`unclosed "${c}" in phrase template "${template}"`);
      const inner = template.slice(i + 1, end);
      if (/[{}[\]]/.test(inner)) throw new Error(`nested brackets are not supported in "${template}"`);
      flush();
      const alts = inner.split('|').map((a) => a.trim());
      if (alts.some((a) => a === '') && c === '{') throw new Error(`empty alternative in "${template}"`);
      parts.push(c === '[' ? [...alts, ''] : alts);
      i = end + 1;
    } else if (c === '}' || c === ']') {
      throw new Error(`unmatched "${c}" in phrase template "${template}"`);
    } else {
      literal += c;
      i++;
    }
  }
  flush();
  return parts;
}

/** Expands a phrase template into plain phrases. Throws on bad syntax or too many expansions. */
export function expandPhrase(template: string): string[] {
  if (!/[{}[\]]/.test(template)) return [template];
  let out = [''];
  for (const part of parse(template)) {
    if (out.length * part.length > MAX_EXPANSIONS) throw new Error(`"${template}" expands to more than ${MAX_EXPANSIONS} phrases`);
    const next: string[] = [];
    for (const prefix of out) for (const alt of part) next.push(alt === '' ? prefix : `${prefix} ${alt}`);
    out = next;
  }
  return out.map((p) => p.trim()).filter((p) => p !== '');
}
