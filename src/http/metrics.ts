// Prometheus metrics for one gateway instance. Each app gets its own registry so that several
// apps in one process (tests, the benchmark) never share or double-register series.

import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Decision } from '../core/types.js';

export class GatewayMetrics {
  readonly registry = new Registry();
  readonly decisions: Counter<'action' | 'channel' | 'api'>;
  readonly reasons: Counter<'clause'>;
  readonly httpDuration: Histogram<'route' | 'method' | 'status'>;
  readonly screenDuration: Histogram;
  readonly upstreamDuration: Histogram<'operation'>;
  readonly upstreamErrors: Counter<'operation' | 'kind'>;
  readonly decisionLogErrors: Counter;
  readonly decisionLogBackpressure: Counter;
  readonly webhooks: Counter<'kind' | 'outcome'>;

  constructor(opts: { defaultMetrics?: boolean } = {}) {
    const registers = [this.registry];
    if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: 'warden_' });
    this.decisions = new Counter({ name: 'warden_decisions_total', help: 'Screening decisions by action, channel and API', labelNames: ['action', 'channel', 'api'], registers });
    this.reasons = new Counter({ name: 'warden_decision_reasons_total', help: 'Reasons in decisions, by AUP clause', labelNames: ['clause'], registers });
    this.httpDuration = new Histogram({
      name: 'warden_http_request_duration_seconds',
      help: 'HTTP request latency by route pattern, method and status',
      labelNames: ['route', 'method', 'status'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
    this.screenDuration = new Histogram({
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
    this.upstreamErrors = new Counter({ name: 'warden_upstream_errors_total', help: 'Upstream requests that failed (network errors, timeouts, 5xx)', labelNames: ['operation', 'kind'], registers });
    this.decisionLogErrors = new Counter({ name: 'warden_decision_log_errors_total', help: 'Decisions that could not be written to the decision store', registers });
    this.decisionLogBackpressure = new Counter({ name: 'warden_decision_log_backpressure_total', help: 'Requests that waited for the decision store because its backlog was full', registers });
    this.webhooks = new Counter({ name: 'warden_webhooks_total', help: 'Provider webhooks received, by kind and outcome', labelNames: ['kind', 'outcome'], registers });
  }

  /** Label-bound children by route, method and status: prom-client hashes a labels object on every call otherwise. */
  private readonly httpChildren = new Map<string, { observe(v: number): void }>();

  observeHttp(route: string, method: string, status: number, seconds: number): void {
    const key = `${method} ${status} ${route}`;
    let child = this.httpChildren.get(key);
    if (child === undefined) {
      child = this.httpDuration.labels({ route, method, status: String(status) });
      // Routes are patterns, not raw URLs, so the set is bounded; the cap guards against surprises.
      if (this.httpChildren.size < 10_000) this.httpChildren.set(key, child);
    }
    child.observe(seconds);
  }

  countDecision(d: Decision, channel: string, api: 'native' | 'twilio'): void {
    this.decisions.inc({ action: d.action, channel, api });
    for (const r of d.reasons) if (!r.shadow) this.reasons.inc({ clause: r.clause });
  }
}
