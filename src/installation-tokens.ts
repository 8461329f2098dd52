// Tokens an installation keeps in its data directory when none is configured: the admin API's
// bearer token (WARDEN_ADMIN_TOKEN) and the built-in sink's password (WARDEN_SINK_TOKEN). Each is
// generated once (mode 0600), so every process of an installation agrees on it, and the demo
// customer seeded with the sink's token keeps reaching the sink after a restart. Its own module
// because both a single gateway (src/serve.ts) and the cluster primary (src/cluster/primary.ts,
// which creates the files before forking) need them.

import { chmodSync, existsSync, linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { WardenConfig } from './config.js';

/** The admin token: config.adminToken, else one generated once and kept in dataDir/admin-token. */
export function adminToken(config: Pick<WardenConfig, 'adminToken' | 'dataDir'>): string {
  return config.adminToken || keptToken(config.dataDir, 'admin-token');
}

/** The built-in sink's token: config.sinkToken, else one generated once and kept in dataDir/sink-token. */
export function sinkToken(config: Pick<WardenConfig, 'sinkToken' | 'dataDir'>): string {
  return config.sinkToken || keptToken(config.dataDir, 'sink-token');
}

/** A random token kept in dataDir/`name`, created by the first process that needs it. */
function keptToken(dataDir: string, name: string): string {
  const file = join(dataDir, name);
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(dataDir, { recursive: true });
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
