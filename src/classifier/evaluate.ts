// The classifier's quality figures on labelled rows, from a per-row "flagged" decision (any
// label at or above its operating point for the model alone; action >= review for a pipeline).
// The same function produces the figures stored in the model file, stated in docs/classifier.md and
// checked by the quality gate.

import type { DatasetId } from './data.js';

export interface ScoredRow {
  dataset: DatasetId;
  label: string;
  functionality?: string;
  /** Flagged by anything (the decision that counts for the figures). */
  flagged: boolean;
  /** Labels the model flagged (for per-label figures); empty for the rules alone. */
  labels?: readonly string[];
}

export interface Figures {
  [name: string]: number;
}

/** Figures where a lower value is better (rates of false flags). */
export function lowerIsBetter(name: string): boolean {
  return /(fpr|flag_rate)$/.test(name);
}

function rate(rows: readonly ScoredRow[], pred: (r: ScoredRow) => boolean): number {
  if (rows.length === 0) return NaN;
  let k = 0;
  for (const r of rows) if (pred(r)) k++;
  return k / rows.length;
}

const r4 = (x: number) => Math.round(x * 10000) / 10000;

/** Headline figures by dataset. Keys are stable: docs/classifier.md and the quality gate name them. */
export function computeFigures(rows: readonly ScoredRow[]): Figures {
  const f: Figures = {};
  const of = (d: DatasetId, label?: string) => rows.filter((r) => r.dataset === d && (label === undefined || r.label === label));
  const flagged = (r: ScoredRow) => r.flagged;
  const has = (l: string) => (r: ScoredRow) => r.labels?.includes(l) ?? false;

  if (of('sms-spam-collection').length > 0) {
    f['sms_spam.spam_recall'] = rate(of('sms-spam-collection', 'spam'), flagged);
    f['sms_spam.ham_fpr'] = rate(of('sms-spam-collection', 'ham'), flagged);
  }
  if (of('sms-phishing-mendeley').length > 0) {
    f['sms_phishing.smishing_recall'] = rate(of('sms-phishing-mendeley', 'smishing'), flagged);
    f['sms_phishing.spam_recall'] = rate(of('sms-phishing-mendeley', 'spam'), flagged);
    f['sms_phishing.ham_fpr'] = rate(of('sms-phishing-mendeley', 'ham'), flagged);
    if (rows.some((r) => r.labels !== undefined)) {
      f['sms_phishing.smishing_as_phishing_recall'] = rate(of('sms-phishing-mendeley', 'smishing'), has('phishing'));
      f['sms_phishing.spam_as_phishing_flag_rate'] = rate(of('sms-phishing-mendeley', 'spam'), has('phishing'));
    }
  }
  const hc = of('hatecheck');
  if (hc.length > 0) {
    const correct = (r: ScoredRow) => r.flagged === (r.label === 'hateful');
    f['hatecheck.accuracy'] = rate(hc, correct);
    f['hatecheck.hateful_recall'] = rate(of('hatecheck', 'hateful'), flagged);
    f['hatecheck.non_hateful_flag_rate'] = rate(of('hatecheck', 'non-hateful'), flagged);
    const groups = [...new Set(hc.map((r) => r.functionality ?? ''))].sort();
    let min = 1;
    for (const g of groups) {
      const acc = rate(
        hc.filter((r) => r.functionality === g),
        correct,
      );
      f[`hatecheck.func.${g}`] = r4(acc);
      min = Math.min(min, acc);
    }
    f['hatecheck.min_functionality_accuracy'] = min;
  }
  if (of('davidson-hate-offensive').length > 0) {
    f['davidson.hate_recall'] = rate(of('davidson-hate-offensive', 'hate_speech'), flagged);
    f['davidson.neither_flag_rate'] = rate(of('davidson-hate-offensive', 'neither'), flagged);
    f['davidson.offensive_flag_rate'] = rate(of('davidson-hate-offensive', 'offensive_language'), flagged);
  }
  if (of('ethos-hate-speech').length > 0) {
    f['ethos.hate_recall'] = rate(of('ethos-hate-speech', 'hate'), flagged);
    f['ethos.not_hate_flag_rate'] = rate(of('ethos-hate-speech', 'not_hate'), flagged);
  }
  for (const k of Object.keys(f)) f[k] = r4(f[k]);
  return f;
}

/** The figures the quality bar of issue 5 sets, as `name: [bound, 'min' | 'max']`. */
export const TARGETS: Record<string, [number, 'min' | 'max']> = {
  'sms_spam.spam_recall': [0.95, 'min'],
  'sms_spam.ham_fpr': [0.002, 'max'],
  'sms_phishing.smishing_recall': [0.92, 'min'],
  'sms_phishing.ham_fpr': [0.005, 'max'],
  'hatecheck.accuracy': [0.85, 'min'],
  'hatecheck.min_functionality_accuracy': [0.6, 'min'],
};
