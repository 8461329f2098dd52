// Word-boundary phrase matching for many thousands of phrases at once: a trie keyed by canonical
// word forms (see normalise.ts). Matching walks the message's words once per start position, so
// its cost depends on the message, not on the number of phrases in the pack.

import type { NormalisedText, Token } from './normalise.js';

/** `*` in a phrase stands for exactly one word of any kind. */
export const WILDCARD = '*';

/**
 * Appended to a phrase word that must have been written with a double letter (rules with
 * `keepDoubles`): canonical forms squeeze "coons" to "cons" and "nigger" to "niger", so without it
 * the slur matches "pros and cons" and the country. A word qualifies when its canonical form is
 * shorter than what was written (doubled, stretched, split or leet letters).
 */
export const DOUBLED = '\u0001';

/** Whether a token's canonical form lost letters of what was written ("coons" -> "cons"). */
function squeezed(t: Token): boolean {
  return t.end - t.start > t.form.length;
}

interface Node {
  next?: Map<string, Node>;
  any?: Node;
  /** Indexes of the rules a phrase ending here belongs to. */
  rules?: number[];
}

export interface PhraseHit {
  rule: number;
  /** Span in the folded text. */
  start: number;
  end: number;
}

export class PhraseMatcher {
  private readonly root: Node = {};
  private size = 0;
  /**
   * Forms that some phrase word carries with DOUBLED ("cons" for "coons"): a token is looked up a
   * second time only when its form is one of these (a few slurs), not for every word written with
   * a double letter (a quarter of English words).
   */
  private readonly doubledForms = new Set<string>();

  /** Adds a phrase given as canonical word forms. Returns false for an empty phrase. */
  add(forms: readonly string[], rule: number): boolean {
    if (forms.length === 0) return false;
    let node = this.root;
    for (const form of forms) {
      if (form === WILDCARD) {
        node = node.any ??= {};
      } else {
        if (form.endsWith(DOUBLED)) this.doubledForms.add(form.slice(0, -DOUBLED.length));
        node.next ??= new Map();
        let child = node.next.get(form);
        if (child === undefined) {
          child = {};
          node.next.set(form, child);
        }
        node = child;
      }
    }
    const rules = (node.rules ??= []);
    if (!rules.includes(rule)) rules.push(rule);
    this.size++;
    return true;
  }

  get phraseCount(): number {
    return this.size;
  }

  /** Calls `onHit` once per rule, with the first span that matched it. */
  match(text: NormalisedText, onHit: (hit: PhraseHit) => void): void {
    if (this.size === 0) return;
    const seen = new Set<number>();
    this.scan(text.tokens, seen, onHit);
    if (text.joined !== text.tokens) this.scan(text.joined, seen, onHit);
  }

  private scan(tokens: readonly Token[], seen: Set<number>, onHit: (hit: PhraseHit) => void): void {
    const rootNext = this.root.next;
    for (let i = 0; i < tokens.length; i++) {
      const t = tokens[i];
      const first = rootNext?.get(t.form) ?? (t.alt !== undefined ? rootNext?.get(t.alt) : undefined);
      if (first !== undefined) this.walk(first, tokens, i, i, seen, onHit);
      const doubled = this.doubledChild(rootNext, t);
      if (doubled !== undefined) this.walk(doubled, tokens, i, i, seen, onHit);
    }
  }

  /** The child reached by a token only as a keepDoubles word (written with a double letter). */
  private doubledChild(next: Map<string, Node> | undefined, t: Token): Node | undefined {
    if (next === undefined || this.doubledForms.size === 0 || !squeezed(t) || !this.doubledForms.has(t.form)) return undefined;
    return next.get(t.form + DOUBLED);
  }

  private walk(
    node: Node,
    tokens: readonly Token[],
    startIdx: number,
    idx: number,
    seen: Set<number>,
    onHit: (hit: PhraseHit) => void,
  ): void {
    if (node.rules !== undefined) {
      for (const rule of node.rules) {
        if (!seen.has(rule)) {
          seen.add(rule);
          onHit({ rule, start: tokens[startIdx].start, end: tokens[idx].end });
        }
      }
    }
    const nextIdx = idx + 1;
    if (nextIdx >= tokens.length) return;
    const t = tokens[nextIdx];
    if (node.next !== undefined) {
      const child = node.next.get(t.form) ?? (t.alt !== undefined ? node.next.get(t.alt) : undefined);
      if (child !== undefined) this.walk(child, tokens, startIdx, nextIdx, seen, onHit);
      const doubled = this.doubledChild(node.next, t);
      if (doubled !== undefined) this.walk(doubled, tokens, startIdx, nextIdx, seen, onHit);
    }
    if (node.any !== undefined) this.walk(node.any, tokens, startIdx, nextIdx, seen, onHit);
  }
}
