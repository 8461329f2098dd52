// A set of registrable domains that a link host is looked up in: domain lists of a pack
// (shorteners, known-bad hosts) and the brands' own domains. Looking a host up tries the host and
// each parent domain above it, most specific first ("a.b.c.com" -> a.b.c.com, b.c.com, c.com),
// but only those with no more labels than the set's longest entry, found by walking dots from the
// right. So a lookup costs the length of at most that many labels, however many labels a hostile
// host carries ("a.a.a. ... .com" with thousands), where listing every suffix cost the square of
// the host's length.

export class DomainSet {
  private readonly entries: ReadonlySet<string>;
  /** Labels of the longest entry: no suffix with more labels can be in the set. */
  readonly maxLabels: number;

  constructor(domains: Iterable<string>) {
    const entries = new Set<string>();
    let maxLabels = 0;
    for (const d of domains) {
      const domain = d.toLowerCase();
      entries.add(domain);
      maxLabels = Math.max(maxLabels, labelCount(domain));
    }
    this.entries = entries;
    this.maxLabels = maxLabels;
  }

  get size(): number {
    return this.entries.size;
  }

  has(domain: string): boolean {
    return this.entries.has(domain);
  }

  /**
   * The most specific of `host` and its parent domains that is in the set, or undefined. A
   * parent that is a bare TLD never counts ("com" on a list does not list every .com host); the
   * host itself always may.
   */
  match(host: string): string | undefined {
    if (this.entries.size === 0) return undefined;
    // Dots from the right: the suffix after dots[j] has j + 1 labels.
    const dots: number[] = [];
    let at = host.length;
    while (dots.length < this.maxLabels && at > 0 && (at = host.lastIndexOf('.', at - 1)) >= 0) dots.push(at);
    // Fewer dots than the bound: the whole host has few enough labels to be an entry.
    if (dots.length < this.maxLabels && this.entries.has(host)) return host;
    // Parents of two labels or more, most specific first.
    for (let j = dots.length - 1; j >= 1; j--) {
      const suffix = host.slice(dots[j] + 1);
      if (this.entries.has(suffix)) return suffix;
    }
    return undefined;
  }
}

function labelCount(domain: string): number {
  let n = 1;
  for (let i = domain.indexOf('.'); i >= 0; i = domain.indexOf('.', i + 1)) n++;
  return n;
}
