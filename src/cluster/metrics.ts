// /metrics for `warden serve --workers N`: every worker keeps its own prom-client registry, so a
// scrape answered by one worker would show that worker's share of the traffic only. The worker
// that receives the scrape asks the primary, the primary collects every live worker's metrics as
// JSON over the cluster IPC channel and merges them with prom-client's AggregatorRegistry
// (counters and histograms summed; process metrics by the aggregator prom-client defines for
// each), and the scrape gets the whole machine. If the primary or a worker does not answer in
// time, the scrape gets this worker's own registry and says so in a header.

import type { Worker } from 'node:cluster';
import { AggregatorRegistry, type Registry } from 'prom-client';

type MetricsJson = Awaited<ReturnType<Registry['getMetricsAsJSON']>>;

interface ScrapeRequest {
  warden: 'metrics-scrape';
  id: number;
}
interface ScrapeReply {
  warden: 'metrics-text';
  id: number;
  text?: string;
  workers?: number;
}
interface CollectRequest {
  warden: 'metrics-collect';
  id: number;
}
interface CollectReply {
  warden: 'metrics-json';
  id: number;
  metrics: MetricsJson;
}
type MetricsMessage = ScrapeRequest | ScrapeReply | CollectRequest | CollectReply;

function isMetricsMessage(m: unknown): m is MetricsMessage {
  const w = (m as { warden?: unknown } | null)?.warden;
  return typeof w === 'string' && w.startsWith('metrics-') && typeof (m as { id?: unknown }).id === 'number';
}

export interface ClusterScrape {
  text: string;
  workers: number;
}

/** Worker side: answers the primary's collect requests and asks it for the machine's metrics. */
export class WorkerMetrics {
  private nextId = 1;
  private readonly pending = new Map<number, (r: ScrapeReply | null) => void>();
  private readonly listener: (msg: unknown) => void;

  constructor(
    private readonly registry: Registry,
    private readonly timeoutMs = 3000,
  ) {
    this.listener = (msg) => {
      if (!isMetricsMessage(msg)) return;
      if (msg.warden === 'metrics-collect') {
        void registry.getMetricsAsJSON().then((metrics) => {
          if (process.connected) process.send?.({ warden: 'metrics-json', id: msg.id, metrics } satisfies CollectReply);
        });
      } else if (msg.warden === 'metrics-text') {
        this.pending.get(msg.id)?.(msg);
      }
    };
    process.on('message', this.listener);
  }

  /** The merged metrics of every worker, or null when the primary cannot provide them in time. */
  scrape(): Promise<ClusterScrape | null> {
    if (typeof process.send !== 'function' || !process.connected) return Promise.resolve(null);
    const id = this.nextId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => done(null), this.timeoutMs);
      const done = (r: ScrapeReply | null) => {
        clearTimeout(timer);
        this.pending.delete(id);
        resolve(r?.text !== undefined ? { text: r.text, workers: r.workers ?? 0 } : null);
      };
      this.pending.set(id, done);
      process.send!({ warden: 'metrics-scrape', id } satisfies ScrapeRequest);
    });
  }

  close(): void {
    process.off('message', this.listener);
    for (const done of this.pending.values()) done(null);
  }
}

/** Primary side: one scrape collects from every live worker and answers the asking one. */
export class PrimaryMetrics {
  private nextId = 1;
  private readonly collecting = new Map<number, (from: Worker, metrics: MetricsJson) => void>();

  constructor(
    private readonly workers: () => Iterable<Worker>,
    private readonly timeoutMs = 2000,
  ) {}

  /** Handles one message from a worker; false when it was not a metrics message. */
  handle(from: Worker, msg: unknown): boolean {
    if (!isMetricsMessage(msg)) return false;
    if (msg.warden === 'metrics-json') this.collecting.get(msg.id)?.(from, msg.metrics);
    else if (msg.warden === 'metrics-scrape') void this.scrape(from, msg.id);
    return true;
  }

  private async scrape(asker: Worker, scrapeId: number): Promise<void> {
    const live = [...this.workers()].filter((w) => w.isConnected());
    const id = this.nextId++;
    const got = new Map<number, MetricsJson>();
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, this.timeoutMs);
      this.collecting.set(id, (from, metrics) => {
        got.set(from.id, metrics);
        if (got.size >= live.length) {
          clearTimeout(timer);
          resolve();
        }
      });
      for (const w of live) w.send({ warden: 'metrics-collect', id } satisfies CollectRequest);
    });
    this.collecting.delete(id);
    // A worker that did not answer would silently shrink every counter: answer nothing instead,
    // and the asking worker falls back to its own registry, marked as such.
    const reply: ScrapeReply =
      got.size === live.length && got.size > 0
        ? { warden: 'metrics-text', id: scrapeId, text: await AggregatorRegistry.aggregate([...got.values()]).metrics(), workers: got.size }
        : { warden: 'metrics-text', id: scrapeId };
    if (asker.isConnected()) asker.send(reply);
  }
}
