// What the benchmarks share: realistic SMS texts (the labelled SMS sets in ../shared/data when
// present, ham, spam and smishing in their natural mix; generated messages otherwise), the order
// statistics they print, and reading `--name value` options.

import { existsSync } from 'node:fs';
import { join } from 'node:path';

type CsvReader = (file: string, textColumn: string, labelColumn: string) => Array<{ text: string; label: string }>;

const HAM = [
  'Hi {name}, your appointment is confirmed for {day} at {time}. Reply STOP to opt out.',
  'Running {n} minutes late, sorry! Order me a coffee?',
  'Your code is {code}. It expires in 10 minutes.',
  'Can you pick up milk on the way home? Thanks x',
  'Reminder: your table for {n} at {time} tonight. Call us on 020 7946 0{code} to change.',
  'Happy birthday {name}!! Have an amazing day',
  'The meeting moved to {day} {time}, same room.',
];
const SPAM = [
  'URGENT! You have won a £{n}000 cash prize. To claim call 0906170{code} now! 150ppm',
  'Your account has been suspended. Verify your identity at secure-{name}.xyz/login',
  'FREE entry to win an iPhone! Txt WIN to 8{code} T&Cs apply 18+',
  'USPS: your parcel could not be delivered, pay the £1.99 fee at usps-{code}.top/p',
];
const NAMES = ['Sam', 'Alex', 'Priya', 'Jo', 'Chen', 'Maria'];
const DAYS = ['Monday', 'Tuesday', 'Friday'];

function generated(): string[] {
  const out: string[] = [];
  for (let i = 0; i < 2000; i++) {
    const pool = i % 5 === 0 ? SPAM : HAM;
    out.push(
      pool[i % pool.length]
        .replace('{name}', NAMES[i % NAMES.length])
        .replace('{day}', DAYS[i % DAYS.length])
        .replace('{time}', `${1 + (i % 11)}pm`)
        .replace('{n}', String(2 + (i % 7)))
        .replace('{code}', String(1000 + ((i * 7919) % 9000))),
    );
  }
  return out;
}

export function loadCorpusTexts(dataDir: string, readCsv: CsvReader): { texts: string[]; origin: string } {
  const files = ['sms-spam-collection/dev.csv', 'sms-phishing-mendeley/dev.csv'].map((f) => join(dataDir, f));
  if (files.every(existsSync)) {
    const texts = files.flatMap((f) => readCsv(f, 'text', 'label').map((r) => r.text));
    return { texts, origin: `${texts.length} SMS texts from ${dataDir} (sms-spam-collection, sms-phishing-mendeley)` };
  }
  return { texts: generated(), origin: 'generated SMS (no ../shared/data)' };
}

/** Percentile of an ascending-sorted array. */
export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** The value after `--name` on the command line, or `fallback`. */
export function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : fallback;
}
