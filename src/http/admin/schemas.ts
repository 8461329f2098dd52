// Schemas the admin routes share: a customer as shown (secrets redacted) and as written, the
// status callback owed for a settled item, the admin token's security requirement and the error
// answers every admin route may give.

import { errorSchema } from '../native/schemas.js';

export const security = [{ adminToken: [] }];
export const errors = { 400: errorSchema, 401: errorSchema, 404: errorSchema, 409: errorSchema };

export const customerSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    accountSid: { type: 'string' },
    upstream: {
      type: 'object',
      properties: { baseUrl: { type: 'string' }, accountSid: { type: 'string' }, authToken: { type: 'string' } },
    },
    senders: { type: 'array', items: { type: 'string' } },
    webhookUrl: { type: 'string' },
    settings: {
      type: 'object',
      properties: {
        bodyRetentionDays: { type: 'integer' },
        decisionRetentionDays: { type: 'integer' },
        hashRecipients: { type: 'boolean' },
        helpReply: { type: 'string' },
        stopReply: { type: 'string' },
        allowedCountries: { type: 'array', items: { type: 'string' } },
        signingSecret: {
          type: 'string',
          maxLength: 200,
          description:
            "Secret relays to the app are signed with (X-Twilio-Signature); default: the customer's auth token. Write-only (shown as ********); empty removes it.",
        },
        twimlProxy: {
          type: 'boolean',
          description: "Rewrite calls' Url to Warden's TwiML proxy so the app's TwiML is screened (default true; needs WARDEN_PUBLIC_URL)",
        },
        refusalMode: {
          type: 'string',
          enum: ['sync', 'async'],
          description: "How a content refusal (30007) reaches the customer's apps: a 400 (sync, default) or accepted then failed (async)",
        },
      },
    },
    createdAt: { type: 'string' },
  },
} as const;

export const customerInputSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    id: { type: 'string', minLength: 1, maxLength: 64 },
    name: { type: 'string', maxLength: 200 },
    accountSid: { type: 'string', maxLength: 34 },
    upstream: {
      type: 'object',
      additionalProperties: false,
      properties: {
        baseUrl: { type: 'string', maxLength: 500 },
        accountSid: { type: 'string', maxLength: 64 },
        authToken: { type: 'string', maxLength: 200 },
      },
    },
    senders: {
      type: 'array',
      items: { type: 'string', maxLength: 64 },
      maxItems: 10000,
      description: 'E.164 numbers, Messaging Service SIDs (MG…), whatsapp:+… addresses, alphanumeric sender IDs',
    },
    webhookUrl: { type: 'string', maxLength: 500 },
    settings: customerSchema.properties.settings,
  },
} as const;

const { id: _id, accountSid: _accountSid, ...patchProperties } = customerInputSchema.properties;
export const customerPatchSchema = { ...customerInputSchema, properties: patchProperties };

export const callbackSchema = {
  type: 'object',
  description:
    'The status callback owed to the app for a settled item: pending (nextAt: the next attempt), delivered, refused by the app, or given_up',
  properties: {
    state: { type: 'string', enum: ['pending', 'delivered', 'refused', 'given_up'] },
    attempts: { type: 'integer' },
    nextAt: { type: 'string' },
    lastError: { type: 'string' },
  },
} as const;
