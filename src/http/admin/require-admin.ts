// The admin bearer token check, an onRequest hook over every admin route. The token is compared
// as a SHA-256 digest in constant time; without a configured token every admin request is refused.

import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { httpError } from './http-errors.js';

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

export function requireAdmin(token: string | undefined): (req: FastifyRequest) => Promise<void> {
  const expected = token ? digest(token) : null;
  return async (req) => {
    const h = req.headers.authorization;
    const m = typeof h === 'string' ? /^Bearer\s+(\S{1,512})\s*$/i.exec(h) : null;
    if (expected === null || m === null || !timingSafeEqual(digest(m[1]), expected)) {
      throw httpError(401, expected === null ? 'admin API disabled: set WARDEN_ADMIN_TOKEN' : 'admin token required');
    }
  };
}
