// The admin API's bearer token: the configured one (WARDEN_ADMIN_TOKEN), else one generated once
// and kept in dataDir/admin-token (mode 0600), so every process of an installation agrees on it.
// Its own module because both a single gateway (src/serve.ts) and the cluster primary
// (src/cluster/primary.ts, which creates the file before forking) need it.

import { chmodSync, existsSync, linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { WardenConfig } from './config.js';

/** The admin token: config.adminToken, else one generated once and kept in dataDir/admin-token. */
export function adminToken(config: Pick<WardenConfig, 'adminToken' | 'dataDir'>): string {
  if (config.adminToken) return config.adminToken;
  const file = join(config.dataDir, 'admin-token');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(config.dataDir, { recursive: true });
  const token = randomBytes(24).toString('base64url');
  // Written whole under a temporary name, then linked into place: link() fails when the file
  // exists, so with several processes starting at once one token wins and every process reads it.
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
  writeFileSync(tmp, token + '\n', { mode: 0o600 });
  chmodSync(tmp, 0o600);
  try {
    linkSync(tmp, file);
    return token;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    return readFileSync(file, 'utf8').trim();
  } finally {
    unlinkSync(tmp);
  }
}
