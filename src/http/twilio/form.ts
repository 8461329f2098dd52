// Form bodies keep their raw text beside the parsed fields, so Warden can forward exactly what the
// app sent and verify signatures over exactly what the provider sent.

import type { FormFields } from './resources.js';

export type { FormFields } from './resources.js';

export const RAW_BODY = Symbol('warden.rawBody');

/** Parsed fields of a form body, or an empty set when the body was not a form. */
export function formFields(body: unknown): FormFields {
  if (body === null || typeof body !== 'object' || Buffer.isBuffer(body) || Array.isArray(body)) return Object.create(null) as FormFields;
  return body as FormFields;
}

/** The raw text of a form body, or '' when the body was not a form. */
export function rawForm(body: unknown): string {
  if (body === null || typeof body !== 'object') return '';
  const raw = (body as { [RAW_BODY]?: string })[RAW_BODY];
  return typeof raw === 'string' ? raw : '';
}

export function isForm(body: unknown): boolean {
  return body !== null && typeof body === 'object' && typeof (body as { [RAW_BODY]?: string })[RAW_BODY] === 'string';
}
