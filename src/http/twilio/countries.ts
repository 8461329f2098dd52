// Destination country of a number, for customers that restrict where they send
// (CustomerSettings.allowedCountries, ISO 3166 alpha-2). The country comes from libphonenumber's
// metadata (src/core/phone-number.ts), by area code where a calling code is shared (+1 415 is the
// US, +1 613 Canada); a number whose country cannot be told (a non-geographic range of a shared
// code) is allowed when any country of its calling code is.

import { getCountries, getCountryCallingCode } from 'libphonenumber-js';
import { countryOfNumber, numberOf } from '../../core/phone-number.js';

/** Countries by calling code ("1" -> US, CA, PR, ...). */
const BY_CALLING_CODE = new Map<string, string[]>();
for (const c of getCountries()) {
  const code = getCountryCallingCode(c);
  const list = BY_CALLING_CODE.get(code) ?? [];
  list.push(c);
  BY_CALLING_CODE.set(code, list);
}

/** Candidate ISO countries of a number in E.164 (or a channel address holding one), [] when unknown. */
export function countriesOf(address: string): string[] {
  const number = numberOf(address.trim());
  if (number === undefined) return [];
  const country = countryOfNumber(number);
  if (country !== undefined) return [country];
  for (let len = 3; len >= 1; len--) {
    const list = BY_CALLING_CODE.get(number.slice(1, 1 + len));
    if (list !== undefined) return list;
  }
  return [];
}

export function destinationAllowed(to: string, allowed: string[] | undefined): boolean {
  if (allowed === undefined || allowed.length === 0) return true;
  const set = new Set(allowed.map((c) => c.toUpperCase()));
  return countriesOf(to).some((c) => set.has(c));
}
