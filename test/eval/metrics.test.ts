import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evaluateOutcomes } from '../../src/eval/metrics.js';

test('metrics: precision, recall, F1 and false-positive rate from outcomes', () => {
  const outcomes = [
    { label: 'spam', action: 'block' as const },
    { label: 'spam', action: 'review' as const },
    { label: 'spam', action: 'allow' as const },
    { label: 'ham', action: 'allow' as const },
    { label: 'ham', action: 'allow' as const },
    { label: 'ham', action: 'review' as const },
  ];
  const r = evaluateOutcomes(outcomes, new Set(['spam']));
  assert.equal(r.precision, 2 / 3);
  assert.equal(r.recall, 2 / 3);
  assert.equal(r.falsePositiveRate, 1 / 3);
  assert.ok(Math.abs(r.f1 - 2 / 3) < 1e-12);
  const atBlock = evaluateOutcomes(outcomes, new Set(['spam']), 'block');
  assert.equal(atBlock.recall, 1 / 3);
  assert.equal(atBlock.falsePositiveRate, 0);
  assert.deepEqual(r.confusion.spam, { allow: 1, throttle: 0, review: 1, block: 1 });
});
