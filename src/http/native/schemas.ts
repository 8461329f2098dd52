// JSON schemas of the native API. They validate requests, serialise responses and generate the
// OpenAPI document at /openapi.json.

export const evidenceSchema = {
  type: 'object',
  properties: { start: { type: 'integer' }, end: { type: 'integer' }, text: { type: 'string' }, field: { type: 'string' } },
} as const;

export const reasonSchema = {
  type: 'object',
  properties: {
    clause: { type: 'string', description: 'AUP clause ID' },
    rule: { type: 'string' },
    weight: { type: 'number' },
    detail: { type: 'string' },
    evidence: evidenceSchema,
    shadow: { type: 'boolean' },
    action: { type: 'string', enum: ['allow', 'throttle', 'review', 'block'] },
  },
} as const;

export const decisionSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    messageId: { type: 'string' },
    action: { type: 'string', enum: ['allow', 'throttle', 'review', 'block'] },
    score: { type: 'number' },
    reasons: { type: 'array', items: reasonSchema },
    policyVersion: { type: 'string' },
    retryAfter: { type: 'number' },
  },
  required: ['id', 'messageId', 'action', 'score', 'reasons', 'policyVersion'],
} as const;

export const messageSchema = {
  type: 'object',
  description: 'One outbound message. `customer` is taken from the credentials; `endUser` from the credentials when they name one.',
  properties: {
    id: { type: 'string' },
    endUser: { type: 'string' },
    channel: { type: 'string', enum: ['sms', 'mms', 'voice', 'chat'] },
    from: { type: 'string' },
    to: {
      type: 'string',
      maxLength: 256,
      description:
        "The recipient: a phone number in E.164 (formatting such as spaces and dashes is removed, national digits are read in the country of from; screened and recorded as +14155550100) or a channel address (whatsapp:+1...); for channel chat, the chat platform's identifier. Absent: the content alone is screened.",
    },
    body: { type: 'string', maxLength: 10000 },
    mediaUrls: { type: 'array', items: { type: 'string' }, maxItems: 10 },
    timestamp: { type: 'string' },
  },
} as const;

export const errorSchema = {
  type: 'object',
  properties: { error: { type: 'string' }, statusCode: { type: 'integer' } },
} as const;

export const decisionRecordSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    customer: { type: 'string' },
    endUser: { type: 'string' },
    messageId: { type: 'string' },
    messageSid: { type: 'string', description: 'For a Twilio send Warden accepted: the message SID the app was given' },
    channel: { type: 'string' },
    action: { type: 'string' },
    score: { type: 'number' },
    policyVersion: { type: 'string' },
    reasons: { type: 'array', items: reasonSchema },
    to: { type: 'string' },
    from: { type: 'string' },
    body: { type: 'string', nullable: true },
    at: { type: 'string' },
  },
} as const;

export const consentEventSchema = {
  type: 'object',
  properties: {
    seq: { type: 'integer' },
    customer: { type: 'string' },
    recipient: { type: 'string' },
    kind: { type: 'string', enum: ['opt-out', 'opt-in'] },
    source: { type: 'string' },
    evidence: { type: 'string' },
    at: { type: 'string' },
  },
} as const;
