// The screening core: one message plus a snapshot of state in, one explained decision out.
// Pure and synchronous: no I/O, no clock reads beyond what the context provides, no framework.

import { uuidv7 } from './ids.js';
import { ACTION_SEVERITY, type Action, type Decision, type Evidence, type Message, type Reason } from './types.js';
import type { CompiledPolicy, CompiledRule, UrlFeature } from './compiled-policy.js';
import { normalise, originalSpan, type NormalisedText } from './normalise.js';
import { extractUrls, type FoundUrl } from './urls.js';
import { brandLookalike } from './brands.js';

/**
 * State the core may consult, read from memory that the stores keep current. Every member is
 * optional so the core runs with content rules alone (CLI, library, back-testing).
 */
export interface StateSnapshot {
  /** Returns why the sender is suspended, or null. */
  suspension?(customer: string, endUser: string | undefined): { detail: string } | null;
  /** True when the recipient has opted out of this customer's messages. */
  optedOut?(customer: string, to: string): boolean;
}

export interface ScreeningContext {
  policy: CompiledPolicy;
  state?: StateSnapshot;
  /** Decision ID source; defaults to random UUIDs. */
  newId?: () => string;
  /** Also report weight-0 building-block rules (pack tests use this). */
  includeHelperRules?: boolean;
}

/**
 * Links examined one by one in a message (body and media together). Every link costs its own
 * checks (lists, brand look-alikes, URL features), so without a bound a 10,000-character body of
 * short links costs a thousand times one link. Ordinary messages carry a handful; a message with
 * more is held for review with a reason saying so, so the links past the bound are never a way
 * past the screen.
 */
export const MAX_LINKS = 32;

const EXECUTABLE = /\.(?:apk|exe|scr|bat|cmd|msi|jar|vbs|ps1|dmg|pkg|ipa|xapk|hta|lnk)(?:[?#]|$)/i;

function urlHas(url: FoundUrl, feature: UrlFeature, policy: CompiledPolicy): string | null {
  switch (feature) {
    case 'any':
      return 'link present';
    case 'ip-host':
      return url.ipHost ? `link to a bare IP address ${url.host}` : null;
    case 'idn':
      return url.idn ? `internationalised host ${url.hostUnicode} (${url.host})` : null;
    case 'homograph':
      return url.homograph ? `host spelled with look-alike letters: ${url.hostUnicode}` : null;
    case 'executable':
      return EXECUTABLE.test(url.path) ? `link to an installable or executable file: ${url.path}` : null;
    case 'userinfo':
      return url.userinfo ? 'link hides its real host behind user@' : null;
    case 'defanged':
      return url.defanged ? 'link written in defanged form to dodge link filters' : null;
    case 'port':
      return url.port !== undefined ? `link on non-standard port ${url.port}` : null;
    case 'brand-lookalike': {
      const brand = brandLookalike(url.hostUnicode, url.host, policy.brands);
      return brand ? `host ${url.hostUnicode} imitates ${brand.name}` : null;
    }
  }
}

function urlEvidence(url: FoundUrl): Evidence {
  const e: Evidence = { start: url.start, end: url.end, text: url.text };
  if (url.field !== undefined) e.field = url.field;
  return e;
}

/**
 * Leetspeak words outside links: "t.co/1jL4hi8" is a link path, not an attempt to hide a word.
 * Tokens and links both run in text order, so one walk over both finds which words lie in links.
 */
function leetOutsideLinks(text: NormalisedText, urls: readonly FoundUrl[]): number {
  if (urls.length === 0 || text.signals.leet === 0) return text.signals.leet;
  let count = 0;
  let u = 0;
  for (const t of text.tokens) {
    if (t.leet !== true) continue;
    const at = originalSpan(text, t.start, t.end).start;
    while (u < urls.length && urls[u].end <= at) u++;
    if (!(u < urls.length && at >= urls[u].start)) count++;
  }
  return count;
}

// Composite conditions as plain loops: these run for every composite of every message.
function allHit(list: readonly number[], hits: ReadonlyMap<number, Reason>): boolean {
  for (const i of list) if (!hits.has(i)) return false;
  return true;
}
function anyHit(list: readonly number[], hits: ReadonlyMap<number, Reason>): boolean {
  for (const i of list) if (hits.has(i)) return true;
  return false;
}

/**
 * How much negative-weight reasons take off the score. A negative weight only offsets positive
 * weights of reasons under its own clause (the same clause or a sub-clause: a `content.hate` rule
 * offsets the model's `content.hate` signal, never `content.unwanted.spam`), and never takes a
 * clause below zero; actions are not affected. So a rule that recognises counter-speech can cancel
 * a hate score but cannot be used to smuggle spam past the screen. Negative reasons that take
 * nothing (no positive weight under their clause) are pushed to `idle`.
 */
function offsetWeight(reasons: readonly Reason[], idle: Reason[]): number {
  const remaining = reasons.map((r) => (r.shadow || r.weight <= 0 ? 0 : r.weight));
  let total = 0;
  for (const neg of reasons) {
    if (neg.shadow || neg.weight >= 0) continue;
    const before = total;
    let left = -neg.weight;
    const scope = neg.clause;
    for (let i = 0; i < reasons.length && left > 0; i++) {
      const c = reasons[i].clause;
      if (remaining[i] <= 0 || !(c === scope || (c.startsWith(scope) && c.charCodeAt(scope.length) === 0x2e))) continue;
      const take = Math.min(left, remaining[i]);
      remaining[i] -= take;
      left -= take;
      total += take;
    }
    if (total === before) idle.push(neg);
  }
  return total;
}

// eslint-disable-next-line max-lines-per-function, limits/max-lines-per-function -- the hot path in one pass: every stage reads the same normalised text and writes the same reason list, which split functions would have to pass between them
export function screen(message: Message, ctx: ScreeningContext): Decision {
  const policy = ctx.policy;
  const rules = policy.rules;
  const hits = new Map<number, Reason>();
  const applies = (rule: CompiledRule) => rule.channels === undefined || rule.channels.has(message.channel);
  const hit = (index: number, detail: string, evidence?: Evidence) => {
    if (hits.has(index)) return;
    const rule = rules[index];
    if (!applies(rule)) return;
    const reason: Reason = { clause: rule.clause, rule: rule.id, weight: rule.weight, detail };
    if (evidence !== undefined) reason.evidence = evidence;
    if (rule.shadow) reason.shadow = true;
    if (rule.action !== undefined) reason.action = rule.action;
    hits.set(index, reason);
  };

  const text: NormalisedText = normalise(message.body ?? '');
  const spanOf = (start: number, end: number): Evidence => originalSpan(text, start, end);

  policy.phrases.match(text, (h) => hit(h.rule, rules[h.rule].description, spanOf(h.start, h.end)));
  policy.regexes.match(text.folded, (h) => hit(h.rule, rules[h.rule].description, spanOf(h.start, h.end)));

  // One past the bound, to know that the bound was passed.
  const bodyUrls = extractUrls(text, undefined, MAX_LINKS + 1);
  for (const r of policy.evasionRules) {
    const count = r.signal === 'leet' ? leetOutsideLinks(text, bodyUrls) : text.signals[r.signal];
    if (count >= r.min) hit(r.rule, `${rules[r.rule].description} (${count} found)`);
  }

  // Copy the body's links only when media links join them.
  const urls = message.mediaUrls === undefined ? bodyUrls : bodyUrls.slice();
  if (message.mediaUrls !== undefined) {
    message.mediaUrls.forEach((u, i) => {
      if (urls.length <= MAX_LINKS) urls.push(...extractUrls(normalise(u), `mediaUrls[${i}]`, MAX_LINKS + 1 - urls.length));
    });
  }
  // The first link left unchecked, as the evidence of the reason below.
  const unchecked = urls.length > MAX_LINKS ? urls[MAX_LINKS] : undefined;
  if (unchecked !== undefined) urls.length = MAX_LINKS;
  for (const url of urls) {
    for (const d of policy.domainRules) {
      if (hits.has(d.rule)) continue;
      const listed = d.list.match(url.host);
      if (listed !== undefined) hit(d.rule, `${rules[d.rule].description}: ${listed} is on list ${d.listName}`, urlEvidence(url));
    }
    for (const u of policy.urlRules) {
      if (hits.has(u.rule)) continue;
      const detail = urlHas(url, u.feature, policy);
      if (detail !== null) hit(u.rule, `${rules[u.rule].description}: ${detail}`, urlEvidence(url));
    }
  }

  for (const s of policy.senderRules) {
    if (s.test(message.from)) {
      hit(s.rule, `${rules[s.rule].description}: sender ${message.from}`, {
        start: 0,
        end: message.from.length,
        text: message.from,
        field: 'from',
      });
    }
  }

  for (const c of policy.composites) {
    const ok = allHit(c.all, hits) && (c.any.length === 0 || anyHit(c.any, hits)) && !anyHit(c.none, hits);
    if (ok) {
      const parts = [...c.all, ...c.any.filter((i) => hits.has(i))].map((i) => rules[i].id);
      hit(c.rule, `${rules[c.rule].description} (${parts.join(' + ')})`);
    }
  }

  // Weight-0 rules without an action are building blocks for composites, not reasons by themselves.
  const reasons: Reason[] = [];
  for (const r of hits.values()) {
    if (ctx.includeHelperRules || r.weight !== 0 || r.action !== undefined || r.shadow) reasons.push(r);
  }
  if (unchecked !== undefined) {
    reasons.push({
      clause: 'integrity.bypass',
      rule: 'core.too-many-links',
      weight: 0,
      action: 'review',
      detail: `more than ${MAX_LINKS} links: only the first ${MAX_LINKS} were checked, so a person reviews the message`,
      evidence: urlEvidence(unchecked),
    });
  }

  for (const model of policy.models) {
    for (const signal of model.predict(text)) {
      if (signal.weight <= 0) continue;
      const top = signal.features[0];
      const reason: Reason = {
        clause: signal.clause,
        rule: `model.${model.name}.${signal.label}`,
        weight: signal.weight,
        detail:
          `${model.name} rates ${signal.label} at p=${signal.probability.toFixed(3)}` +
          (signal.features.length > 0 ? `; strongest features: ${signal.features.map((f) => f.feature).join(', ')}` : ''),
      };
      if (top !== undefined) reason.evidence = spanOf(top.start, top.end);
      reasons.push(reason);
    }
  }

  // State checks: fail closed by construction, because the snapshot is in memory.
  const state = ctx.state;
  if (state?.suspension !== undefined) {
    const s = state.suspension(message.customer, message.endUser);
    if (s !== null) reasons.push({ clause: 'account.suspended', rule: 'state.suspended', weight: 0, detail: s.detail, action: 'block' });
  }
  if (state?.optedOut !== undefined && state.optedOut(message.customer, message.to)) {
    reasons.push({
      clause: 'law.opt-out',
      rule: 'state.opted-out',
      weight: 0,
      detail: `recipient ${message.to} has opted out`,
      action: 'block',
    });
  }

  let score = 0;
  let direct: Action = 'allow';
  let offsets = false;
  for (const r of reasons) {
    if (r.shadow) continue;
    if (r.weight < 0) {
      offsets = true;
      continue;
    }
    score += r.weight;
    if (r.action !== undefined && ACTION_SEVERITY[r.action] > ACTION_SEVERITY[direct]) direct = r.action;
  }
  if (offsets) {
    const idle: Reason[] = [];
    score -= offsetWeight(reasons, idle);
    // An offset with nothing under its clause to take changed nothing: listing it would tell a
    // reviewer "counter-speech" on a prize SMS that says "to claim". Pack tests still see it.
    if (idle.length > 0 && !ctx.includeHelperRules) {
      for (const r of idle) if (r.action === undefined) reasons.splice(reasons.indexOf(r), 1);
    }
  }
  score = Math.round(score * 1000) / 1000;
  let action: Action = score >= policy.thresholds.block ? 'block' : score >= policy.thresholds.review ? 'review' : 'allow';
  if (ACTION_SEVERITY[direct] > ACTION_SEVERITY[action]) action = direct;

  const decision: Decision = {
    id: ctx.newId ? ctx.newId() : uuidv7(),
    messageId: message.id,
    action,
    score,
    reasons,
    policyVersion: policy.policyVersion,
  };
  return decision;
}
