// A pool of screening worker threads for `warden screen` on large inputs: each worker loads
// the pack once, batches go round-robin, results come back in input order.

import { Worker } from 'node:worker_threads';
import type { BatchScreener } from './jsonl-screen.js';
import type { BatchRequest, BatchResult } from './screen-worker.js';

export class PackLoadError extends Error {}

export async function startScreenPool(
  size: number,
  packDir: string,
  lists: Record<string, string>,
  rulesOnly = false,
): Promise<BatchScreener> {
  const url = new URL('./screen-worker.js', import.meta.url);
  const workers = Array.from({ length: size }, () => new Worker(url, { workerData: { packDir, lists, rulesOnly } }));
  const pending = new Map<number, { resolve: (r: { out: string; errors: number }) => void; reject: (e: Error) => void }>();
  await Promise.all(
    workers.map(
      (w) =>
        new Promise<void>((resolve, reject) => {
          const onFirst = (m: { ready?: true; error?: string; pack?: boolean }) => {
            if (m.ready) {
              w.on('message', (r: BatchResult) => {
                const p = pending.get(r.seq);
                pending.delete(r.seq);
                p?.resolve({ out: r.out, errors: r.errors });
              });
              resolve();
            } else {
              reject(m.pack ? new PackLoadError(m.error) : new Error(m.error));
            }
          };
          w.once('message', onFirst);
          w.once('error', reject);
        }),
    ),
  ).catch(async (e: unknown) => {
    await Promise.all(workers.map((w) => w.terminate()));
    throw e;
  });
  for (const w of workers)
    w.on('error', (e) => {
      for (const p of pending.values()) p.reject(e);
      pending.clear();
    });
  let seq = 0;
  return {
    run(lines, first) {
      const s = seq++;
      return new Promise((resolve, reject) => {
        pending.set(s, { resolve, reject });
        workers[s % workers.length].postMessage({ seq: s, first, lines } satisfies BatchRequest);
      });
    },
    async close() {
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}
