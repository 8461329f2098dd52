// All regular-expression rules of a pack compiled into one alternation, run once over the folded
// text. Each rule sits in its own named group, so one scan reports which rules matched; rules are
// checked for catastrophic backtracking before they get here (src/policy/regex-safety.ts).

export interface RegexHit {
  rule: number;
  start: number;
  end: number;
}

export class RegexSet {
  private readonly combined: RegExp | null;
  private readonly groupRule: Map<string, number>;

  constructor(patterns: ReadonlyArray<{ pattern: string; rule: number }>) {
    this.groupRule = new Map();
    if (patterns.length === 0) {
      this.combined = null;
      return;
    }
    const parts = patterns.map((p, i) => {
      const name = `r${i}`;
      this.groupRule.set(name, p.rule);
      return `(?<${name}>${p.pattern})`;
    });
    // No `i` flag: the folded text is already lower-case, and case-insensitive Unicode matching
    // costs far more than the whole rest of the scan. Patterns are written in lower case.
    this.combined = new RegExp(parts.join('|'), 'gu');
  }

  /** Calls `onHit` once per rule with its first match in `text`. */
  match(text: string, onHit: (hit: RegexHit) => void): void {
    const re = this.combined;
    if (re === null) return;
    re.lastIndex = 0;
    const seen = new Set<number>();
    let m: RegExpExecArray | null;
    while ((m = re.exec(text)) !== null) {
      const groups = m.groups!;
      for (const name in groups) {
        if (groups[name] !== undefined) {
          const rule = this.groupRule.get(name)!;
          if (!seen.has(rule)) {
            seen.add(rule);
            onHit({ rule, start: m.index, end: m.index + m[0].length });
          }
          break;
        }
      }
      // Restart one character on, so a rule whose match overlaps an earlier rule's is still found.
      re.lastIndex = m.index + 1;
      if (seen.size === this.groupRule.size) break;
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
