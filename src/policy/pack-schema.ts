// JSON Schema for rule-pack files. `pack.yaml` holds the pack's identity, thresholds, lists and
// brands; files under `rules/` hold rules. Both are validated with Ajv before compiling.

export const ACTIONS = ['allow', 'throttle', 'review', 'block'] as const;
export const RULE_KINDS = ['phrase', 'regex', 'domain', 'url', 'sender', 'evasion', 'composite'] as const;
export const URL_FEATURES = [
  'any',
  'ip-host',
  'idn',
  'homograph',
  'executable',
  'userinfo',
  'defanged',
  'brand-lookalike',
  'port',
] as const;
export const EVASION_SIGNALS = ['invisible', 'mixedScript', 'leet', 'split', 'stretched'] as const;

const example = {
  oneOf: [
    { type: 'string' },
    {
      type: 'object',
      additionalProperties: false,
      required: ['body'],
      properties: {
        body: { type: 'string' },
        from: { type: 'string' },
        channel: { enum: ['sms', 'mms', 'voice', 'chat'] },
        mediaUrls: { type: 'array', items: { type: 'string' } },
      },
    },
  ],
};

export const RULE_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'clause', 'kind', 'description', 'examples'],
  properties: {
    id: { type: 'string', pattern: '^[a-z0-9][a-z0-9._-]{0,99}$' },
    clause: { type: 'string', pattern: '^[a-z][a-z0-9.-]*$' },
    kind: { enum: RULE_KINDS },
    description: { type: 'string', minLength: 1, maxLength: 300 },
    weight: { type: 'number', minimum: -100, maximum: 100 },
    action: { enum: ACTIONS },
    shadow: { type: 'boolean' },
    channels: { type: 'array', items: { enum: ['sms', 'mms', 'voice', 'chat'] }, minItems: 1 },
    phrases: { type: 'array', items: { type: 'string', minLength: 1, maxLength: 2000 }, minItems: 1 },
    keepDoubles: { type: 'boolean' },
    pattern: { type: 'string', minLength: 1, maxLength: 1000 },
    list: { type: 'string' },
    feature: { enum: URL_FEATURES },
    senders: { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1 },
    senderMatch: { enum: ['exact', 'prefix', 'alphanumeric-contains'] },
    signal: { enum: EVASION_SIGNALS },
    min: { type: 'integer', minimum: 1 },
    all: { type: 'array', items: { type: 'string' } },
    any: { type: 'array', items: { type: 'string' } },
    none: { type: 'array', items: { type: 'string' } },
    examples: {
      type: 'object',
      additionalProperties: false,
      required: ['hit', 'miss'],
      properties: {
        hit: { type: 'array', items: example, minItems: 1 },
        miss: { type: 'array', items: example, minItems: 1 },
      },
    },
  },
  allOf: [
    { if: { properties: { kind: { const: 'phrase' } } }, then: { required: ['phrases'] } },
    { if: { properties: { kind: { const: 'regex' } } }, then: { required: ['pattern'] } },
    { if: { properties: { kind: { const: 'domain' } } }, then: { required: ['list'] } },
    { if: { properties: { kind: { const: 'url' } } }, then: { required: ['feature'] } },
    { if: { properties: { kind: { const: 'sender' } } }, then: { required: ['senders'] } },
    { if: { properties: { kind: { const: 'evasion' } } }, then: { required: ['signal'] } },
    { if: { properties: { kind: { const: 'composite' } } }, then: { anyOf: [{ required: ['all'] }, { required: ['any'] }] } },
  ],
} as const;

export const RULES_FILE_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['rules'],
  properties: {
    description: { type: 'string' },
    rules: { type: 'array', items: RULE_SCHEMA },
  },
} as const;

export const PACK_FILE_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['pack', 'version', 'thresholds'],
  properties: {
    pack: { type: 'string', pattern: '^[a-z0-9][a-z0-9._-]*$' },
    version: { type: 'string', minLength: 1 },
    description: { type: 'string' },
    thresholds: {
      type: 'object',
      additionalProperties: false,
      required: ['review', 'block'],
      properties: { review: { type: 'number' }, block: { type: 'number' } },
    },
    clauses: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['id', 'summary'],
        properties: { id: { type: 'string' }, summary: { type: 'string' } },
      },
    },
    lists: {
      type: 'object',
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        required: ['file'],
        properties: {
          file: { type: 'string' },
          description: { type: 'string' },
          column: { type: 'string' },
          where: { type: 'object', additionalProperties: { type: 'string' } },
        },
      },
    },
    brands: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'domains'],
        properties: { name: { type: 'string', minLength: 3 }, domains: { type: 'array', items: { type: 'string' } } },
      },
    },
    rules: { type: 'array', items: RULE_SCHEMA },
    models: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['file'],
        properties: {
          file: { type: 'string' },
          weights: { type: 'object', additionalProperties: { type: 'number' } },
        },
      },
    },
  },
} as const;

export type ExampleSpec = string | { body: string; from?: string; channel?: 'sms' | 'mms' | 'voice' | 'chat'; mediaUrls?: string[] };

export interface RuleSpec {
  id: string;
  clause: string;
  kind: (typeof RULE_KINDS)[number];
  description: string;
  weight?: number;
  action?: (typeof ACTIONS)[number];
  shadow?: boolean;
  channels?: Array<'sms' | 'mms' | 'voice' | 'chat'>;
  phrases?: string[];
  /** Phrase words written with a double letter match only words written with one (see phrase-matcher DOUBLED). */
  keepDoubles?: boolean;
  pattern?: string;
  list?: string;
  feature?: (typeof URL_FEATURES)[number];
  senders?: string[];
  senderMatch?: 'exact' | 'prefix' | 'alphanumeric-contains';
  signal?: (typeof EVASION_SIGNALS)[number];
  min?: number;
  all?: string[];
  any?: string[];
  none?: string[];
  examples: { hit: ExampleSpec[]; miss: ExampleSpec[] };
}
