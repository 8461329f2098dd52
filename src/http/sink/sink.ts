// The built-in sink upstream: a stand-in for Twilio's API so the whole flow works offline. It
// accepts CreateMessage and CreateCall like Twilio (HTTP Basic, form-encoded), records what it
// receives, answers with Twilio-shaped resources, serves them back (fetch, and list with Twilio's
// filters and paging), and posts signed status callbacks (sent, delivered / completed) to the
// StatusCallback URL.
//
// It is mounted on the gateway's own port, so it must not be a side door: it has its own secret
// (the token Warden holds as the upstream auth token of the customers it serves), a request must
// name as its Basic username the AccountSid of its path, and everything it lists or fetches
// belongs to that account. A customer's passthrough reaches it only with that customer's own
// upstream account, whatever path the app wrote. Its status callbacks go through an EgressClient
// like everything Warden sends: mounted on the gateway, the gateway's own (same policy, same allow
// list); standalone, one of its own.

import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import formbody from '@fastify/formbody';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { parse as parseQuery } from 'node:querystring';
import { newSid, parseBasicAuth } from '../credentials.js';
import {
  all,
  callResource,
  first,
  messageResource,
  rfc2822,
  type CallResource,
  type FormFields,
  type MessageResource,
} from '../twilio/resources.js';
import { computeSignature } from '../twilio/signature.js';
import { encodeForm } from '../twilio/upstream.js';
import { CALL_FILTERS, MESSAGE_FILTERS, callFilter, messageFilter, type Compiled } from './filters.js';
import { pageEnvelope, parsePageRequest, selectPage, type Query } from './paging.js';
import { EgressClient } from '../egress/egress-client.js';
import { EgressPolicy } from '../egress/egress-policy.js';

export interface SinkCallback {
  url: string;
  fields: FormFields;
  status: number | null;
}

/** A random sink token (192 bits), for a sink whose token is not configured. */
export function newSinkToken(): string {
  return randomBytes(24).toString('base64url');
}

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

export class SinkState {
  readonly messages = new Map<string, MessageResource>();
  readonly calls = new Map<string, CallResource>();
  readonly callbacks: SinkCallback[] = [];
  /** Milliseconds between status updates (and their callbacks); 0 sends none and keeps records queued. */
  callbackDelayMs = 20;
  private readonly maxRecords = 10_000;
  private readonly tokenDigest: Buffer;

  /** `token`: the password every request must present (generated when not given). */
  constructor(readonly token: string = newSinkToken()) {
    if (token.length === 0) throw new Error('the sink token must not be empty');
    this.tokenDigest = digest(token);
  }

  /** Constant-time: the digests have one length whatever the password's. */
  tokenMatches(password: string): boolean {
    return timingSafeEqual(digest(password), this.tokenDigest);
  }

  remember<T>(map: Map<string, T>, sid: string, value: T): void {
    if (map.size >= this.maxRecords) {
      const oldest = map.keys().next().value;
      if (oldest !== undefined) map.delete(oldest);
    }
    map.set(sid, value);
  }
}

const twilioError = (code: number, status: number, message: string) => ({
  code,
  message,
  more_info: `https://www.twilio.com/docs/errors/${code}`,
  status,
});

function authError(reply: FastifyReply): FastifyReply {
  return reply
    .code(401)
    .header('www-authenticate', 'Basic realm="Twilio API"')
    .send(twilioError(20003, 401, 'Authenticate'));
}

/** The Twilio API path of a request (the sink may be mounted under a prefix such as /sink). */
function apiPath(url: string): string {
  const path = url.split('?')[0];
  const at = path.indexOf('/2010-04-01/');
  return at < 0 ? path : path.slice(at);
}

export interface SinkOptions {
  state?: SinkState;
  log: FastifyBaseLogger;
  /** The client its status callbacks go through. */
  egress: EgressClient;
}

type AccountRequest = FastifyRequest<{ Params: { AccountSid: string } }>;

// eslint-disable-next-line max-lines-per-function, limits/max-lines-per-function -- the demo upstream's routes share one closure of state, authentication and callbacks
export async function registerSink(app: FastifyInstance, opts: SinkOptions): Promise<SinkState> {
  const state = opts.state ?? new SinkState();

  /** The account a request may act for: the path's, when the username names it and the password is the sink token. */
  const account = (req: AccountRequest): string | null => {
    const basic = parseBasicAuth(req.headers.authorization);
    if (basic === null || basic.username !== req.params.AccountSid) return null;
    return state.tokenMatches(basic.password) ? req.params.AccountSid : null;
  };

  /**
   * The record moves through `statuses` one step per callbackDelayMs, as a provider's does, and
   * each step is posted to the StatusCallback URL when there is one.
   */
  const progress = (
    record: MessageResource | CallResource,
    url: string | undefined,
    base: FormFields,
    statuses: string[],
    statusField: string,
  ) => {
    if (state.callbackDelayMs <= 0) return;
    let i = 0;
    const next = () => {
      if (i >= statuses.length) return;
      const status = statuses[i++];
      const now = rfc2822();
      record.status = status;
      record.date_updated = now;
      if ('date_sent' in record && status === 'sent') record.date_sent = now;
      if (!url) {
        setTimeout(next, state.callbackDelayMs).unref();
        return;
      }
      const fields: FormFields = { ...base, [statusField]: status };
      if (statusField === 'MessageStatus') fields.SmsStatus = fields.MessageStatus;
      const entry: SinkCallback = { url, fields, status: null };
      state.callbacks.push(entry);
      if (state.callbacks.length > 1000) state.callbacks.shift();
      opts.egress
        .request(url, {
          method: 'POST',
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            'x-twilio-signature': computeSignature(state.token, url, fields),
          },
          body: encodeForm(fields),
          timeoutMs: 5000,
          maxBytes: 1024,
          overflow: 'truncate',
          operation: 'sink-callback',
        })
        .then((res) => {
          entry.status = res.status;
        })
        .catch((e: unknown) =>
          opts.log.debug(
            { outcome: (e as { outcome?: string }).outcome, detail: (e as { detail?: string }).detail },
            'sink status callback failed',
          ),
        )
        .finally(() => setTimeout(next, state.callbackDelayMs).unref());
    };
    setTimeout(next, state.callbackDelayMs).unref();
  };

  const fieldsOf = (body: unknown): FormFields => (body && typeof body === 'object' && !Buffer.isBuffer(body) ? (body as FormFields) : {});
  const badRequest = (reply: FastifyReply, message: string) => reply.code(400).send(twilioError(20400, 400, message));
  const missingTo = (reply: FastifyReply) => reply.code(400).send(twilioError(21604, 400, "A 'To' phone number is required."));

  app.post<{ Params: { AccountSid: string } }>(
    '/2010-04-01/Accounts/:AccountSid/Messages.json',
    { schema: { hide: true } },
    async (req, reply) => {
      const acct = account(req);
      if (acct === null) return authError(reply);
      const fields = fieldsOf(req.body);
      if (!first(fields, 'To')) return missingTo(reply);
      // Twilio names a message with media MM..., one without SM...
      const sid = newSid(all(fields, 'MediaUrl').length > 0 ? 'MM' : 'SM');
      const resource = messageResource(acct, sid, fields, 'queued');
      state.remember(state.messages, sid, resource);
      progress(
        resource,
        first(fields, 'StatusCallback'),
        { AccountSid: acct, MessageSid: sid, SmsSid: sid, From: resource.from ?? '', To: resource.to, ApiVersion: '2010-04-01' },
        ['sent', 'delivered'],
        'MessageStatus',
      );
      return reply.code(201).send({ ...resource });
    },
  );

  app.post<{ Params: { AccountSid: string } }>(
    '/2010-04-01/Accounts/:AccountSid/Calls.json',
    { schema: { hide: true } },
    async (req, reply) => {
      const acct = account(req);
      if (acct === null) return authError(reply);
      const fields = fieldsOf(req.body);
      if (!first(fields, 'To')) return missingTo(reply);
      const sid = newSid('CA');
      const resource = callResource(acct, sid, fields, 'queued');
      state.remember(state.calls, sid, resource);
      progress(
        resource,
        first(fields, 'StatusCallback'),
        { AccountSid: acct, CallSid: sid, From: resource.from, To: resource.to, ApiVersion: '2010-04-01' },
        ['initiated', 'ringing', 'completed'],
        'CallStatus',
      );
      return reply.code(201).send({ ...resource });
    },
  );

  const fetchOne =
    (kind: 'messages' | 'calls') => async (req: FastifyRequest<{ Params: { AccountSid: string; Sid: string } }>, reply: FastifyReply) => {
      const acct = account(req);
      if (acct === null) return authError(reply);
      const r = (state[kind] as Map<string, { account_sid: string }>).get(req.params.Sid);
      if (!r || r.account_sid !== acct)
        return reply.code(404).send(twilioError(20404, 404, `The requested resource ${apiPath(req.url)} was not found`));
      return r;
    };

  function list<T extends { sid: string; account_sid: string }>(
    kind: 'messages' | 'calls',
    filterNames: readonly string[],
    compile: (f: Array<[string, string]>) => Compiled<T>,
  ) {
    return async (req: AccountRequest, reply: FastifyReply) => {
      const acct = account(req);
      if (acct === null) return authError(reply);
      const page = parsePageRequest((req.query ?? {}) as Query, filterNames);
      if ('error' in page) return badRequest(reply, page.error);
      const matches = compile(page.filters);
      if (typeof matches !== 'function') return badRequest(reply, matches.error);
      // Newest first, as Twilio lists; only the path's account.
      const newestFirst: T[] = [];
      for (const r of (state[kind] as unknown as Map<string, T>).values()) if (r.account_sid === acct && matches(r)) newestFirst.push(r);
      newestFirst.reverse();
      const selected = selectPage(newestFirst, page);
      const path = `/2010-04-01/Accounts/${acct}/${kind === 'messages' ? 'Messages' : 'Calls'}.json`;
      return { [kind]: selected.items, ...pageEnvelope(path, page, selected.items, selected) };
    };
  }

  app.get('/2010-04-01/Accounts/:AccountSid/Messages/:Sid.json', { schema: { hide: true } }, fetchOne('messages'));
  app.get('/2010-04-01/Accounts/:AccountSid/Calls/:Sid.json', { schema: { hide: true } }, fetchOne('calls'));
  app.get(
    '/2010-04-01/Accounts/:AccountSid/Messages.json',
    { schema: { hide: true } },
    list<MessageResource>('messages', MESSAGE_FILTERS, messageFilter),
  );
  app.get('/2010-04-01/Accounts/:AccountSid/Calls.json', { schema: { hide: true } }, list<CallResource>('calls', CALL_FILTERS, callFilter));
  return state;
}

/**
 * A standalone sink server (benchmark baseline, or a separate upstream process). `egressAllow`:
 * the ranges its callbacks may reach beyond public addresses (a test's receiver on loopback).
 */
export async function buildSinkApp(
  state = new SinkState(),
  opts: { egressAllow?: string[] } = {},
): Promise<{ app: FastifyInstance; state: SinkState }> {
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
