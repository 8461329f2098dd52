// All regular-expression rules of a pack compiled into one alternation, run once over the folded
// text. Each rule sits in its own named group, so one scan reports which rules matched; rules are
// checked for catastrophic backtracking before they get here (src/policy/regex-safety.ts).
// A rule that has matched leaves the scan: the rest of the text is searched with an alternation
// of the rules not yet found, so a rule with a long match ('".{2,}"' over a body of quotes) is
// not matched again from every later position, which made a scan quadratic in the text.

export interface RegexHit {
  rule: number;
  start: number;
  end: number;
}

export class RegexSet {
  /** All rules in one alternation: one scan finds every position where some rule matches. */
  private readonly combined: RegExp | null;
  /** Each rule alone, sticky, to find every rule that matches at a candidate position. */
  private readonly sticky: ReadonlyArray<{ re: RegExp; rule: number }>;
  private readonly patterns: readonly string[];
  /**
   * Alternations of the rules still to find, by which rules were found ('1' per found rule, in
   * rule order). Built on first use; messages meet few combinations, and the bound keeps a
   * stream of unusual ones from growing the cache.
   */
  private readonly remaining = new Map<string, RegExp>();

  constructor(patterns: ReadonlyArray<{ pattern: string; rule: number }>) {
    this.patterns = patterns.map((p) => p.pattern);
    this.combined = patterns.length === 0 ? null : this.alternation(this.patterns);
    this.sticky = patterns.map((p) => ({ re: new RegExp(p.pattern, 'uy'), rule: p.rule }));
  }

  private alternation(patterns: readonly string[]): RegExp {
    // No `i` flag: the folded text is already lower-case, and case-insensitive Unicode matching
    // costs far more than the whole rest of the scan. Patterns are written in lower case.
    return new RegExp(patterns.map((p) => `(?:${p})`).join('|'), 'gu');
  }

  /** The alternation of the rules whose entry in `found` is false. */
  private without(found: readonly boolean[]): RegExp {
    const key = found.map((f) => (f ? '1' : '0')).join('');
    let re = this.remaining.get(key);
    if (re === undefined) {
      re = this.alternation(this.patterns.filter((_, i) => !found[i]));
      if (this.remaining.size >= 256) this.remaining.clear();
      this.remaining.set(key, re);
    }
    return re;
  }

  /** Calls `onHit` once per rule with its first match in `text`. */
  match(text: string, onHit: (hit: RegexHit) => void): void {
    let re = this.combined;
    if (re === null) return;
    re.lastIndex = 0;
    const found = new Array<boolean>(this.sticky.length).fill(false);
    let count = 0;
    let m: RegExpExecArray | null;
    while ((m = re.exec(text)) !== null) {
      // Alternation reports only the first rule that matches here; ask each rule at this spot.
      const at = m.index;
      const before = count;
      for (let i = 0; i < this.sticky.length; i++) {
        if (found[i]) continue;
        const s = this.sticky[i];
        s.re.lastIndex = at;
        const hit = s.re.exec(text);
        if (hit !== null) {
          found[i] = true;
          count++;
          onHit({ rule: s.rule, start: at, end: at + hit[0].length });
        }
      }
      if (count === this.sticky.length) break;
      if (count > before) re = this.without(found);
      // Restart one character on, so a rule whose match starts inside an earlier match is found.
      re.lastIndex = at + 1;
    }
  }
}

/** Checks that a pattern can live inside the combined alternation. Returns the problem, or null. */
export function regexShapeError(pattern: string): string | null {
  let re: RegExp;
  try {
    re = new RegExp(`^(?:${pattern})$`, 'u');
  } catch (e) {
    return `does not compile: ${(e as Error).message}`;
  }
  if (/\\[1-9]|\\k</.test(pattern)) return 'backreferences are not allowed (they defeat linear-time matching)';
  if (/\(\?<[a-zA-Z]/.test(pattern)) return 'named groups are not allowed; use (?: ) groups';
  if (re.test('')) return 'matches the empty string, so it would match every message';
  if (/(^|[^\\])[A-Z]/.test(pattern.replace(/\\[pPu]\{[^}]*\}/g, '').replace(/\\[A-Za-z]/g, ''))) {
    return 'patterns run on lower-cased text: write letters in lower case';
  }
  return null;
}
