// A worker thread for `warden screen` on large inputs: loads the pack itself, then screens
// batches of JSONL lines handed to it by the main thread and returns the output lines.

import { parentPort, workerData } from 'node:worker_threads';
import { loadPack } from '../policy/load-pack.js';
import { PackError } from '../policy/compile.js';
import { screenLine } from './jsonl-screen.js';

interface Init {
  packDir: string;
  lists: Record<string, string>;
  rulesOnly: boolean;
}
export interface BatchRequest {
  seq: number;
  first: number;
  lines: string[];
}
export interface BatchResult {
  seq: number;
  out: string;
  errors: number;
}

const port = parentPort!;
const { packDir, lists, rulesOnly } = workerData as Init;
try {
  const { policy } = loadPack(packDir, { listOverrides: lists, ...(rulesOnly ? { loadModel: false as const } : {}) });
  const opts = { ctx: { policy } };
  port.postMessage({ ready: true });
  port.on('message', (req: BatchRequest) => {
    let errors = 0;
    const out: string[] = [];
    for (let i = 0; i < req.lines.length; i++) {
      const r = screenLine(req.lines[i], req.first + i, opts);
      if (r.error) errors++;
      out.push(r.out);
    }
    port.postMessage({ seq: req.seq, out: out.join('\n') + '\n', errors } satisfies BatchResult);
  });
} catch (e) {
  port.postMessage({ error: e instanceof PackError ? e.message : (e as Error).message, pack: e instanceof PackError });
}
