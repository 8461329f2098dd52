// Precision, recall and confusion counts for screening a labelled data set. A message counts as
// flagged when its action is at or above the chosen action (review by default).

import type { Action } from '../core/types.js';

export interface LabelledOutcome {
  label: string;
  action: Action;
}

export interface LabelStats {
  label: string;
  positive: boolean;
  count: number;
  flagged: number;
  /** Share of this label that was flagged: recall for positive labels, false-positive rate for negative ones. */
  flagRate: number;
}

export interface EvalReport {
  total: number;
  positives: string[];
  flagAt: Action;
  precision: number;
  recall: number;
  f1: number;
  falsePositiveRate: number;
  accuracy: number;
  labels: LabelStats[];
  /** label -> action -> count */
  confusion: Record<string, Record<Action, number>>;
}

const ACTIONS: Action[] = ['allow', 'throttle', 'review', 'block'];
const ORDER: Record<Action, number> = { allow: 0, throttle: 1, review: 2, block: 3 };

export function evaluateOutcomes(
  outcomes: readonly LabelledOutcome[],
  positives: ReadonlySet<string>,
  flagAt: Action = 'review',
): EvalReport {
  const confusion: Record<string, Record<Action, number>> = {};
  let tp = 0,
    fp = 0,
    fn = 0,
    tn = 0;
  for (const o of outcomes) {
    const row = (confusion[o.label] ??= { allow: 0, throttle: 0, review: 0, block: 0 });
    row[o.action]++;
    const flagged = ORDER[o.action] >= ORDER[flagAt];
    const pos = positives.has(o.label);
    if (pos && flagged) tp++;
    else if (pos) fn++;
    else if (flagged) fp++;
    else tn++;
  }
  const div = (a: number, b: number) => (b === 0 ? 0 : a / b);
  const precision = div(tp, tp + fp);
  const recall = div(tp, tp + fn);
  const labels = Object.keys(confusion)
    .sort()
    .map((label): LabelStats => {
      const row = confusion[label];
      const count = ACTIONS.reduce((s, a) => s + row[a], 0);
      const flagged = ACTIONS.filter((a) => ORDER[a] >= ORDER[flagAt]).reduce((s, a) => s + row[a], 0);
      return { label, positive: positives.has(label), count, flagged, flagRate: div(flagged, count) };
    });
  return {
    total: outcomes.length,
    positives: [...positives],
    flagAt,
    precision,
    recall,
    f1: div(2 * precision * recall, precision + recall),
    falsePositiveRate: div(fp, fp + tn),
    accuracy: div(tp + tn, outcomes.length),
    labels,
    confusion,
  };
}

const pct = (x: number) => `${(x * 100).toFixed(2)}%`;

export function formatReport(r: EvalReport, title: string): string {
  const lines: string[] = [];
  lines.push(`${title}: ${r.total} messages; positive labels: ${r.positives.join(', ')}; flagged = action >= ${r.flagAt}`);
  lines.push(
    `  precision ${r.precision.toFixed(4)}  recall ${r.recall.toFixed(4)}  F1 ${r.f1.toFixed(4)}  false-positive rate ${pct(r.falsePositiveRate)}  accuracy ${r.accuracy.toFixed(4)}`,
  );
  lines.push('  per label:');
  for (const l of r.labels) {
    lines.push(
      `    ${l.label.padEnd(20)} ${String(l.count).padStart(6)}  flagged ${String(l.flagged).padStart(6)}  ${l.positive ? 'recall' : 'FPR   '} ${pct(l.flagRate)}`,
    );
  }
  lines.push('  confusion (label x action):');
  lines.push(`    ${''.padEnd(20)} ${ACTIONS.map((a) => a.padStart(9)).join('')}`);
  for (const [label, row] of Object.entries(r.confusion).sort()) {
    lines.push(`    ${label.padEnd(20)} ${ACTIONS.map((a) => String(row[a]).padStart(9)).join('')}`);
  }
  return lines.join('\n');
}
