// `npm run config-doc`: rewrites the settings table of docs/configuration.md from the
// declarations in src/config.ts (SETTINGS), between its settings:begin and settings:end markers.
// test/cli/config-doc.test.ts fails when the committed table differs, so the doc cannot drift.

import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { settingsTable } from '../src/config.js';

export const CONFIG_DOC = resolve(dirname(fileURLToPath(import.meta.url)), '../../docs/configuration.md');
const BEGIN = '<!-- settings:begin';
const END = '<!-- settings:end -->';

/** The table as committed in the doc (between the markers), or null when the markers are missing. */
export function documentedTable(doc: string): string | null {
  const b = doc.indexOf(BEGIN);
  const e = doc.indexOf(END);
  if (b < 0 || e < b) return null;
  return doc.slice(doc.indexOf('\n', b) + 1, e);
}

/** The doc with its table replaced by the one rendered from SETTINGS. */
export function withRenderedTable(doc: string): string {
  const b = doc.indexOf(BEGIN);
  const e = doc.indexOf(END);
  if (b < 0 || e < b) throw new Error(`${CONFIG_DOC}: no ${BEGIN} … ${END} markers`);
  return doc.slice(0, doc.indexOf('\n', b) + 1) + settingsTable() + doc.slice(e);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(CONFIG_DOC, withRenderedTable(readFileSync(CONFIG_DOC, 'utf8')));
  process.stdout.write(`config-doc: wrote the settings table of ${CONFIG_DOC}\n`);
}
