// Shared test helpers: temporary pack directories and compiled policies from inline YAML.
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadPack } from '../src/policy/load-pack.js';
import type { Message } from '../src/core/types.js';

export function tempPack(packYaml: string, rules: Record<string, string> = {}, lists: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'warden-pack-'));
  writeFileSync(join(dir, 'pack.yaml'), packYaml);
  if (Object.keys(rules).length > 0) mkdirSync(join(dir, 'rules'));
  for (const [name, text] of Object.entries(rules)) writeFileSync(join(dir, 'rules', name), text);
  for (const [name, text] of Object.entries(lists)) writeFileSync(join(dir, name), text);
  return dir;
}

export const PACK_HEADER = 'pack: test\nversion: "1"\nthresholds: { review: 5, block: 10 }\n';

export function policyFrom(rulesYaml: string, extraHeader = '', lists: Record<string, string> = {}) {
  return loadPack(tempPack(PACK_HEADER + extraHeader, { 'r.yaml': rulesYaml }, lists)).policy;
}

export function msg(body: string, extra: Partial<Message> = {}): Message {
  return { id: 'm1', customer: 'c1', channel: 'sms', from: '+15005550006', to: '+15005550001', body, ...extra };
}
