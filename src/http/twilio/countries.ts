// Destination country from an E.164 number, by calling code, for customers that restrict where
// they send (CustomerSettings.allowedCountries, ISO 3166 alpha-2). A compact table of common
// codes; a number whose code is not listed maps to no country and is refused when a list is set.

const CODES: Record<string, string[]> = {
  '1': ['US', 'CA', 'PR'], '7': ['RU', 'KZ'], '20': ['EG'], '27': ['ZA'], '30': ['GR'], '31': ['NL'], '32': ['BE'],
  '33': ['FR'], '34': ['ES'], '36': ['HU'], '39': ['IT'], '40': ['RO'], '41': ['CH'], '43': ['AT'], '44': ['GB'],
  '45': ['DK'], '46': ['SE'], '47': ['NO'], '48': ['PL'], '49': ['DE'], '51': ['PE'], '52': ['MX'], '53': ['CU'],
  '54': ['AR'], '55': ['BR'], '56': ['CL'], '57': ['CO'], '58': ['VE'], '60': ['MY'], '61': ['AU'], '62': ['ID'],
  '63': ['PH'], '64': ['NZ'], '65': ['SG'], '66': ['TH'], '81': ['JP'], '82': ['KR'], '84': ['VN'], '86': ['CN'],
  '90': ['TR'], '91': ['IN'], '92': ['PK'], '93': ['AF'], '94': ['LK'], '95': ['MM'], '98': ['IR'], '212': ['MA'],
  '213': ['DZ'], '216': ['TN'], '234': ['NG'], '254': ['KE'], '351': ['PT'], '352': ['LU'], '353': ['IE'],
  '354': ['IS'], '358': ['FI'], '359': ['BG'], '370': ['LT'], '371': ['LV'], '372': ['EE'], '380': ['UA'],
  '385': ['HR'], '386': ['SI'], '420': ['CZ'], '421': ['SK'], '852': ['HK'], '886': ['TW'], '966': ['SA'],
  '971': ['AE'], '972': ['IL'], '974': ['QA'],
};

/** Candidate ISO countries for a number (several for shared codes such as +1), or [] when unknown. */
export function countriesOf(number: string): string[] {
  const m = /^\+(\d{1,3})/.exec(number.trim());
  if (!m) return [];
  for (let len = 3; len >= 1; len--) {
    const hit = CODES[m[1].slice(0, len)];
    if (hit !== undefined) return hit;
  }
  return [];
}

export function destinationAllowed(to: string, allowed: string[] | undefined): boolean {
  if (allowed === undefined || allowed.length === 0) return true;
  const set = new Set(allowed.map((c) => c.toUpperCase()));
  return countriesOf(to).some((c) => set.has(c));
}
