// screen() of this build against another build of the project, for changes of a few per cent.
// On a shared VM the same build's throughput moves by ±20% from one minute to the next, so one
// run of `npm run bench` per build cannot show a 5% change. This runs the two builds alternately,
// each in a fresh process (two builds in one process disturb each other's JIT and caches), over
// the same messages, and compares the medians over the rounds.
//
//   npm run bench:compare -- ../other-checkout/dist [--rounds 8 --messages 30000 --data ../shared/data]
//
// The other checkout needs its own build (npm run build) and its packs/ and models/ beside dist/.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { readLabelledCsv } from '../src/eval/labelled-csv.js';
import type { CompiledPolicy } from '../src/core/compiled-policy.js';
import type { Decision, Message } from '../src/core/types.js';
import { loadCorpusTexts, median, option } from './corpus.js';

const HERE = fileURLToPath(import.meta.url);
const THIS_DIST = resolve(dirname(HERE), '..');
const ROOT = resolve(THIS_DIST, '..');

interface Result {
  full: number;
  rules: number;
}

/** In a child: µs per message of screen() with the whole pack and with its rules only, for the build at `dist`. */
async function child(dist: string, file: string): Promise<void> {
  const load = (p: string) => import(pathToFileURL(join(dist, p)).href);
  const { screen } = (await load('src/core/screen.js')) as { screen: (m: Message, ctx: { policy: CompiledPolicy }) => Decision };
  const { loadPack } = (await load('src/policy/load-pack.js')) as {
    loadPack: (dir: string, o?: { loadModel?: boolean }) => { policy: CompiledPolicy };
  };
  const packDir = join(dist, '..', 'packs', 'default');
  const full = loadPack(packDir).policy;
  const rules = loadPack(packDir, { loadModel: false }).policy;
  const messages = JSON.parse(readFileSync(file, 'utf8')) as Message[];
  const time = (policy: CompiledPolicy): number => {
    for (let i = 0; i < Math.min(messages.length, 10_000); i++) screen(messages[i], { policy }); // warm-up
    const t0 = process.hrtime.bigint();
    for (const m of messages) screen(m, { policy });
    return Number(process.hrtime.bigint() - t0) / 1000 / messages.length;
  };
  const result: Result = { full: time(full), rules: time(rules) };
  process.stdout.write(JSON.stringify(result));
}

async function main(): Promise<void> {
  if (process.argv[2] === '--child') return child(process.argv[3], process.argv[4]);
  const other = process.argv[2] === undefined || process.argv[2].startsWith('--') ? null : resolve(process.argv[2]);
  if (other === null || !existsSync(join(other, 'src/core/screen.js'))) {
    console.error('usage: npm run bench:compare -- <other checkout>/dist [--rounds 8 --messages 30000 --data ../shared/data]');
    console.error(other === null ? 'no build given' : `${other} holds no build (src/core/screen.js): run npm run build there`);
    process.exit(2);
  }
  const rounds = Number(option('rounds', '8'));
  const n = Number(option('messages', '30000'));
  const { texts, origin } = loadCorpusTexts(resolve(option('data', join(ROOT, '../shared/data'))), readLabelledCsv);
  const messages: Message[] = Array.from({ length: n }, (_, i) => ({
    id: `m${i}`,
    customer: `c${i % 20}`,
    channel: 'sms',
    from: '+15005550006',
    to: `+1415555${String(i % 10000).padStart(4, '0')}`,
    body: texts[i % texts.length],
  }));
  const file = join(mkdtempSync(join(tmpdir(), 'warden-compare-')), 'messages.json');
  writeFileSync(file, JSON.stringify(messages));
  const builds = [
    { name: 'this build', dist: THIS_DIST },
    { name: other, dist: other },
  ];
  const runs = builds.map(() => [] as Result[]);
  console.log(
    `screen() per message, ${rounds} rounds, builds alternating, a fresh process per run; ${n.toLocaleString('en-US')} messages from ${origin}`,
  );
  for (let r = 0; r < rounds; r++) {
    // Alternate which build goes first, so a drift within a round does not favour one.
    const order = r % 2 === 0 ? [0, 1] : [1, 0];
    for (const b of order) {
      const res = spawnSync(process.execPath, [HERE, '--child', builds[b].dist, file], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'inherit'],
        maxBuffer: 1 << 20,
      });
      if (res.status !== 0) throw new Error(`${builds[b].name}: child exited ${res.status}`);
      runs[b].push(JSON.parse(res.stdout) as Result);
    }
  }
  const row = (label: string, key: keyof Result) => {
    const a = runs[0].map((x) => x[key]),
      b = runs[1].map((x) => x[key]);
    const ratios = a.map((x, i) => b[i] / x);
    console.log(
      `${label.padEnd(20)} this build ${median(a).toFixed(2).padStart(6)} µs (min ${Math.min(...a).toFixed(2)})   other ${median(b).toFixed(2).padStart(6)} µs (min ${Math.min(...b).toFixed(2)})   other/this per round: median ${median(ratios).toFixed(3)} (${ratios.map((x) => x.toFixed(2)).join(', ')})`,
    );
  };
  row('rules + classifier', 'full');
  row('rules only', 'rules');
  console.log(
    'A ratio above 1 means this build is faster. Two identical builds differ by a few per cent here; read the per-round ratios, not one figure.',
  );
}

await main();
