// The parameters of a Twilio-compatible write, checked against the operation's own list before
// anything is screened. What is forwarded is re-encoded from exactly the values that were
// screened: an unknown name (a case variant such as "body" beside "Body" among them) or a second
// value for a single-valued parameter is refused, never passed along for the upstream to read
// in its own way.

import { formFields, isForm } from './form.js';
import { TwilioRefusal } from './refusal.js';
import type { FormFields } from './resources.js';
import { encodeForm } from './upstream.js';

export interface ParamSpec {
  /** Every parameter the operation takes. */
  allowed: ReadonlySet<string>;
  /** Those that may be given more than once (MediaUrl, StatusCallbackEvent). */
  repeated: ReadonlySet<string>;
}

export function paramSpec(allowed: Iterable<string>, repeated: Iterable<string> = []): ParamSpec {
  return { allowed: new Set(allowed), repeated: new Set(repeated) };
}

/** Throws the refusal for the first parameter the operation does not take as given. */
export function checkParams(fields: FormFields, spec: ParamSpec): void {
  for (const [name, value] of Object.entries(fields)) {
    if (!spec.allowed.has(name)) throw new TwilioRefusal('unknownParameter', `'${name.slice(0, 60)}'`);
    if (Array.isArray(value) && !spec.repeated.has(name))
      throw new TwilioRefusal('repeatedParameter', `'${name}' is given ${value.length} times`);
  }
}

/** The form forwarded upstream: the screened values, encoded once. */
export function forwardedForm(fields: FormFields): string {
  return encodeForm(fields);
}

/** A form body's fields, checked against the operation's parameters; refused when the body is no form. */
export function checkedForm(body: unknown, spec: ParamSpec): FormFields {
  if (!isForm(body)) throw new TwilioRefusal('notForm');
  const fields = formFields(body);
  checkParams(fields, spec);
  return fields;
}
