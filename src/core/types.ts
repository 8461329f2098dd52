// The shapes the screening core reads and returns. Everything here is plain data so that
// adapters (CLI, HTTP, stores) can serialise it without knowing the core's internals.

export type Channel = 'sms' | 'mms' | 'voice' | 'chat';

/** One outbound communication, as an adapter hands it to the core. */
export interface Message {
  id: string;
  customer: string;
  endUser?: string;
  channel: Channel;
  from: string;
  to: string;
  body: string;
  mediaUrls?: string[];
  /** ISO-8601 instant; the core uses it for time-based checks. */
  timestamp?: string;
}

/** What the gateway does with the message. Ordered from least to most severe. */
export type Action = 'allow' | 'throttle' | 'review' | 'block';

export const ACTION_SEVERITY: Readonly<Record<Action, number>> = {
  allow: 0,
  throttle: 1,
  review: 2,
  block: 3,
};

/** A span of the original message body (UTF-16 offsets, end exclusive) and its text. */
export interface Evidence {
  start: number;
  end: number;
  text: string;
  /** Which field the span is in, when not the body (for example `from` or `mediaUrls[0]`). */
  field?: string;
}

export interface Reason {
  /** AUP clause ID from the catalogue, e.g. `content.false.phishing`. */
  clause: string;
  /** Rule ID inside the pack, or a built-in check ID such as `state.opt-out`. */
  rule: string;
  weight: number;
  detail: string;
  evidence?: Evidence;
  /** Shadow rules are reported but never change the action or score. */
  shadow?: boolean;
  /** A direct action the rule asked for, if any. */
  action?: Action;
}

export interface Decision {
  id: string;
  messageId: string;
  action: Action;
  score: number;
  reasons: Reason[];
  policyVersion: string;
  /** Seconds after which a throttled message may be retried. */
  retryAfter?: number;
}
