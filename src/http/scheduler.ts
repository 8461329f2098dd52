// The durable scheduler's runner: every node polls the store for jobs that fell due and runs each
// with the consumer registered for its topic. The store's take is atomic and leased, so a job is
// run by one node at a time; a job whose node died is taken again when its lease runs out, so
// consumers guard their effect (a scheduled send moves its message scheduled -> sending first).
// Generic on purpose: scheduled messages use it now; deferral (quiet hours) and pacing can too.

import type { FastifyBaseLogger } from 'fastify';
import type { ScheduledJob, SchedulerStore } from '../store/types.js';
import { LeasedPoller } from './leased-poller.js';

export type JobHandler = (job: ScheduledJob) => Promise<void>;

export interface SchedulerOptions {
  pollMs: number;
  /** How long a node holds a job it runs (longer than a run can take). */
  leaseMs: number;
  /** Jobs one poll takes at most. */
  batch: number;
}

export class JobScheduler {
  private readonly handlers = new Map<string, JobHandler>();
  private readonly poller: LeasedPoller<ScheduledJob>;

  constructor(
    private readonly store: SchedulerStore,
    private readonly log: FastifyBaseLogger,
    opts: SchedulerOptions,
  ) {
    this.poller = new LeasedPoller({
      pollMs: opts.pollMs,
      take: (now) => store.takeDue(new Date(now).toISOString(), new Date(now + opts.leaseMs).toISOString(), opts.batch),
      run: (job) => this.run(job),
      log,
      name: 'scheduler',
    });
  }

  /** The consumer of one topic; a job of a topic nobody registered is left done and logged. */
  on(topic: string, handler: JobHandler): void {
    this.handlers.set(topic, handler);
  }

  start(): void {
    this.poller.start();
  }

  async close(): Promise<void> {
    await this.poller.close();
  }

  /** One poll: takes what is due and runs it; never two polls at once on a node. */
  poll(now = Date.now()): Promise<void> {
    return this.poller.poll(now);
  }

  private async run(job: ScheduledJob): Promise<void> {
    const handler = this.handlers.get(job.topic);
    try {
      if (handler === undefined) this.log.error({ job: job.id, topic: job.topic }, 'no consumer for a scheduled job; dropped');
      else await handler(job);
      await this.store.complete(job.id);
    } catch (e) {
      // Left running: its lease runs out and the job is taken again (the consumer's guard decides).
      this.log.warn({ err: e, job: job.id, attempt: job.attempts }, 'scheduled job failed; retried when its lease ends');
    }
  }
}
