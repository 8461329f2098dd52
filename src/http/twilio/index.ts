// The Twilio-compatible API: an app using the official `twilio` package points its base URL at
// Warden and changes nothing else. Deny by default: every operation is in the table below, routed
// on the canonical path (canonical-path.ts). Writes that can carry content are screened; reads
// and deletions of the caller's own records pass through (passthrough.ts); anything else under
// /2010-04-01 is refused with Twilio's error JSON (20403 for writes, 20404 otherwise).
//
//   operation           method  path under /2010-04-01/Accounts/{AccountSid}    handling
//   CreateMessage       POST    /Messages.json                                   screened
//   UpdateMessage       POST    /Messages/{Sid}.json                             redact or cancel only (Warden's scheduled ones canceled here)
//   CreateCall          POST    /Calls.json                                      screened
//   UpdateCall          POST    /Calls/{Sid}.json                                Twiml screened
//   FetchMessage/Call   GET     /Messages/{Sid}.json, /Calls/{Sid}.json          Warden's own (held, scheduled, refused) or mapped, else passed through
//   ListMessage         GET     /Messages.json                                   passed through, SIDs mapped, Warden's own merged into page 0
//   reads               GET     PASSTHROUGH_READS                                passed through
//   deletions           DELETE  PASSTHROUGH_DELETES                              passed through
//   message feedback    POST    /Messages/{Sid}/Feedback.json                    Outcome only, passed through
//   provider webhooks   POST    /twilio/inbound/{customerId}, /twilio/status/{customerId}
//   TwiML proxy         GET|POST /twilio/twiml/{customerId}/{token} (calls' Url, when a public URL is set)

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Gateway } from '../gateway.js';
import { INVALID_PATH } from './canonical-path.js';
import { registerCallProxy } from './call-proxy.js';
import { createCall } from './create-call.js';
import { createMessage } from './create-message.js';
import { fetchResource } from './fetch-resource.js';
import { inboundWebhook } from './inbound-webhook.js';
import { TWILIO_OAI_SUBSET } from './oai-subset.js';
import { FEEDBACK, PASSTHROUGH_DELETES, PASSTHROUGH_READS, passthrough } from './passthrough.js';
import { listMessages } from './list-messages.js';
import { sendScheduledMessage, SEND_MESSAGE_TOPIC } from './scheduled-send.js';
import { statusWebhook } from './status-webhook.js';
import { twilioError } from './twilio-errors.js';
import { updateCall } from './update-call.js';
import { updateMessage } from './update-message.js';
import { webhookSchema } from './webhook-relay.js';

const ACCOUNT = '/2010-04-01/Accounts/:AccountSid';
const TWILIO_BODY_LIMIT = 64 * 1024;

export function isTwilioPath(url: string): boolean {
  return url.startsWith('/2010-04-01') || url.startsWith('/twilio/');
}

const createSchema = (op: 'CreateMessage' | 'CreateCall', summary: string) => ({
  tags: ['twilio'],
  summary,
  description:
    "Twilio-compatible. Screened, then forwarded to the customer's upstream (response relayed unchanged), refused with a Twilio error, or held for review (201 with status accepted).",
  security: [{ basicAuth: [] }],
  consumes: ['application/x-www-form-urlencoded'],
  params: { type: 'object', properties: { AccountSid: { type: 'string' } }, required: ['AccountSid'] },
  body: TWILIO_OAI_SUBSET[op].request as unknown as Record<string, unknown>,
  response: {
    201: TWILIO_OAI_SUBSET[op].response201 as unknown as Record<string, unknown>,
    '4xx': { $ref: 'twilioError#' },
  },
});

const hidden = { schema: { hide: true } } as const;

/** Everything under the Twilio prefix that the table does not name. */
function notInTable(req: FastifyRequest, reply: FastifyReply): FastifyReply {
  const read = req.method === 'GET' || req.method === 'HEAD';
  const body = read ? twilioError('notFound') : twilioError('forbidden', `${req.method} ${req.url.split('?')[0].slice(0, 200)}`);
  return reply.code(body.status).send(body);
}

export async function registerTwilio(app: FastifyInstance, gw: Gateway): Promise<void> {
  gw.scheduler.on(SEND_MESSAGE_TOPIC, sendScheduledMessage(gw, app.log));
  app.addHook('onReady', async () => {
    gw.callbacks.start();
    gw.scheduler.start();
  });
  app.addHook('onClose', async () => {
    await gw.scheduler.close();
    await gw.callbacks.close();
  });
  app.addSchema({
    $id: 'twilioError',
    type: 'object',
    properties: { code: { type: 'integer' }, message: { type: 'string' }, more_info: { type: 'string' }, status: { type: 'integer' } },
  });
  const write = { attachValidation: true, bodyLimit: TWILIO_BODY_LIMIT } as const;

  app.post(`${ACCOUNT}/Messages.json`, { ...write, schema: createSchema('CreateMessage', 'Send a message (screened)') }, createMessage(gw));
  app.post(`${ACCOUNT}/Messages/:Sid.json`, { ...write, ...hidden }, updateMessage(gw));
  app.post(`${ACCOUNT}/Calls.json`, { ...write, schema: createSchema('CreateCall', 'Place a call (screened)') }, createCall(gw));
  app.post(`${ACCOUNT}/Calls/:Sid.json`, { ...write, ...hidden }, updateCall(gw));
  app.get(`${ACCOUNT}/Messages/:Sid.json`, hidden, fetchResource(gw));
  app.get(`${ACCOUNT}/Calls/:Sid.json`, hidden, fetchResource(gw));
  app.get(`${ACCOUNT}/Messages.json`, hidden, listMessages(gw));
  for (const url of PASSTHROUGH_READS) app.get(url, hidden, passthrough(gw, 'read'));
  for (const url of PASSTHROUGH_DELETES) app.delete(url, hidden, passthrough(gw, 'delete'));
  app.post(FEEDBACK, { ...write, ...hidden }, passthrough(gw, 'feedback'));

  app.post(
    '/twilio/inbound/:customerId',
    {
      schema: webhookSchema(
        'Incoming-message webhook: verifies X-Twilio-Signature, applies STOP/START/HELP keywords, answers TwiML, relays to the customer webhook',
      ),
      bodyLimit: TWILIO_BODY_LIMIT,
    },
    inboundWebhook(gw),
  );
  app.post(
    '/twilio/status/:customerId',
    {
      schema: webhookSchema('Status-callback webhook: verifies X-Twilio-Signature and relays the status to the customer webhook'),
      bodyLimit: TWILIO_BODY_LIMIT,
    },
    statusWebhook(gw),
  );

  registerCallProxy(app, gw);

  // Deny by default: the rest of the prefix answers Twilio's error JSON, never the upstream.
  app.all('/2010-04-01', hidden, notInTable);
  app.all('/2010-04-01/*', hidden, notInTable);
  app.all('/twilio/*', hidden, notInTable);
  app.all(INVALID_PATH, hidden, async (_req, reply) =>
    reply
      .code(404)
      .send(
        twilioError('notFound', 'the path has no canonical form (encoded separators, control characters, or dot segments above the root)'),
      ),
  );
}
