// The per-request metrics export exactly what prom-client's own Histogram and Counter export for
// the same observations, alone and merged across cluster workers.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AggregatorRegistry, Counter, Histogram, Registry } from 'prom-client';
import { FastCounter, FastHistogram } from '../../src/http/fast-metrics.js';

const BUCKETS = [0.001, 0.005, 0.01, 0.1];
const OBSERVED: Array<[string, number]> = [
  ['/a', 0.0004],
  ['/a', 0.001],
  ['/a', 0.003],
  ['/b', 0.05],
  ['/b', 7],
  ['/a', 0.2],
  ['/a', Number.NaN],
];

function theirs(): Registry {
  const r = new Registry();
  const h = new Histogram({ name: 'lat_seconds', help: 'latency', labelNames: ['route'], buckets: BUCKETS, registers: [r] });
  const c = new Counter({ name: 'hits_total', help: 'hits', labelNames: ['route'], registers: [r] });
  const u = new Histogram({ name: 'plain_seconds', help: 'no labels', buckets: BUCKETS, registers: [r] });
  for (const [route, v] of OBSERVED) {
    if (Number.isNaN(v)) continue; // prom-client throws on NaN; ours ignores it
    h.observe({ route }, v);
    c.inc({ route });
    u.observe(v);
  }
  return r;
}

function ours(): Registry {
  const r = new Registry();
  const h = new FastHistogram({ name: 'lat_seconds', help: 'latency', labelNames: ['route'], buckets: BUCKETS, registers: [r] });
  const c = new FastCounter({ name: 'hits_total', help: 'hits', labelNames: ['route'], registers: [r] });
  const u = new FastHistogram({ name: 'plain_seconds', help: 'no labels', buckets: BUCKETS, registers: [r] });
  for (const [route, v] of OBSERVED) {
    h.labels({ route }).observe(v);
    if (!Number.isNaN(v)) {
      c.labels({ route }).inc();
      u.observe(v);
    }
  }
  return r;
}

test('FastHistogram and FastCounter export the same text as prom-client for the same observations', async () => {
  assert.equal(await ours().metrics(), await theirs().metrics());
});

test('merged across workers by the AggregatorRegistry, they sum like prom-client metrics do', async () => {
  const merge = async (a: Registry, b: Registry) =>
    AggregatorRegistry.aggregate([await a.getMetricsAsJSON(), await b.getMetricsAsJSON()]).metrics();
  assert.equal(await merge(ours(), ours()), await merge(theirs(), theirs()));
  assert.match(await merge(ours(), ours()), /lat_seconds_count\{route="\/a"\} 8/);
});

test('reset zeroes the series, and a series handed out before keeps counting; a missing label is refused', async () => {
  const r = new Registry();
  const h = new FastHistogram<'route'>({ name: 'x_seconds', help: 'x', labelNames: ['route'], buckets: BUCKETS, registers: [r] });
  const a = h.labels({ route: '/a' });
  a.observe(0.002);
  r.resetMetrics();
  assert.match(await r.metrics(), /x_seconds_count\{route="\/a"\} 0/);
  a.observe(0.003);
  assert.match(await r.metrics(), /x_seconds_count\{route="\/a"\} 1/);
  assert.throws(() => h.labels({} as { route: string }), /labels route are required/);
});
