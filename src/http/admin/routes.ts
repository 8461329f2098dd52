// The admin API: customers, credentials, enforcement and review. Authenticated with the admin
// bearer token (compared in constant time); disabled entirely when no token is configured.
// Customer credentials never reach these routes.

import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Gateway } from '../gateway.js';
import { HeldConflict, settleHeld } from '../review/settle-held.js';
import type { HeldState } from '../../store/types.js';
import { UpstreamError } from '../twilio/upstream.js';
import { decisionSchema, errorSchema } from '../native/schemas.js';
import { TenancyError, createCustomer, issueCredential, redacted, updateCustomer, type CustomerInput } from './tenancy.js';

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

const customerSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    accountSid: { type: 'string' },
    upstream: { type: 'object', properties: { baseUrl: { type: 'string' }, accountSid: { type: 'string' }, authToken: { type: 'string' } } },
    senders: { type: 'array', items: { type: 'string' } },
    webhookUrl: { type: 'string' },
    settings: {
      type: 'object',
      properties: {
        bodyRetentionDays: { type: 'integer' }, decisionRetentionDays: { type: 'integer' }, hashRecipients: { type: 'boolean' },
        helpReply: { type: 'string' }, stopReply: { type: 'string' }, allowedCountries: { type: 'array', items: { type: 'string' } },
        signingSecret: { type: 'string', maxLength: 200, description: 'Secret relays to the app are signed with (X-Twilio-Signature); default: the customer\'s auth token. Write-only (shown as ********); empty removes it.' },
        twimlProxy: { type: 'boolean', description: "Rewrite calls' Url to Warden's TwiML proxy so the app's TwiML is screened (default true; needs WARDEN_PUBLIC_URL)" },
        refusalMode: { type: 'string', enum: ['sync', 'async'], description: "How a content refusal (30007) reaches the customer's apps: a 400 (sync, default) or accepted then failed (async)" },
      },
    },
    createdAt: { type: 'string' },
  },
} as const;

const customerInputSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    id: { type: 'string', minLength: 1, maxLength: 64 },
    name: { type: 'string', maxLength: 200 },
    accountSid: { type: 'string', maxLength: 34 },
    upstream: {
      type: 'object', additionalProperties: false,
      properties: { baseUrl: { type: 'string', maxLength: 500 }, accountSid: { type: 'string', maxLength: 64 }, authToken: { type: 'string', maxLength: 200 } },
    },
    senders: { type: 'array', items: { type: 'string', maxLength: 64 }, maxItems: 10000, description: 'E.164 numbers, Messaging Service SIDs (MG…), whatsapp:+… addresses, alphanumeric sender IDs' },
    webhookUrl: { type: 'string', maxLength: 500 },
    settings: customerSchema.properties.settings,
  },
} as const;

const { id: _id, accountSid: _accountSid, ...patchProperties } = customerInputSchema.properties;
const customerPatchSchema = { ...customerInputSchema, properties: patchProperties };

export async function registerAdmin(app: FastifyInstance, gw: Gateway): Promise<void> {
  const stores = gw.deps.stores;
  const token = gw.options.adminToken;
  const expected = token ? digest(token) : null;
  const security = [{ adminToken: [] }];
  const errors = { 400: errorSchema, 401: errorSchema, 404: errorSchema, 409: errorSchema };
  const callbackSchema = {
    type: 'object', description: 'The status callback owed to the app for a settled item: pending (nextAt: the next attempt), delivered, refused by the app, or given_up',
    properties: { state: { type: 'string', enum: ['pending', 'delivered', 'refused', 'given_up'] }, attempts: { type: 'integer' }, nextAt: { type: 'string' }, lastError: { type: 'string' } },
  };

  const requireAdmin = async (req: FastifyRequest) => {
    const h = req.headers.authorization;
    const m = typeof h === 'string' ? /^Bearer\s+(\S{1,512})\s*$/i.exec(h) : null;
    if (expected === null || m === null || !timingSafeEqual(digest(m[1]), expected)) {
      throw Object.assign(new Error(expected === null ? 'admin API disabled: set WARDEN_ADMIN_TOKEN' : 'admin token required'), { statusCode: 401 });
    }
  };
  const wrap = async <T>(f: () => Promise<T>): Promise<T> => {
    try {
      return await f();
    } catch (e) {
      if (e instanceof TenancyError) throw Object.assign(new Error(e.message), { statusCode: e.statusCode });
      throw e;
    }
  };

  app.register(async (admin) => {
    admin.addHook('onRequest', requireAdmin);

    admin.get('/v1/admin/customers', { schema: { tags: ['admin'], summary: 'List customers', security, response: { 200: { type: 'object', properties: { customers: { type: 'array', items: customerSchema } } }, ...errors } } },
      async () => ({ customers: (await stores.tenancy.listCustomers()).map(redacted) }));

    admin.post<{ Body: CustomerInput }>('/v1/admin/customers', { schema: { tags: ['admin'], summary: 'Create a customer', security, body: { ...customerInputSchema, required: ['id'] }, response: { 201: customerSchema, ...errors } } },
      async (req, reply) => {
        const c = await wrap(() => createCustomer(stores, req.body));
        gw.tenancyChanged();
        return reply.code(201).send(redacted(c));
      });

    admin.get<{ Params: { id: string } }>('/v1/admin/customers/:id', { schema: { tags: ['admin'], summary: 'One customer', security, response: { 200: customerSchema, ...errors } } },
      async (req) => {
        const c = await stores.tenancy.getCustomer(req.params.id);
        if (c === null) throw Object.assign(new Error(`no customer ${req.params.id}`), { statusCode: 404 });
        return redacted(c);
      });

    admin.put<{ Params: { id: string }; Body: Omit<CustomerInput, 'id' | 'accountSid'> }>('/v1/admin/customers/:id', {
      schema: { tags: ['admin'], summary: 'Update a customer (fields given replace, settings merge)', security, body: customerPatchSchema, response: { 200: customerSchema, ...errors } },
    }, async (req) => {
      const c = await wrap(() => updateCustomer(stores, req.params.id, req.body));
      gw.tenancyChanged();
      return redacted(c);
    });

    admin.post<{ Params: { id: string }; Body: { kind?: 'auth-token' | 'api-key'; endUser?: string } }>('/v1/admin/customers/:id/credentials', {
      schema: {
        tags: ['admin'], summary: 'Issue a credential; the secret is shown once', security,
        body: { type: 'object', additionalProperties: false, properties: { kind: { type: 'string', enum: ['auth-token', 'api-key'] }, endUser: { type: 'string', maxLength: 64 } } },
        response: { 201: { type: 'object', properties: { id: { type: 'string' }, secret: { type: 'string' }, customer: { type: 'string' }, endUser: { type: 'string' } } }, ...errors },
      },
    }, async (req, reply) => {
      const issued = await wrap(() => issueCredential(stores, req.params.id, { kind: req.body?.kind ?? 'api-key', ...(req.body?.endUser !== undefined ? { endUser: req.body.endUser } : {}) }));
      return reply.code(201).send(issued);
    });

    admin.delete<{ Params: { id: string } }>('/v1/admin/credentials/:id', { schema: { tags: ['admin'], summary: 'Revoke a credential', security, response: { 204: { type: 'null' }, ...errors } } },
      async (req, reply) => {
        const cred = await stores.tenancy.getCredential(req.params.id);
        if (cred === null) throw Object.assign(new Error(`no credential ${req.params.id}`), { statusCode: 404 });
        await stores.tenancy.revokeCredential(req.params.id, new Date().toISOString());
        gw.tenancyChanged();
        return reply.code(204).send();
      });

    admin.post<{ Params: { id: string }; Body: { action: 'warn' | 'throttle' | 'suspend' | 'reinstate'; endUser?: string; reason: string; clause?: string } }>('/v1/admin/customers/:id/enforcement', {
      schema: {
        tags: ['admin'], summary: 'Record an enforcement action (suspend, reinstate, warn, throttle)', security,
        body: {
          type: 'object', additionalProperties: false, required: ['action', 'reason'],
          properties: { action: { type: 'string', enum: ['warn', 'throttle', 'suspend', 'reinstate'] }, endUser: { type: 'string', maxLength: 64 }, reason: { type: 'string', minLength: 1, maxLength: 2000 }, clause: { type: 'string', maxLength: 100 } },
        },
        response: { 201: { type: 'object', additionalProperties: true }, ...errors },
      },
    }, async (req, reply) => {
      if ((await stores.tenancy.getCustomer(req.params.id)) === null) throw Object.assign(new Error(`no customer ${req.params.id}`), { statusCode: 404 });
      const ev = await stores.enforcement.append({ customer: req.params.id, ...req.body, actor: 'admin-api', at: new Date().toISOString() });
      await gw.appended('enforcement', ev.seq);
      return reply.code(201).send(ev);
    });

    const heldStates = ['held', 'releasing', 'released', 'refused'] as const;
    admin.get<{ Querystring: { customer?: string; state?: HeldState | 'all'; limit?: number } }>('/v1/review', {
      schema: {
        tags: ['admin'], summary: 'Messages and calls held for review (the durable review queue, shared by every node)', security,
        querystring: {
          type: 'object', additionalProperties: false,
          properties: {
            customer: { type: 'string', maxLength: 64 },
            state: { type: 'string', enum: [...heldStates, 'all'], description: 'Default: held and releasing (not yet settled)' },
            limit: { type: 'integer', minimum: 1, maximum: 10000, default: 1000 },
          },
        },
        response: { 200: { type: 'object', properties: { held: { type: 'array', items: { type: 'object', properties: { sid: { type: 'string' }, kind: { type: 'string' }, customer: { type: 'string' }, endUser: { type: 'string' }, heldAt: { type: 'string' }, state: { type: 'string' }, settledAt: { type: 'string' }, settledBy: { type: 'string' }, decision: decisionSchema,
          callback: callbackSchema } } } } }, ...errors },
      },
    }, async (req) => {
      const { customer, state, limit } = req.query;
      const states: HeldState[] | undefined = state === undefined ? undefined : state === 'all' ? [...heldStates] : [state];
      return { held: await stores.review.list({ ...(customer !== undefined ? { customer } : {}), ...(states !== undefined ? { states } : {}), ...(limit !== undefined ? { limit } : {}) }) };
    });

    admin.post<{ Params: { id: string }; Body: { action: 'release' | 'refuse'; actor?: string } }>('/v1/review/:id', {
      schema: {
        tags: ['admin'], summary: 'Release (forward upstream) or refuse a held message; the app hears through its StatusCallback. Exactly once across nodes: a second settlement gets 409', security,
        body: { type: 'object', additionalProperties: false, required: ['action'], properties: { action: { type: 'string', enum: ['release', 'refuse'] }, actor: { type: 'string', minLength: 1, maxLength: 200, description: 'Who decided, for the review queue and the audit log (default admin-api)' } } },
        response: { 200: { type: 'object', properties: { sid: { type: 'string' }, status: { type: 'string' }, upstreamStatus: { type: 'integer' }, upstreamSid: { type: 'string' }, errorCode: { type: 'integer' } } }, ...errors, 503: errorSchema },
      },
    }, async (req, reply) => {
      const sid = req.params.id;
      try {
        const result = await settleHeld(gw, sid, req.body.action, req.body.actor ?? 'admin-api');
        if (result === null) throw Object.assign(new Error(`nothing held as ${sid}`), { statusCode: 404 });
        return { sid, ...result };
      } catch (e) {
        if (e instanceof HeldConflict) return reply.code(409).send({ error: e.message, statusCode: 409 });
        if (e instanceof UpstreamError) return reply.code(503).send({ error: e.message, statusCode: 503 });
        throw e;
      }
    });

    // The retry schedule ends after a few minutes; an app down longer loses its callback
    // (given_up), and one that refused a callback may want it again once fixed. The operator sends
    // it again: one more attempt now, then the usual schedule.
    admin.post<{ Params: { id: string }; Body: { actor?: string } | undefined }>('/v1/review/:id/callback', {
      schema: {
        tags: ['admin'], summary: 'Send a settled item\'s status callback again (given up, or refused by the app): due now, retried on the usual schedule', security,
        body: { type: 'object', additionalProperties: false, properties: { actor: { type: 'string', minLength: 1, maxLength: 200 } } },
        response: {
          200: { type: 'object', properties: { sid: { type: 'string' }, callback: callbackSchema } },
          ...errors,
        },
      },
    }, async (req, reply) => {
      const sid = req.params.id;
      const item = await stores.review.get(sid);
      if (item === null) return reply.code(404).send({ error: `nothing held as ${sid}`, statusCode: 404 });
      const requeued = await stores.review.requeueCallback(sid, req.body?.actor ?? 'admin-api', new Date().toISOString());
      if (requeued === null) {
        const why = item.callback === undefined ? 'has no status callback' : `has its status callback ${item.callback.state}`;
        return reply.code(409).send({ error: `${sid} ${why}: only a callback given up or refused by the app can be sent again`, statusCode: 409 });
      }
      return { sid, callback: requeued.callback };
    });

    // A node that dies between forwarding a release and recording it leaves the item `releasing`:
    // Warden cannot know whether the upstream got it, so it never forwards it again by itself.
    // The operator looks at the upstream and records what happened: forwarded (settled as released;
    // the upstream reports delivery to the app's StatusCallback) or not (held again, to release or
    // refuse as usual). A claim younger than RECONCILE_AFTER_MS may be a release still in progress.
    admin.post<{ Params: { id: string }; Body: { forwarded: boolean; upstreamSid?: string; upstreamStatus?: number; actor?: string } }>('/v1/review/:id/reconcile', {
      schema: {
        tags: ['admin'], summary: 'Settle an item left `releasing` by a node that died mid-release, from what the upstream shows', security,
        body: {
          type: 'object', additionalProperties: false, required: ['forwarded'],
          properties: {
            forwarded: { type: 'boolean', description: 'Whether the upstream received the message or call' },
            upstreamSid: { type: 'string', maxLength: 64 },
            upstreamStatus: { type: 'integer', minimum: 100, maximum: 599, description: 'Default 201' },
            actor: { type: 'string', minLength: 1, maxLength: 200 },
          },
        },
        response: { 200: { type: 'object', properties: { sid: { type: 'string' }, state: { type: 'string' } } }, ...errors },
      },
    }, async (req, reply) => {
      const sid = req.params.id;
      const item = await stores.review.get(sid);
      if (item === null) return reply.code(404).send({ error: `nothing held as ${sid}`, statusCode: 404 });
      if (item.state !== 'releasing') return reply.code(409).send({ error: `${sid} is ${item.state}: only an item left releasing can be reconciled`, statusCode: 409 });
      const age = Date.now() - Date.parse(item.claimedAt ?? '');
      if (!(age >= RECONCILE_AFTER_MS)) return reply.code(409).send({ error: `${sid} was claimed ${Math.round(age / 1000)} s ago and may still be releasing; reconcile after ${RECONCILE_AFTER_MS / 1000} s`, statusCode: 409 });
      const by = req.body.actor ?? 'admin-api';
      const at = new Date().toISOString();
      if (req.body.forwarded) {
        await stores.review.released(sid, { by, at, upstreamStatus: req.body.upstreamStatus ?? 201, ...(req.body.upstreamSid !== undefined ? { upstreamSid: req.body.upstreamSid } : {}) });
        return { sid, state: 'released' };
      }
      await stores.review.unclaim(sid);
      await stores.audit.append({ actor: by, action: 'review.reconcile', subject: `held:${sid}`, detail: { customer: item.customer, forwarded: false, claimedBy: item.claimedBy ?? null }, at });
      return { sid, state: (await stores.review.get(sid))?.state ?? 'held' };
    });
  });
}

/** How old a release claim must be before an operator may reconcile it. */
export const RECONCILE_AFTER_MS = 60_000;
