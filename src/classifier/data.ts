// The labelled development data in ../shared/data as training rows: which label each head sees,
// and a deterministic train/validation split of our own inside the development part.
//
// Split: key = the text's canonical token forms (normalise(), so case, accents, look-alikes,
// leetspeak and punctuation do not matter), or the template id for HateCheck; bucket =
// SHA-256("warden-validation-v1:" + key) mod 100; bucket < 30 is validation. Identical texts get the
// same key in every dataset, so a text shared by UCI and Mendeley lands on one side in both; any
// training row whose text also occurs in the validation part (for HateCheck: from another
// template) is dropped from training, and repeats of a text inside one dataset count once.

import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { normalise } from '../core/normalise.js';

export const HEADS = [
  { label: 'spam', clause: 'content.unwanted.spam' },
  { label: 'phishing', clause: 'content.false.phishing' },
  { label: 'hate', clause: 'content.hate' },
  { label: 'violence', clause: 'content.violence' },
] as const;
export const SPAM = 0,
  PHISHING = 1,
  HATE = 2,
  VIOLENCE = 3;

export type DatasetId = 'sms-spam-collection' | 'sms-phishing-mendeley' | 'hatecheck' | 'davidson-hate-offensive' | 'ethos-hate-speech';
export const DATASETS: readonly DatasetId[] = [
  'sms-spam-collection',
  'sms-phishing-mendeley',
  'hatecheck',
  'davidson-hate-offensive',
  'ethos-hate-speech',
];

export const VALIDATION_SALT = 'warden-validation-v1:';
export const VALIDATION_PERCENT = 30;

export interface Row {
  dataset: DatasetId;
  text: string;
  label: string;
  /** HateCheck functionality, for per-functionality figures. */
  functionality?: string;
  /** Per head: 1 positive, 0 negative, -1 unknown. */
  y: number[];
  /** Canonical text key (dedup) and split key. */
  textKey: string;
  splitKey: string;
  split: 'train' | 'validation' | 'dropped';
}

/** Canonical key of a text: its normalised word forms joined by single spaces. */
export function textKey(text: string): string {
  const n = normalise(text);
  const forms = n.joined.map((t) => t.form).join(' ');
  return forms.length > 0 ? forms : n.folded.replace(/\s+/g, ' ').trim();
}

export function splitBucket(key: string): number {
  return (
    parseInt(
      createHash('sha256')
        .update(VALIDATION_SALT + key)
        .digest('hex')
        .slice(0, 8),
      16,
    ) % 100
  );
}

/** The labels each head learns from a row of a dataset. */
export function headLabels(dataset: DatasetId, r: Record<string, string>): number[] {
  const y = [0, 0, 0, 0];
  switch (dataset) {
    case 'sms-spam-collection':
      // UCI spam mixes marketing with what Mendeley calls smishing: unknown for the phishing head.
      if (r.label === 'spam') {
        y[SPAM] = 1;
        y[PHISHING] = -1;
      }
      break;
    case 'sms-phishing-mendeley':
      if (r.label === 'spam') y[SPAM] = 1;
      if (r.label === 'smishing') {
        y[SPAM] = 1;
        y[PHISHING] = 1;
      }
      break;
    case 'hatecheck':
      if (r.label === 'hateful') y[HATE] = 1;
      if (r.functionality === 'threat_dir_h' || r.functionality === 'threat_norm_h') y[VIOLENCE] = 1;
      break;
    case 'davidson-hate-offensive':
      // offensive_language is profanity and insult, not hate; whether a tweet threatens is not coded.
      if (r.label === 'hate_speech') y[HATE] = 1;
      if (r.label !== 'neither') y[VIOLENCE] = -1;
      break;
    case 'ethos-hate-speech':
      if (r.label === 'hate') y[HATE] = 1;
      if (r.violence !== undefined && r.violence !== '' && Number(r.violence) >= 0.5) y[VIOLENCE] = 1;
      break;
  }
  return y;
}

export interface LoadedData {
  rows: Row[];
  /** SHA-256 of every file read, by dataset. */
  sha256: Record<string, string>;
}

export function datasetFile(dataDir: string, d: DatasetId): string {
  return join(dataDir, d, 'dev.csv');
}

/** Reads the datasets present under `dataDir` and assigns every row to train, validation or dropped. */
export function loadData(dataDir: string, only: readonly DatasetId[] = DATASETS): LoadedData {
  const rows: Row[] = [];
  const sha256: Record<string, string> = {};
  for (const d of only) {
    const file = datasetFile(dataDir, d);
    if (!existsSync(file)) throw new Error(`missing ${file}`);
    const bytes = readFileSync(file);
    sha256[d] = createHash('sha256').update(bytes).digest('hex');
    const records = parse(bytes.toString('utf8'), { columns: true, skip_empty_lines: true }) as Array<Record<string, string>>;
    for (const r of records) {
      const text = r.text ?? '';
      const key = textKey(text);
      const splitKey = d === 'hatecheck' ? `hatecheck-template:${r.templ_id}` : key;
      const row: Row = {
        dataset: d,
        text,
        label: r.label,
        y: headLabels(d, r),
        textKey: key,
        splitKey,
        split: splitBucket(splitKey) < VALIDATION_PERCENT ? 'validation' : 'train',
      };
      if (d === 'hatecheck') row.functionality = r.functionality;
      rows.push(row);
    }
  }
  // Exact repeats inside one dataset (after normalisation) count once.
  const seen = new Set<string>();
  for (const r of rows) {
    const k = `${r.dataset}\u0000${r.textKey}`;
    if (seen.has(k)) r.split = 'dropped';
    else seen.add(k);
  }
  const validationTexts = new Set(rows.filter((r) => r.split === 'validation').map((r) => r.textKey));
  for (const r of rows) if (r.split === 'train' && validationTexts.has(r.textKey)) r.split = 'dropped';
  return { rows, sha256 };
}

/** Rows of the validation part, as the quality gate re-reads them. */
export function validationRows(dataDir: string, only: readonly DatasetId[] = DATASETS): Row[] {
  return loadData(dataDir, only).rows.filter((r) => r.split === 'validation');
}
