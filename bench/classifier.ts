// Classifier speed: per-message latency (p50/p99) and throughput of normalise() alone (the
// baseline) and of normalise() + the classifier, on one core, plus model loading time.
// Uses ../shared/data SMS texts when present, else a built-in synthetic mix.

import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';
import { normalise } from '../src/core/normalise.js';
import { loadContentModel } from '../src/classifier/model.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const MODEL = resolve(ROOT, 'models/content-v1.json');
const DATA = resolve(ROOT, '../shared/data/sms-phishing-mendeley/dev.csv');

const t = process.hrtime.bigint();
const model = loadContentModel(MODEL);
const loadMs = Number(process.hrtime.bigint() - t) / 1e6;

let texts: string[];
if (existsSync(DATA)) {
  texts = (parse(readFileSync(DATA, 'utf8'), { columns: true }) as Array<{ text: string }>).map((r) => r.text);
} else {
  const base = [
    'Ok lar... Joking wif u oni...',
    'URGENT! You have won a £1000 prize. Call 09061701461 to claim',
    'Your parcel is held, pay the fee at http://bit.ly/x1',
    'Are we still on for lunch tomorrow at 1?',
  ];
  texts = Array.from({ length: 4000 }, (_, i) => `${base[i % base.length]} ${i}`);
}

function run(label: string, fn: (s: string) => unknown): void {
  for (let i = 0; i < 3; i++) for (const s of texts) fn(s); // warm up
  const lat = new Float64Array(texts.length * 5);
  let k = 0;
  const start = process.hrtime.bigint();
  for (let rep = 0; rep < 5; rep++) {
    for (const s of texts) {
      const a = process.hrtime.bigint();
      fn(s);
      lat[k++] = Number(process.hrtime.bigint() - a) / 1000;
    }
  }
  const totalS = Number(process.hrtime.bigint() - start) / 1e9;
  lat.sort();
  const q = (p: number) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))].toFixed(2);
  process.stdout.write(
    `${label.padEnd(30)} p50 ${q(0.5)} µs  p99 ${q(0.99)} µs  throughput ${Math.round(lat.length / totalS).toLocaleString('en')} msg/s\n`,
  );
}

process.stdout.write(`model load ${loadMs.toFixed(0)} ms; ${texts.length} texts x 5 runs, one core\n`);
run('normalise() alone', (s) => normalise(s));
const probs = new Float64Array(model.heads.length);
run('normalise() + probabilities', (s) => model.probabilities(normalise(s), probs));
run('normalise() + predict()', (s) => model.predict(normalise(s)));
const pre = texts.map((s) => normalise(s));
let i = 0;
run('probabilities (pre-normalised)', () => model.probabilities(pre[i++ % pre.length], probs));
