// `npm run quality-gate`: evaluates the committed model (alone, and the default pack's rules plus
// the model) on our validation split of ../shared/data (or --data DIR) and fails when a figure
// is more than one point worse than docs/classifier.md's `## Figures on our validation split`
// table states: 1 percentage point for recall and accuracy, 0.1 percentage point for
// false-positive rates.

import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { validationRows, type DatasetId } from '../src/classifier/data.js';
import { computeFigures, lowerIsBetter, type ScoredRow } from '../src/classifier/evaluate.js';
import { loadContentModel } from '../src/classifier/model.js';
import { loadPack } from '../src/policy/load-pack.js';
import { screen } from '../src/core/screen.js';
import { normalise } from '../src/core/normalise.js';
import type { Decision } from '../src/core/types.js';

/** Clauses that make a flag on the hate datasets a hate or violence flag. */
const HATE_CLAUSE = /^content\.(?:hate|violence)(?:\.|$)/;

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const { values: args } = parseArgs({
  options: {
    data: { type: 'string', default: resolve(ROOT, '../shared/data') },
    model: { type: 'string', default: resolve(ROOT, 'models/content-v1.json') },
    doc: { type: 'string', default: resolve(ROOT, 'docs/classifier.md') },
    print: { type: 'boolean', default: false },
  },
});

if (!existsSync(args.data)) {
  process.stdout.write(`quality-gate: ${args.data} not found, skipped\n`);
  process.exit(0);
}

const model = loadContentModel(args.model);
const stored = model.file.training?.dataSha256 as Record<string, string> | undefined;
const rows = validationRows(args.data);
const pack = loadPack(undefined, { loadModel: loadContentModel });

/**
 * Whether the pipeline flags a row: action >= review; for the hate datasets also at least one
 * non-shadow reason under content.hate or content.violence (a tweet held because it carries a
 * t.co shortener link is an SMS-policy decision, not a hate flag).
 */
function pipelineFlagged(dataset: DatasetId, d: Decision): boolean {
  if (d.action !== 'review' && d.action !== 'block') return false;
  if (dataset.startsWith('sms-')) return true;
  return d.reasons.some((x) => !x.shadow && (x.weight > 0 || x.action !== undefined) && HATE_CLAUSE.test(x.clause));
}

const probs = new Float64Array(model.heads.length);
const scoredModel: ScoredRow[] = [];
const scoredPipeline: ScoredRow[] = [];
for (const r of rows) {
  model.probabilities(normalise(r.text), probs);
  const labels = model.heads.filter((h, i) => probs[i] >= h.threshold).map((h) => h.label);
  scoredModel.push({ dataset: r.dataset, label: r.label, functionality: r.functionality, flagged: labels.length > 0, labels });
  const d = screen(
    { id: 'gate', customer: 'gate', channel: 'sms', from: '', to: '', body: r.text },
    { policy: pack.policy, newId: () => 'gate' },
  );
  scoredPipeline.push({ dataset: r.dataset, label: r.label, functionality: r.functionality, flagged: pipelineFlagged(r.dataset, d) });
}
const measured: Record<string, number> = {};
for (const [k, v] of Object.entries(computeFigures(scoredModel))) measured[`model.${k}`] = v;
for (const [k, v] of Object.entries(computeFigures(scoredPipeline))) measured[`pipeline.${k}`] = v;

if (args.print) {
  for (const [k, v] of Object.entries(measured)) process.stdout.write(`${k} ${v.toFixed(4)}\n`);
  process.exit(0);
}

// The table's rows look like: | `model.sms_spam.spam_recall` | 0.8613 | ... |
const SECTION = '## Figures on our validation split';
const doc = readFileSync(args.doc, 'utf8');
const from = doc.indexOf(SECTION);
const next = from < 0 ? -1 : doc.indexOf('\n## ', from + SECTION.length);
const section = from < 0 ? '' : doc.slice(from, next < 0 ? undefined : next);
const stated = new Map<string, number>();
for (const m of section.matchAll(/^\|\s*`([a-z0-9_.]+)`\s*\|\s*([0-9.]+)\s*\|/gm)) stated.set(m[1], Number(m[2]));
if (stated.size === 0) {
  process.stderr.write(`quality-gate: no figures found in the ${SECTION} section of ${args.doc}\n`);
  process.exit(1);
}

let failed = 0;
for (const [name, value] of stated) {
  const got = measured[name];
  if (got === undefined) {
    process.stdout.write(`MISSING ${name}\n`);
    failed++;
    continue;
  }
  const lower = lowerIsBetter(name);
  const tol = lower ? 0.001 : 0.01;
  const ok = lower ? got <= value + tol : got >= value - tol;
  if (!ok) failed++;
  process.stdout.write(`${ok ? 'ok  ' : 'FAIL'} ${name.padEnd(52)} stated ${value.toFixed(4)}  measured ${got.toFixed(4)}\n`);
}
if (stored !== undefined) {
  const now = (await import('../src/classifier/data.js')).loadData(args.data).sha256;
  for (const [d, sha] of Object.entries(stored)) {
    if (now[d] !== sha)
      process.stdout.write(
        `note: ${d} differs from the data the model was trained on (${sha.slice(0, 12)} vs ${String(now[d]).slice(0, 12)})\n`,
      );
  }
}
process.stdout.write(`quality-gate: ${stated.size - failed}/${stated.size} figures hold on ${rows.length} validation rows\n`);
process.exit(failed === 0 ? 0 : 1);
