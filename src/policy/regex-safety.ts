// Refuses regular expressions that can backtrack catastrophically, using the recheck ReDoS
// checker (automaton and fuzz analysis). Verdicts are cached on disk by pattern hash: the checker
// takes tens of milliseconds per pattern, which would otherwise dominate CLI start-up.

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import type { RegexSafetyCheck } from './compile.js';
import { regexCacheDir } from '../config.js';

const CACHE_VERSION = 'recheck-4.5:u:v1';

function cacheFile(): string {
  return join(regexCacheDir(), 'regex-safety.json');
}

let memory: Map<string, string | null> | null = null;

function load(): Map<string, string | null> {
  if (memory !== null) return memory;
  memory = new Map();
  try {
    const data = JSON.parse(readFileSync(cacheFile(), 'utf8')) as Record<string, string | null>;
    for (const [k, v] of Object.entries(data)) memory.set(k, v);
  } catch {
    // No cache yet, or unreadable: start empty.
  }
  return memory;
}

function persist(cache: Map<string, string | null>): void {
  const file = cacheFile();
  try {
    const dir = join(file, '..');
    if (!existsSync(dir)) mkdirSync(dir, { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(Object.fromEntries(cache)));
    renameSync(tmp, file);
  } catch {
    // A read-only home is fine: the check just runs again next start.
  }
}

// recheck is a large bundle; load it only when a verdict is not cached yet.
let checkSync: typeof import('recheck').checkSync | null = null;

/** Checks one pattern with recheck, uncached. Returns the problem or null when safe. */
export function checkRegexSafety(pattern: string): string | null {
  checkSync ??= (createRequire(import.meta.url)('recheck') as typeof import('recheck')).checkSync;
  const result = checkSync(pattern, 'u', { timeout: 10_000 });
  if (result.status === 'safe') return null;
  if (result.status === 'vulnerable') {
    const attack = result.attack ? `; attack string ${JSON.stringify(result.attack.pattern).slice(0, 80)}` : '';
    return `can backtrack catastrophically (${result.complexity.type} time${attack})`;
  }
  return `could not be proven safe from catastrophic backtracking (${result.error.kind})`;
}

/** The cached check used when loading packs. */
export const cachedRegexSafety: RegexSafetyCheck = (pattern) => {
  const cache = load();
  const key = createHash('sha256').update(`${CACHE_VERSION}\0${pattern}`).digest('hex').slice(0, 32);
  if (cache.has(key)) return cache.get(key)!;
  const verdict = checkRegexSafety(pattern);
  cache.set(key, verdict);
  persist(cache);
  return verdict;
};
