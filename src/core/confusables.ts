// Look-alike characters folded to the Latin letter they imitate. The list covers the Cyrillic and
// Greek letters that senders use to dodge keyword filters ("раypal", "frее"), after lower-casing.
// It is a deliberate subset of Unicode's confusables data: only letters that render nearly
// identically to a Latin letter in common SMS fonts.
const PAIRS: ReadonlyArray<[string, string]> = [
  // Cyrillic
  ['а', 'a'], ['в', 'b'], ['ь', 'b'], ['с', 'c'], ['ԁ', 'd'], ['е', 'e'], ['ё', 'e'], ['ғ', 'f'],
  ['ɡ', 'g'], ['һ', 'h'], ['н', 'h'], ['і', 'i'], ['ї', 'i'], ['ј', 'j'], ['к', 'k'], ['ӏ', 'l'],
  ['м', 'm'], ['п', 'n'], ['о', 'o'], ['р', 'p'], ['ԛ', 'q'], ['г', 'r'], ['ѕ', 's'], ['т', 't'],
  ['ц', 'u'], ['ѵ', 'v'], ['ԝ', 'w'], ['х', 'x'], ['у', 'y'], ['ү', 'y'], ['з', '3'],
  // Greek
  ['α', 'a'], ['β', 'b'], ['ϲ', 'c'], ['ε', 'e'], ['η', 'n'], ['ι', 'i'], ['κ', 'k'], ['ν', 'v'],
  ['ο', 'o'], ['ρ', 'p'], ['τ', 't'], ['υ', 'u'], ['χ', 'x'], ['γ', 'y'], ['ω', 'w'], ['ϳ', 'j'],
  ['ѡ', 'w'], ['ɑ', 'a'], ['ı', 'i'], ['ȷ', 'j'], ['ℓ', 'l'],
  // Latin small capitals and other letter-like forms NFKC leaves alone
  ['ᴀ', 'a'], ['ʙ', 'b'], ['ᴄ', 'c'], ['ᴅ', 'd'], ['ᴇ', 'e'], ['ғ', 'f'], ['ɢ', 'g'], ['ʜ', 'h'],
  ['ɪ', 'i'], ['ᴊ', 'j'], ['ᴋ', 'k'], ['ʟ', 'l'], ['ᴍ', 'm'], ['ɴ', 'n'], ['ᴏ', 'o'], ['ᴘ', 'p'],
  ['ʀ', 'r'], ['ꜱ', 's'], ['ᴛ', 't'], ['ᴜ', 'u'], ['ᴠ', 'v'], ['ᴡ', 'w'], ['ʏ', 'y'], ['ᴢ', 'z'],
];

export const CONFUSABLES: ReadonlyMap<string, string> = new Map(PAIRS);
