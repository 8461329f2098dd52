// `npm run quality-gate`: evaluates the committed model (alone, and the default pack's rules plus
// the model) on our validation split of ../shared/data (or --data DIR) and fails when a figure
// is more than one point worse than the README's `## Classifier` table states: 1 percentage point
// for recall and accuracy, 0.1 percentage point for false-positive rates.

import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { validationRows } from '../src/classifier/data.js';
import { computeFigures, lowerIsBetter, type ScoredRow } from '../src/classifier/evaluate.js';
import { loadContentModel } from '../src/classifier/model.js';
import { loadPack } from '../src/policy/load-pack.js';
import { screen } from '../src/core/screen.js';
import { normalise } from '../src/core/normalise.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const { values: args } = parseArgs({
  options: {
    data: { type: 'string', default: resolve(ROOT, '../shared/data') },
    model: { type: 'string', default: resolve(ROOT, 'models/content-v1.json') },
    readme: { type: 'string', default: resolve(ROOT, 'README.md') },
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

const probs = new Float64Array(model.heads.length);
const scoredModel: ScoredRow[] = [];
const scoredPipeline: ScoredRow[] = [];
for (const r of rows) {
  model.probabilities(normalise(r.text), probs);
  const labels = model.heads.filter((h, i) => probs[i] >= h.threshold).map((h) => h.label);
  scoredModel.push({ dataset: r.dataset, label: r.label, functionality: r.functionality, flagged: labels.length > 0, labels });
  const d = screen({ id: 'gate', customer: 'gate', channel: 'sms', from: '', to: '', body: r.text }, { policy: pack.policy, newId: () => 'gate' });
  scoredPipeline.push({ dataset: r.dataset, label: r.label, functionality: r.functionality, flagged: d.action === 'review' || d.action === 'block' });
}
const measured: Record<string, number> = {};
for (const [k, v] of Object.entries(computeFigures(scoredModel))) measured[`model.${k}`] = v;
for (const [k, v] of Object.entries(computeFigures(scoredPipeline))) measured[`pipeline.${k}`] = v;

if (args.print) {
  for (const [k, v] of Object.entries(measured)) process.stdout.write(`${k} ${v.toFixed(4)}\n`);
  process.exit(0);
}

// The README's table rows look like: | `model.sms_spam.spam_recall` | 0.8613 | ... |
const readme = readFileSync(args.readme, 'utf8');
const section = readme.slice(readme.indexOf('## Classifier'));
const stated = new Map<string, number>();
for (const m of section.matchAll(/^\|\s*`([a-z0-9_.]+)`\s*\|\s*([0-9.]+)\s*\|/gm)) stated.set(m[1], Number(m[2]));
if (stated.size === 0) {
  process.stderr.write('quality-gate: no figures found in the README ## Classifier section\n');
  process.exit(1);
}

let failed = 0;
for (const [name, value] of stated) {
  const got = measured[name];
  if (got === undefined) { process.stdout.write(`MISSING ${name}\n`); failed++; continue; }
  const lower = lowerIsBetter(name);
  const tol = lower ? 0.001 : 0.01;
  const ok = lower ? got <= value + tol : got >= value - tol;
  if (!ok) failed++;
  process.stdout.write(`${ok ? 'ok  ' : 'FAIL'} ${name.padEnd(52)} README ${value.toFixed(4)}  measured ${got.toFixed(4)}\n`);
}
if (stored !== undefined) {
  const now = (await import('../src/classifier/data.js')).loadData(args.data).sha256;
  for (const [d, sha] of Object.entries(stored)) {
    if (now[d] !== sha) process.stdout.write(`note: ${d} differs from the data the model was trained on (${sha.slice(0, 12)} vs ${String(now[d]).slice(0, 12)})\n`);
  }
}
process.stdout.write(`quality-gate: ${stated.size - failed}/${stated.size} figures hold on ${rows.length} validation rows\n`);
process.exit(failed === 0 ? 0 : 1);
