// How request bodies are read: forms keep their raw text (forwarded unchanged upstream) beside
// the parsed fields, and any other body (passthrough of arbitrary Twilio API calls) arrives as a
// Buffer. JSON keeps Fastify's own parser.

import fp from 'fastify-plugin';
import formbody from '@fastify/formbody';
import { parse as parseQuery } from 'node:querystring';
import { RAW_BODY, type FormFields } from '../twilio/form.js';

export default fp(
  async (app) => {
    // Repeated names (MediaUrl) become arrays.
    await app.register(formbody, {
      bodyLimit: 64 * 1024,
      parser: (text: string) => {
        const fields = parseQuery(text) as FormFields;
        const out: FormFields = Object.create(null);
        for (const [k, v] of Object.entries(fields)) out[k] = v;
        Object.defineProperty(out, RAW_BODY, { value: text, enumerable: false });
        return out;
      },
    });
    app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: 1024 * 1024 }, (_req, body, done) => done(null, body));
  },
  { name: 'warden-body-parsers' },
);
