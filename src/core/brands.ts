// Look-alikes of protected brands in link hosts: "paypa1-secure.com", "pаypal.com" (Cyrillic а),
// "rnicrosoft.com", "amazon.com.account-check.ru". A host that is not one of the brand's own
// domains but whose letters read as the brand name is a strong impersonation signal.

import { DomainSet } from './domain-set.js';
import { phraseTokens } from './normalise.js';

export interface Brand {
  name: string;
  /** Canonical skeleton of the brand name, e.g. "paypal" -> "paypal" squeezed to "paypal". */
  skeleton: string;
  /** The brand's own registrable domains; links under them are genuine. */
  domains: DomainSet;
}

/**
 * Reduces text to the letters it reads as: look-alikes, leetspeak, rn->m, vv->w, no separators.
 * Returns both readings where a character is ambiguous ("paypa1" reads as paypai and paypal).
 */
export function skeletonsOf(text: string): string[] {
  const tokens = phraseTokens(text.replace(/rn/g, 'm').replace(/vv/g, 'w'));
  const primary = tokens.map((t) => t.form).join('');
  const alt = tokens.map((t) => t.alt ?? t.form).join('');
  return alt === primary ? [primary] : [primary, alt];
}

export function skeletonOf(text: string): string {
  return skeletonsOf(text)[0];
}

export function makeBrand(name: string, domains: readonly string[]): Brand {
  return { name, skeleton: skeletonOf(name), domains: new DomainSet(domains) };
}

/**
 * Longest host name DNS can resolve. A longer "host" is no link anyone can open, so its labels
 * are not read one by one (a hostile one has thousands); the reading of the whole host still is.
 */
const MAX_DNS_NAME = 253;

/** Returns the brand a host imitates, or null when the host is genuine or unrelated. */
export function brandLookalike(hostUnicode: string, host: string, brands: readonly Brand[]): Brand | null {
  if (brands.length === 0) return null;
  // Skeleton of everything left of the TLD, so "paypal.com.evil.ru" and "pay-pal-login.xyz" both count.
  const labels = hostUnicode.split('.').slice(0, -1);
  const bodies = skeletonsOf(labels.join(' '));
  // Each label's skeleton once, not once per brand.
  let labelSkeletons: string[] | null = null;
  for (const brand of brands) {
    if (brand.skeleton.length < 4) continue;
    if (brand.domains.match(host) !== undefined) continue;
    if (bodies.some((b) => b.includes(brand.skeleton))) return brand;
    // One substituted letter in a label of the brand's length ("paypai", "arnazon").
    if (host.length > MAX_DNS_NAME) continue;
    labelSkeletons ??= labels.map(skeletonOf);
    for (const sk of labelSkeletons) {
      if (sk.length === brand.skeleton.length && hamming1(sk, brand.skeleton)) return brand;
    }
  }
  return null;
}

function hamming1(a: string, b: string): boolean {
  let diff = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i] && ++diff > 1) return false;
  return diff === 1;
}
