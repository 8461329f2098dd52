// Prometheus metrics for one gateway instance. Each app gets its own registry so that several
// apps in one process (tests, the benchmark) never share or double-register series.

import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Decision } from '../core/types.js';
import { FastCounter, FastHistogram, type HistogramSeries } from './fast-metrics.js';

/**
 * A label set's series, kept under a string key: one template string and a Map lookup per request
 * instead of a labels object. Routes are patterns and clauses come from the policy, so the keys
 * are a bounded set; the cap guards against surprises (past it, series are fetched uncached).
 */
function bound<T>(cache: Map<string, T>, key: string, make: () => T): T {
  let c = cache.get(key);
  if (c === undefined) {
    c = make();
    if (cache.size < 10_000) cache.set(key, c);
  }
  return c;
}

export class GatewayMetrics {
  readonly registry = new Registry();
  // Counted or observed on every request: label sets bound once (fast-metrics.ts).
  readonly decisions: FastCounter<'action' | 'channel' | 'api'>;
  readonly reasons: FastCounter<'clause'>;
  readonly httpDuration: FastHistogram<'route' | 'method' | 'status'>;
  readonly screenDuration: FastHistogram;
  readonly upstreamDuration: Histogram<'operation'>;
  readonly upstreamErrors: Counter<'operation' | 'kind'>;
  readonly statusCallbacks: Counter<'outcome'>;
  readonly decisionLogErrors: Counter;
  readonly decisionLogBackpressure: Counter;
  readonly webhooks: Counter<'kind' | 'outcome'>;
  readonly egress: Counter<'operation' | 'outcome'>;

  constructor(opts: { defaultMetrics?: boolean } = {}) {
    const registers = [this.registry];
    if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: 'warden_' });
    this.decisions = new FastCounter({
      name: 'warden_decisions_total',
      help: 'Screening decisions by action, channel and API',
      labelNames: ['action', 'channel', 'api'],
      registers,
    });
    this.reasons = new FastCounter({
      name: 'warden_decision_reasons_total',
      help: 'Reasons in decisions, by AUP clause',
      labelNames: ['clause'],
      registers,
    });
    this.httpDuration = new FastHistogram({
      name: 'warden_http_request_duration_seconds',
      help: 'HTTP request latency by route pattern, method and status',
      labelNames: ['route', 'method', 'status'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
    this.screenDuration = new FastHistogram({
      name: 'warden_screen_duration_seconds',
      help: 'Time spent in the screening core per message',
      buckets: [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05],
      registers,
    });
    this.upstreamDuration = new Histogram({
      name: 'warden_upstream_request_duration_seconds',
      help: 'Latency of requests forwarded to the upstream provider',
      labelNames: ['operation'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    this.upstreamErrors = new Counter({
      name: 'warden_upstream_errors_total',
      help: 'Upstream requests that failed (network errors, timeouts, 5xx)',
      labelNames: ['operation', 'kind'],
      registers,
    });
    this.statusCallbacks = new Counter({
      name: 'warden_status_callbacks_total',
      help: 'Attempts at the status callbacks Warden sends for held messages, by outcome (delivered, refused by the app, failed)',
      labelNames: ['outcome'],
      registers,
    });
    this.decisionLogErrors = new Counter({
      name: 'warden_decision_log_errors_total',
      help: 'Decisions that could not be written to the decision store',
      registers,
    });
    this.decisionLogBackpressure = new Counter({
      name: 'warden_decision_log_backpressure_total',
      help: 'Requests that waited for the decision store because its backlog was full',
      registers,
    });
    this.webhooks = new Counter({
      name: 'warden_webhooks_total',
      help: 'Provider webhooks received, by kind and outcome',
      labelNames: ['kind', 'outcome'],
      registers,
    });
    this.egress = new Counter({
      name: 'warden_egress_requests_total',
      help: 'Outbound requests (upstream, callbacks, relays) by operation and outcome (docs/egress.md)',
      labelNames: ['operation', 'outcome'],
      registers,
    });
  }

  /** Series by route, method and status (one string key instead of a labels object per request). */
  private readonly httpChildren = new Map<string, HistogramSeries>();

  observeHttp(route: string, method: string, status: number, seconds: number): void {
    bound(this.httpChildren, `${method} ${status} ${route}`, () =>
      this.httpDuration.labels({ route, method, status: String(status) }),
    ).observe(seconds);
  }

  private readonly decisionChildren = new Map<string, { inc(): void }>();
  private readonly reasonChildren = new Map<string, { inc(): void }>();

  countDecision(d: Decision, channel: string, api: 'native' | 'twilio'): void {
    bound(this.decisionChildren, `${d.action} ${channel} ${api}`, () => this.decisions.labels({ action: d.action, channel, api })).inc();
    for (const r of d.reasons) if (!r.shadow) bound(this.reasonChildren, r.clause, () => this.reasons.labels({ clause: r.clause })).inc();
  }
}
