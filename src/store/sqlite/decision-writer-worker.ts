// Worker thread of DecisionWriter: inserts decision batches on its own SQLite connection, in the
// order they arrive, and answers each with one error (or null) per row.

import { parentPort, workerData } from 'node:worker_threads';
import { openDecisionInserter } from './decision-writer.js';

const inserter = openDecisionInserter((workerData as { file: string }).file);
parentPort!.on('message', (m: { id: number; rows: unknown[] } | { close: true }) => {
  if ('close' in m) {
    inserter.close();
    parentPort!.close();
    return;
  }
  parentPort!.postMessage({ id: m.id, errors: inserter.insert(m.rows) });
});
