// The filters of Twilio's ListMessage (To, From, DateSent, DateSent<, DateSent>) and ListCall
// (To, From, Status), as the sink applies them: each filter compiled once per request into a
// predicate over a record. Numbers compare in their canonical form, so `To=+1 (415) 555-0100`
// finds what was sent to +14155550100. Pure.

import { canonicalAddress } from '../../core/phone-number.js';
import type { CallResource, MessageResource } from '../twilio/resources.js';

export const MESSAGE_FILTERS = ['To', 'From', 'DateSent', 'DateSent<', 'DateSent>'] as const;
export const CALL_FILTERS = ['To', 'From', 'Status'] as const;

type Predicate<T> = (r: T) => boolean;
export type Compiled<T> = Predicate<T> | { error: string };

const DAY_MS = 86_400_000;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})$/;

/** A filter value as a time range [from, to) in ms: a GMT day (`2024-05-01`), or an instant. */
function timeRange(value: string): { from: number; to: number; day: boolean } | null {
  if (DATE.test(value)) {
    const from = Date.parse(`${value}T00:00:00Z`);
    return Number.isNaN(from) ? null : { from, to: from + DAY_MS, day: true };
  }
  if (DATE_TIME.test(value)) {
    const at = Date.parse(value);
    // An instant matches the second it names: RFC 2822 dates carry whole seconds.
    return Number.isNaN(at) ? null : { from: at, to: at + 1000, day: false };
  }
  return null;
}

/** The canonical form of an address to compare by (as written when it is no address). */
function addressKey(raw: string): string {
  return canonicalAddress(raw) ?? raw.trim();
}

function addressIs<T>(field: (r: T) => string | null, value: string): Predicate<T> {
  const want = addressKey(value);
  return (r) => {
    const v = field(r);
    return v !== null && (v === want || addressKey(v) === want);
  };
}

/**
 * DateSent (that day or instant), DateSent< (on or before) and DateSent> (on or after), against
 * `date_sent`: a message not sent yet has none and matches no date filter, as on Twilio.
 */
function sentDate(name: string, value: string): Compiled<MessageResource> {
  const range = timeRange(value);
  if (range === null) return { error: `${name} must be a date (YYYY-MM-DD) or an ISO 8601 date-time` };
  const test =
    name === 'DateSent'
      ? (t: number) => t >= range.from && t < range.to
      : name === 'DateSent<'
        ? (t: number) => (range.day ? t < range.to : t <= range.from)
        : (t: number) => t >= range.from;
  return (r) => r.date_sent !== null && test(Date.parse(r.date_sent));
}

function all<T>(predicates: Array<Compiled<T>>): Compiled<T> {
  const bad = predicates.find((p): p is { error: string } => typeof p !== 'function');
  if (bad !== undefined) return bad;
  const ps = predicates as Array<Predicate<T>>;
  return (r) => ps.every((p) => p(r));
}

export function messageFilter(filters: ReadonlyArray<[string, string]>): Compiled<MessageResource> {
  return all(
    filters.map(([name, value]): Compiled<MessageResource> => {
      if (name === 'To') return addressIs((r) => r.to, value);
      if (name === 'From') return addressIs((r) => r.from, value);
      return sentDate(name, value);
    }),
  );
}

export function callFilter(filters: ReadonlyArray<[string, string]>): Compiled<CallResource> {
  return all(
    filters.map(([name, value]): Compiled<CallResource> => {
      if (name === 'To') return addressIs((r) => r.to, value);
      if (name === 'From') return addressIs((r) => r.from, value);
      const status = value.toLowerCase();
      return (r) => r.status === status;
    }),
  );
}
