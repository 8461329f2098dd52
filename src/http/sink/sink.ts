// The built-in sink upstream: a stand-in for Twilio's API so the whole flow works offline. It
// accepts CreateMessage and CreateCall like Twilio (HTTP Basic, form-encoded), records what it
// receives, answers with Twilio-shaped resources, serves them back (fetch and list), and posts
// signed status callbacks (sent, delivered / completed) to the StatusCallback URL. Those callbacks
// go through an EgressClient like everything Warden sends: mounted on the gateway, the gateway's
// own (same policy, same allow list); standalone, one of its own.

import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import formbody from '@fastify/formbody';
import { parse as parseQuery } from 'node:querystring';
import { newSid, parseBasicAuth } from '../credentials.js';
import { callResource, first, messageResource, type CallResource, type FormFields, type MessageResource } from '../twilio/resources.js';
import { computeSignature } from '../twilio/signature.js';
import { encodeForm } from '../twilio/upstream.js';
import { EgressClient } from '../egress/egress-client.js';
import { EgressPolicy } from '../egress/egress-policy.js';

export interface SinkCallback {
  url: string;
  fields: FormFields;
  status: number | null;
}

export class SinkState {
  readonly messages = new Map<string, MessageResource>();
  readonly calls = new Map<string, CallResource>();
  readonly callbacks: SinkCallback[] = [];
  /** Milliseconds between status callbacks; 0 sends none. */
  callbackDelayMs = 20;
  private readonly maxRecords = 10_000;

  remember<T>(map: Map<string, T>, sid: string, value: T): void {
    if (map.size >= this.maxRecords) {
      const oldest = map.keys().next().value;
      if (oldest !== undefined) map.delete(oldest);
    }
    map.set(sid, value);
  }
}

function authError(reply: FastifyReply): FastifyReply {
  return reply.code(401).send({ code: 20003, message: 'Authenticate', more_info: 'https://www.twilio.com/docs/errors/20003', status: 401 });
}

export interface SinkOptions {
  state?: SinkState;
  log: FastifyBaseLogger;
  /** The client its status callbacks go through. */
  egress: EgressClient;
}

export async function registerSink(app: FastifyInstance, opts: SinkOptions): Promise<SinkState> {
  const state = opts.state ?? new SinkState();

  const account = (req: FastifyRequest<{ Params: { AccountSid: string } }>): { sid: string; token: string } | null => {
    const basic = parseBasicAuth(req.headers.authorization);
    if (basic === null || basic.password.length === 0) return null;
    return { sid: req.params.AccountSid, token: basic.password };
  };

  const callbacks = (token: string, url: string | undefined, base: FormFields, statuses: string[], statusField: string) => {
    if (!url || state.callbackDelayMs <= 0) return;
    let i = 0;
    const next = () => {
      if (i >= statuses.length) return;
      const fields: FormFields = { ...base, [statusField]: statuses[i++] };
      if (statusField === 'MessageStatus') fields.SmsStatus = fields.MessageStatus;
      const entry: SinkCallback = { url, fields, status: null };
      state.callbacks.push(entry);
      if (state.callbacks.length > 1000) state.callbacks.shift();
      opts.egress.request(url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': computeSignature(token, url, fields) },
        body: encodeForm(fields),
        timeoutMs: 5000,
        maxBytes: 1024,
        overflow: 'truncate',
        operation: 'sink-callback',
      }).then((res) => {
        entry.status = res.status;
      }).catch((e: unknown) => opts.log.debug({ outcome: (e as { outcome?: string }).outcome, detail: (e as { detail?: string }).detail }, 'sink status callback failed'))
        .finally(() => setTimeout(next, state.callbackDelayMs).unref());
    };
    setTimeout(next, state.callbackDelayMs).unref();
  };

  const fieldsOf = (body: unknown): FormFields => (body && typeof body === 'object' && !Buffer.isBuffer(body) ? (body as FormFields) : {});

  app.post<{ Params: { AccountSid: string } }>('/2010-04-01/Accounts/:AccountSid/Messages.json', { schema: { hide: true } }, async (req, reply) => {
    const acct = account(req);
    if (acct === null) return authError(reply);
    const fields = fieldsOf(req.body);
    if (!first(fields, 'To')) return reply.code(400).send({ code: 21604, message: "A 'To' phone number is required.", more_info: 'https://www.twilio.com/docs/errors/21604', status: 400 });
    const sid = newSid('SM');
    const resource = messageResource(acct.sid, sid, fields, 'queued');
    state.remember(state.messages, sid, resource);
    callbacks(acct.token, first(fields, 'StatusCallback'), { AccountSid: acct.sid, MessageSid: sid, SmsSid: sid, From: resource.from ?? '', To: resource.to, ApiVersion: '2010-04-01' }, ['sent', 'delivered'], 'MessageStatus');
    return reply.code(201).send(resource);
  });

  app.post<{ Params: { AccountSid: string } }>('/2010-04-01/Accounts/:AccountSid/Calls.json', { schema: { hide: true } }, async (req, reply) => {
    const acct = account(req);
    if (acct === null) return authError(reply);
    const fields = fieldsOf(req.body);
    if (!first(fields, 'To')) return reply.code(400).send({ code: 21604, message: "A 'To' phone number is required.", more_info: 'https://www.twilio.com/docs/errors/21604', status: 400 });
    const sid = newSid('CA');
    const resource = callResource(acct.sid, sid, fields, 'queued');
    state.remember(state.calls, sid, resource);
    callbacks(acct.token, first(fields, 'StatusCallback'), { AccountSid: acct.sid, CallSid: sid, From: resource.from, To: resource.to, ApiVersion: '2010-04-01' }, ['initiated', 'ringing', 'completed'], 'CallStatus');
    return reply.code(201).send(resource);
  });

  const fetchOne = (kind: 'messages' | 'calls') => async (req: FastifyRequest<{ Params: { AccountSid: string; Sid: string } }>, reply: FastifyReply) => {
    if (account(req) === null) return authError(reply);
    const r = (state[kind] as Map<string, { account_sid: string }>).get(req.params.Sid);
    if (!r || r.account_sid !== req.params.AccountSid) return reply.code(404).send({ code: 20404, message: `The requested resource ${req.url} was not found`, more_info: 'https://www.twilio.com/docs/errors/20404', status: 404 });
    return r;
  };
  const list = (kind: 'messages' | 'calls') => async (req: FastifyRequest<{ Params: { AccountSid: string } }>, reply: FastifyReply) => {
    if (account(req) === null) return authError(reply);
    const items = [...(state[kind] as Map<string, { account_sid: string }>).values()].filter((r) => r.account_sid === req.params.AccountSid).reverse().slice(0, 50);
    const uri = `/2010-04-01/Accounts/${req.params.AccountSid}/${kind === 'messages' ? 'Messages' : 'Calls'}.json`;
    return { [kind]: items, end: Math.max(0, items.length - 1), first_page_uri: `${uri}?PageSize=50&Page=0`, next_page_uri: null, page: 0, page_size: 50, previous_page_uri: null, start: 0, uri };
  };
  app.get('/2010-04-01/Accounts/:AccountSid/Messages/:Sid.json', { schema: { hide: true } }, fetchOne('messages'));
  app.get('/2010-04-01/Accounts/:AccountSid/Calls/:Sid.json', { schema: { hide: true } }, fetchOne('calls'));
  app.get('/2010-04-01/Accounts/:AccountSid/Messages.json', { schema: { hide: true } }, list('messages'));
  app.get('/2010-04-01/Accounts/:AccountSid/Calls.json', { schema: { hide: true } }, list('calls'));
  return state;
}

/**
 * A standalone sink server (benchmark baseline, or a separate upstream process). `egressAllow`:
 * the ranges its callbacks may reach beyond public addresses (a test's receiver on loopback).
 */
export async function buildSinkApp(state = new SinkState(), opts: { egressAllow?: string[] } = {}): Promise<{ app: FastifyInstance; state: SinkState }> {
  const app = Fastify({ logger: false });
  const self = () => {
    const a = app.server.address();
    return a !== null && typeof a === 'object' ? { address: a.address, port: a.port } : null;
  };
  const egress = new EgressClient({ policy: new EgressPolicy({ allow: opts.egressAllow ?? [], self }), connections: 16 });
  app.addHook('onClose', async () => egress.close());
  await app.register(formbody, { parser: (s: string) => parseQuery(s) });
  await registerSink(app, { state, log: app.log, egress });
  return { app, state };
}
