// The native API: screening (one message, or a batch of up to 1,000 messages and 1,000,000
// characters screened in time slices so other requests are served meanwhile), decisions, consent. Every
// route authenticates with the customer's credentials (HTTP Basic, like the Twilio API) and sees
// only that customer's data: the customer is taken from the credentials, never from the body.

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { parseMessage } from '../../core/message-input.js';
import { canonicalAddress } from '../../core/phone-number.js';
import { isHashedRecipient } from '../../store/recipient-key.js';
import type { Decision, Message } from '../../core/types.js';
import { newSid, type Principal } from '../credentials.js';
import type { Gateway } from '../gateway.js';
import { appSid } from '../twilio/message-map.js';
import { endOfLoopTurn } from '../reply-coalescing.js';
import { inSlices } from './batch.js';
import { consentEventSchema, decisionRecordSchema, decisionSchema, errorSchema, messageSchema } from './schemas.js';

export const MAX_BATCH = 1000;
/**
 * Characters of message bodies and media URLs in one batch. Screening costs about the text's
 * length, so this bounds a batch's work where the count alone does not (1,000 bodies of 10,000
 * characters are ten million characters): 1,000 messages of 1,000 characters each, or 100 of
 * the longest bodies.
 */
export const MAX_BATCH_CHARS = 1_000_000;

/** Characters that screening reads in one message. */
function screenedChars(m: Message): number {
  let n = m.body?.length ?? 0;
  if (m.mediaUrls !== undefined) for (const u of m.mediaUrls) n += u.length;
  return n;
}

class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
  }
}

const UNAUTHENTICATED = 'authentication required: HTTP Basic with an account SID or API key and its secret';

/** The caller's principal; synchronous when its Authorization header is in the verified cache (the common case). */
function principal(gw: Gateway, req: FastifyRequest): Principal | Promise<Principal> {
  const cached = gw.auth.cachedHeader(req.headers.authorization);
  if (cached === null) throw new HttpError(401, UNAUTHENTICATED);
  if (cached !== undefined) return cached;
  return gw.auth.fromHeader(req.headers.authorization, req.ip).then((p) => {
    if (p === null) throw new HttpError(401, UNAUTHENTICATED);
    return p;
  });
}

/**
 * A recipient named to the consent API, as the ledger keys it: a phone number or channel address
 * in canonical form (so "+1 415-555-0100" is the number a STOP came from), or a stored keyed hash.
 */
function consentRecipient(raw: string): string {
  if (isHashedRecipient(raw)) return raw;
  const canonical = /^[+0-9A-Za-z:._@() -]{1,64}$/.test(raw) ? canonicalAddress(raw) : null;
  if (canonical === null) throw new HttpError(400, 'recipient must be a phone number (E.164 such as +14155550100) or channel address');
  return canonical;
}

// eslint-disable-next-line max-lines-per-function, limits/max-lines-per-function -- five routes not yet in files of their own as the Twilio and admin adapters' are (the next split)
export async function registerNative(app: FastifyInstance, gw: Gateway): Promise<void> {
  const stores = gw.deps.stores;
  const security = [{ basicAuth: [] }];
  const errors = { 400: errorSchema, 401: errorSchema, 404: errorSchema, 413: errorSchema, 429: errorSchema };

  const messageOf = (raw: unknown, p: Principal, index: number | null): Message => {
    const parsed = parseMessage(raw, newSid('SM'));
    if (!parsed.ok) throw new HttpError(400, index === null ? parsed.error : `messages[${index}]: ${parsed.error}`);
    const message = parsed.message;
    message.customer = p.customer.id;
    if (p.endUser !== undefined) message.endUser = p.endUser;
    return message;
  };
  const screenOne = (message: Message): { decision: Decision; message: Message } => {
    const decision = gw.screen(message);
    gw.metrics.countDecision(decision, message.channel, 'native');
    return { decision, message };
  };

  app.post(
    '/v1/screen',
    {
      schema: {
        tags: ['screening'],
        summary: 'Screen one message, or a batch of up to 1,000 messages and 1,000,000 characters ({"messages": [...]})',
        security,
        body: {
          type: 'object',
          description:
            'A message, or {"messages": [message, ...]} with 1 to 1,000 messages holding at most 1,000,000 characters of bodies and media URLs together (more: 413).',
          properties: { ...messageSchema.properties, messages: { type: 'array', items: messageSchema, minItems: 1, maxItems: MAX_BATCH } },
        },
        response: {
          200: {
            type: 'object',
            description: 'A decision for a single message, or {"decisions": [...]} in input order for a batch.',
            properties: { ...decisionSchema.properties, decisions: { type: 'array', items: decisionSchema } },
          },
          ...errors,
        },
      },
    },
    async (req: FastifyRequest) => {
      const known = principal(gw, req);
      const p = known instanceof Promise ? await known : known;
      const body = req.body as Record<string, unknown>;
      const customer = p.customer;
      if (Array.isArray(body.messages)) {
        // Every message is checked before any is screened: a batch is refused whole, and a refused
        // batch leaves no decisions counted that were never answered.
        const messages = body.messages.map((m, i) => messageOf(m, p, i));
        let chars = 0;
        for (const m of messages) chars += screenedChars(m);
        if (chars > MAX_BATCH_CHARS) {
          throw new HttpError(
            413,
            `batch holds ${chars.toLocaleString('en-US')} characters of bodies and media URLs; the limit is ${MAX_BATCH_CHARS.toLocaleString('en-US')}: send it as several batches`,
          );
        }
        const results = await inSlices(messages, screenOne);
        const waits = results
          .map((r) => gw.decisions.record(r.decision, r.message, customer, gw.options.awaitDecisionLog))
          .filter((w) => w !== null);
        if (waits.length > 0) await Promise.all(waits);
        if (gw.options.coalesceReplies) await endOfLoopTurn();
        return { decisions: results.map((r) => r.decision) };
      }
      const { decision, message } = screenOne(messageOf(body, p, null));
      const wait = gw.decisions.record(decision, message, customer, gw.options.awaitDecisionLog);
      if (wait !== null) await wait;
      if (gw.options.coalesceReplies) await endOfLoopTurn();
      return decision;
    },
  );

  app.get<{ Params: { id: string } }>(
    '/v1/decisions/:id',
    {
      schema: {
        tags: ['screening'],
        summary: 'One recorded decision of the authenticated customer',
        security,
        params: { type: 'object', properties: { id: { type: 'string', maxLength: 100 } }, required: ['id'] },
        response: { 200: decisionRecordSchema, ...errors },
      },
    },
    async (req) => {
      const p = await principal(gw, req);
      const rec = await gw.decisions.get(p.customer.id, req.params.id);
      if (rec === null) throw new HttpError(404, `no decision ${req.params.id}`);
      // A Twilio send: the SID the app was given (the upstream's for a forwarded message, Warden's otherwise).
      const m = await stores.messages.get(rec.messageId, p.customer.id);
      return m !== null ? { ...rec, messageSid: appSid(m) } : rec;
    },
  );

  app.get<{ Querystring: { limit?: string; before?: string } }>(
    '/v1/decisions',
    {
      schema: {
        tags: ['screening'],
        summary: 'Recent decisions of the authenticated customer, newest first',
        security,
        querystring: {
          type: 'object',
          properties: { limit: { type: 'string', pattern: '^[0-9]{1,3}$' }, before: { type: 'string', maxLength: 40 } },
        },
        response: { 200: { type: 'object', properties: { decisions: { type: 'array', items: decisionRecordSchema } } }, ...errors },
      },
    },
    async (req) => {
      const p = await principal(gw, req);
      const limit = Number(req.query.limit ?? 50);
      if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw new HttpError(400, 'limit must be an integer from 1 to 500');
      await gw.decisions.flush();
      return { decisions: await stores.decisions.list(p.customer.id, limit, req.query.before) };
    },
  );

  app.post<{ Body: { recipient: string; kind: 'opt-out' | 'opt-in'; evidence?: string } }>(
    '/v1/consent',
    {
      schema: {
        tags: ['consent'],
        summary: 'Record an opt-out or opt-in for a recipient of the authenticated customer',
        security,
        body: {
          type: 'object',
          properties: {
            recipient: { type: 'string', minLength: 1, maxLength: 64 },
            kind: { type: 'string', enum: ['opt-out', 'opt-in'] },
            evidence: { type: 'string', maxLength: 1000 },
          },
          required: ['recipient', 'kind'],
        },
        response: { 201: consentEventSchema, ...errors },
      },
    },
    async (req, reply: FastifyReply) => {
      const p = await principal(gw, req);
      const recipient = consentRecipient(req.body.recipient);
      const ev = await stores.consent.append({
        customer: p.customer.id,
        recipient: gw.storedRecipient(p.customer.settings?.hashRecipients, recipient),
        kind: req.body.kind,
        source: 'api',
        ...(req.body.evidence !== undefined ? { evidence: req.body.evidence } : {}),
        at: new Date().toISOString(),
      });
      return reply.code(201).send(ev);
    },
  );

  app.get<{ Params: { recipient: string } }>(
    '/v1/consent/:recipient',
    {
      schema: {
        tags: ['consent'],
        summary: 'Whether a recipient is opted out, with the full consent history (the proof)',
        security,
        params: { type: 'object', properties: { recipient: { type: 'string', maxLength: 64 } }, required: ['recipient'] },
        response: {
          200: {
            type: 'object',
            properties: {
              recipient: { type: 'string' },
              optedOut: { type: 'boolean' },
              history: { type: 'array', items: consentEventSchema },
            },
          },
          ...errors,
        },
      },
    },
    async (req) => {
      const p = await principal(gw, req);
      const recipient = consentRecipient(req.params.recipient);
      const state = gw.deps.state();
      const optedOut = state.optedOut ? state.optedOut(p.customer.id, recipient) : false;
      return {
        recipient,
        optedOut,
        history: await stores.consent.history(p.customer.id, gw.storedRecipient(p.customer.settings?.hashRecipients, recipient)),
      };
    },
  );
}
