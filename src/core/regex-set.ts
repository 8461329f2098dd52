// All regular-expression rules of a pack compiled into one alternation, run once over the folded
// text. Each rule sits in its own named group, so one scan reports which rules matched; rules are
// checked for catastrophic backtracking before they get here (src/policy/regex-safety.ts).

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

  constructor(patterns: ReadonlyArray<{ pattern: string; rule: number }>) {
    // No `i` flag: the folded text is already lower-case, and case-insensitive Unicode matching
    // costs far more than the whole rest of the scan. Patterns are written in lower case.
    this.combined = patterns.length === 0 ? null : new RegExp(patterns.map((p) => `(?:${p.pattern})`).join('|'), 'gu');
    this.sticky = patterns.map((p) => ({ re: new RegExp(p.pattern, 'uy'), rule: p.rule }));
  }

  /** Calls `onHit` once per rule with its first match in `text`. */
  match(text: string, onHit: (hit: RegexHit) => void): void {
    const re = this.combined;
    if (re === null) return;
    re.lastIndex = 0;
    const seen = new Set<number>();
    let m: RegExpExecArray | null;
    while ((m = re.exec(text)) !== null) {
      // Alternation reports only the first rule that matches here; ask each rule at this spot.
      const at = m.index;
      for (const s of this.sticky) {
        if (seen.has(s.rule)) continue;
        s.re.lastIndex = at;
        const hit = s.re.exec(text);
        if (hit !== null) {
          seen.add(s.rule);
          onHit({ rule: s.rule, start: at, end: at + hit[0].length });
        }
      }
      if (seen.size === this.sticky.length) break;
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
