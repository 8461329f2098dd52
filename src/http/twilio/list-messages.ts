// ListMessage (GET /2010-04-01/Accounts/{AccountSid}/Messages.json): the upstream's page, with
// the messages Warden gave its own SID shown under it, and the messages Warden answers for itself
// (held, scheduled, canceled, refused after acceptance: the upstream has never seen them) merged
// into the first page, newest first, filtered by To and From like the upstream's.
//
// Limits: Warden's own messages appear on the first page only (at most PageSize of them, so that
// page can hold up to twice PageSize); the DateSent filters exclude them (they have no date_sent);
// the upstream's paging URIs are relayed under the app's AccountSid (passthrough.ts), otherwise unchanged.

import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Gateway } from '../gateway.js';
import { authenticate } from './authenticate.js';
import { appSid, asAppResource, ownedResource } from './message-map.js';
import { upstreamAccount, withAppAccount } from './passthrough.js';
import { twilioHandler } from './refusal.js';
import { relay } from './send-screening.js';

type ListRequest = FastifyRequest<{ Params: { AccountSid: string }; Querystring: Record<string, string | string[] | undefined> }>;

const one = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v);

export function listMessages(gw: Gateway) {
  return twilioHandler(async (req: ListRequest, reply: FastifyReply) => {
    const accountSid = req.params.AccountSid;
    const principal = await authenticate(gw, req, accountSid);
    const customer = principal.customer;
    const q = req.url.indexOf('?');
    const query = q < 0 ? '' : req.url.slice(q);
    const upstreamSid = upstreamAccount(accountSid, customer);
    const res = withAppAccount(
      await gw.upstream.send({
        customer,
        operation: 'passthrough',
        method: 'GET',
        accept: 'application/json',
        path: `/2010-04-01/Accounts/${upstreamSid}/Messages.json${query}`,
      }),
      upstreamSid,
      accountSid,
    );
    if (res.status !== 200) return relay(reply, res);
    let page: { messages?: unknown; page?: unknown; page_size?: unknown } & Record<string, unknown>;
    try {
      page = JSON.parse(res.body.toString('utf8')) as typeof page;
    } catch {
      return relay(reply, res);
    }
    if (!Array.isArray(page.messages)) return relay(reply, res);
    const upstream = page.messages as Array<Record<string, unknown>>;
    const sids = upstream.map((m) => m.sid).filter((s): s is string => typeof s === 'string');
    const mapped = new Map(
      (await gw.deps.stores.messages.byUpstream(customer.id, sids)).filter((m) => m.origin !== 'forwarded').map((m) => [m.upstreamSid, m]),
    );
    const shown = upstream.map((m) => {
      const own = mapped.get(m.sid as string);
      return own !== undefined && appSid(own) !== m.sid ? { ...asAppResource(m, own), account_sid: own.accountSid } : m;
    });
    const params = req.query ?? {};
    const firstPage = one(params.PageToken) === undefined && (one(params.Page) ?? '0') === '0';
    const dateFiltered = Object.keys(params).some((k) => k.startsWith('DateSent'));
    if (firstPage && !dateFiltered) {
      const size = Math.min(Math.max(Number(one(params.PageSize) ?? page.page_size ?? 50) || 50, 1), 1000);
      const to = one(params.To);
      const from = one(params.From);
      const own = (await gw.deps.stores.messages.owned(customer.id, accountSid, size))
        .map(ownedResource)
        .filter((m) => (to === undefined || m.to === to) && (from === undefined || m.from === from));
      shown.unshift(...own);
    }
    return { ...page, messages: shown };
  });
}
