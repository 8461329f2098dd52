// The AUP clause catalogue: every prohibition in the Acceptable Use Policy Warden enforces, with a
// stable ID that decisions, reports, the API and the console cite. Summaries are our own words;
// `source` names the AUP section each clause comes from (shared seed: the platform AUP dated
// 25 February 2025). The top-level IDs are a public contract: never rename or remove one.

export interface Clause {
  id: string;
  summary: string;
  /** The AUP section the clause is derived from. */
  source: string;
}

const AUP = 'Acceptable Use Policy (25 Feb 2025)';

export const CLAUSES: readonly Clause[] = [
  // No inappropriate content or users
  {
    id: 'content.illegal',
    summary: 'Content or communications that break the law, or promote illegal goods and services.',
    source: `${AUP}, "No Inappropriate Content or Users"`,
  },
  {
    id: 'content.illegal.drugs',
    summary: 'Offers to sell or supply controlled drugs or prescription medicines without a prescription.',
    source: `${AUP}, "No Inappropriate Content or Users" (illegal content)`,
  },
  {
    id: 'content.illegal.weapons',
    summary: 'Offers of illegal weapons, untraceable firearms or weapon conversion kits.',
    source: `${AUP}, "No Inappropriate Content or Users" (illegal content)`,
  },
  {
    id: 'content.illegal.counterfeit',
    summary: 'Counterfeit goods, forged documents or stolen data offered for sale.',
    source: `${AUP}, "No Inappropriate Content or Users" (illegal content)`,
  },
  {
    id: 'content.harmful',
    summary: 'Content that causes harm to recipients, including restricted SHAFT content sent without age gating.',
    source: `${AUP}, "No Inappropriate Content or Users"`,
  },
  {
    id: 'content.harmful.shaft',
    summary: 'Sex, hate, alcohol, firearms or tobacco/cannabis content that carriers restrict on messaging.',
    source: `${AUP}, "No Inappropriate Content or Users" and carrier requirements under "Violations of Laws or Standards"`,
  },
  {
    id: 'content.harmful.self-harm',
    summary: 'Content encouraging suicide or self-harm.',
    source: `${AUP}, "No Inappropriate Content or Users" (harmful content)`,
  },
  {
    id: 'content.unwanted',
    summary: 'Unsolicited bulk or marketing communications the recipient did not ask for.',
    source: `${AUP}, "No Inappropriate Content or Users" (unwanted content)`,
  },
  {
    id: 'content.unwanted.spam',
    summary: 'Classic spam lures: prizes, free offers, premium-rate replies, loan and debt offers.',
    source: `${AUP}, "No Inappropriate Content or Users" (unwanted content)`,
  },
  {
    id: 'content.unwanted.shortener',
    summary: 'Links through public URL shorteners, which hide the destination and which carriers filter.',
    source: `${AUP}, "No Inappropriate Content or Users" and carrier requirements under "Violations of Laws or Standards"`,
  },
  {
    id: 'content.false',
    summary: 'False, inaccurate or deceptive content.',
    source: `${AUP}, "No Inappropriate Content or Users" (a) false or inaccurate`,
  },
  {
    id: 'content.false.phishing',
    summary: 'Messages that trick recipients into giving up credentials, payment details or codes (smishing).',
    source: `${AUP}, "No Inappropriate Content or Users" (a) and "Prohibited Activities" (deceptive activity)`,
  },
  {
    id: 'content.false.scam',
    summary: 'Fraudulent offers: advance-fee, fake jobs, investment and crypto scams, fake debts.',
    source: `${AUP}, "No Inappropriate Content or Users" (a) and "Prohibited Activities" (deceptive activity)`,
  },
  {
    id: 'content.false.impersonation',
    summary: 'Content that impersonates a brand, bank, carrier or government body.',
    source: `${AUP}, "No Inappropriate Content or Users" (a) and "Falsification of Identity or Origin"`,
  },
  {
    id: 'content.hate',
    summary: 'Content that is hateful or encourages hatred against people for who they are, or use by a hate group.',
    source: `${AUP}, "No Inappropriate Content or Users" (b)`,
  },
  {
    id: 'content.violence',
    summary: 'Threats of violence, or content that encourages violence against individuals or groups.',
    source: `${AUP}, "No Inappropriate Content or Users" (b)`,
  },
  {
    id: 'content.public-safety',
    summary: 'Content that could endanger public safety: bomb threats, attack planning, dangerous hoaxes.',
    source: `${AUP}, "No Inappropriate Content or Users" (c)`,
  },
  // Prohibited activities
  {
    id: 'law.consent',
    summary: 'Sending, recording or collecting without the consent the law or carrier rules require.',
    source: `${AUP}, "Violations of Laws or Standards" (a)`,
  },
  { id: 'law.opt-out', summary: 'Failing to honour an opt-out request.', source: `${AUP}, "Violations of Laws or Standards" (b)` },
  {
    id: 'law.standards',
    summary: 'Breaking laws, industry standards or carrier requirements, such as quiet hours or required disclosures.',
    source: `${AUP}, "Violations of Laws or Standards"`,
  },
  {
    id: 'services.interference',
    summary: 'Interfering with the services or with third-party networks linked to them.',
    source: `${AUP}, "Interference with the Services"`,
  },
  {
    id: 'identity.falsification',
    summary: 'A false identity, or misleading recipients about who sent a message or where it came from.',
    source: `${AUP}, "Falsification of Identity or Origin"`,
  },
  {
    id: 'identity.falsification.sender',
    summary: 'A sender ID or number the customer does not own or has not verified.',
    source: `${AUP}, "Falsification of Identity or Origin"`,
  },
  // Service integrity
  {
    id: 'integrity.bypass',
    summary: 'Attempts to bypass limits, restrictions or filtering, including obfuscated text written to evade screening.',
    source: `${AUP}, "Bypassing Service Limitations" and "Security Vulnerabilities"`,
  },
  {
    id: 'integrity.dos',
    summary: 'Flooding, denial of service, or traffic meant to overload the services or a network.',
    source: `${AUP}, "Disabling the Services"`,
  },
  {
    id: 'integrity.harmful-code',
    summary: 'Malware, malicious links or files, and abusive automation.',
    source: `${AUP}, "Harmful Code or Bots"`,
  },
  {
    id: 'integrity.unauthorized-access',
    summary: 'Attempts to gain unauthorised access to the services or to accounts.',
    source: `${AUP}, "Unauthorized Access"`,
  },
  {
    id: 'data.safeguards',
    summary: 'Data handled without the safeguards the customer has chosen or the law requires.',
    source: `${AUP}, "Data Safeguards"`,
  },
  {
    id: 'country.requirements',
    summary: 'Service- and country-specific requirements for the destination.',
    source: `${AUP}, "Service and Country Specific Requirements"`,
  },
  {
    id: 'account.suspended',
    summary: 'The customer or end user is suspended and may not send.',
    source: `${AUP}, preamble (suspension for violations)`,
  },
];

/** The top-level IDs every pack, decision and report may rely on. */
export const TOP_LEVEL_CLAUSES = [
  'content.illegal',
  'content.harmful',
  'content.unwanted',
  'content.false',
  'content.hate',
  'content.violence',
  'content.public-safety',
  'law.consent',
  'law.opt-out',
  'law.standards',
  'services.interference',
  'identity.falsification',
  'integrity.bypass',
  'integrity.dos',
  'integrity.harmful-code',
  'integrity.unauthorized-access',
  'data.safeguards',
  'country.requirements',
  'account.suspended',
] as const;

const BY_ID = new Map(CLAUSES.map((c) => [c.id, c]));

export function clauseById(id: string): Clause | undefined {
  return BY_ID.get(id);
}

/**
 * A clause a pack may cite: a catalogue entry, or a sub-ID below a top-level clause
 * (`content.false.parcel-fee`) that the pack declares itself.
 */
export function isKnownClause(id: string, extra: ReadonlySet<string> = new Set()): boolean {
  return BY_ID.has(id) || extra.has(id);
}

export function parentClause(id: string): string | undefined {
  return (TOP_LEVEL_CLAUSES as readonly string[]).find((top) => id === top || id.startsWith(`${top}.`));
}
