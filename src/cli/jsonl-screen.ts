// `warden screen`: JSONL messages in, one JSONL decision per line out, in input order.
// A malformed line becomes an error record naming the line; only I/O failure stops the run.

import type { Readable, Writable } from 'node:stream';
import { screen, type ScreeningContext } from '../core/screen.js';
import { parseMessage } from '../core/message-input.js';

export interface ScreenStreamOptions {
  ctx: ScreeningContext;
  /** Parse and re-serialise without screening: the I/O floor for benchmarks. */
  passthrough?: boolean;
  onProgress?: (lines: number, bytes: number) => void;
}

export interface ScreenStreamResult {
  lines: number;
  errors: number;
}

/** Screens one JSONL line; returns the output line (without newline). */
export function screenLine(line: string, lineNo: number, opts: ScreenStreamOptions): { out: string; error: boolean } {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch (e) {
    return { out: JSON.stringify({ line: lineNo, error: `invalid JSON: ${(e as Error).message}` }), error: true };
  }
  if (opts.passthrough) return { out: JSON.stringify(raw), error: false };
  const parsed = parseMessage(raw, `line-${lineNo}`);
  if (!parsed.ok) return { out: JSON.stringify({ line: lineNo, error: parsed.error }), error: true };
  return { out: JSON.stringify(screen(parsed.message, opts.ctx)), error: false };
}

export async function screenStream(input: Readable, output: Writable, opts: ScreenStreamOptions): Promise<ScreenStreamResult> {
  // The same batched reader as the worker pool, with batches screened right here.
  const inThread: BatchScreener = {
    run(lines, first) {
      let errors = 0;
      let out = '';
      for (let i = 0; i < lines.length; i++) {
        const r = screenLine(lines[i], first + i, opts);
        if (r.error) errors++;
        out += r.out + '\n';
      }
      return Promise.resolve({ out, errors });
    },
    close: () => Promise.resolve(),
  };
  return screenStreamBatched(input, output, inThread, {
    batchLines: 512,
    inFlight: 1,
    ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
  });
}

/** Screens whole batches of lines; output keeps input order. */
export interface BatchScreener {
  run(lines: string[], firstLineNo: number): Promise<{ out: string; errors: number }>;
  close(): Promise<void>;
}

/**
 * Reads JSONL from `input` in batches and screens them with `screener` (several batches in
 * flight, e.g. on worker threads), writing results in input order.
 */
export async function screenStreamBatched(
  input: Readable,
  output: Writable,
  screener: BatchScreener,
  opts: {
    batchLines?: number;
    inFlight?: number;
    onProgress?: (lines: number, bytes: number) => void;
  } = {},
): Promise<ScreenStreamResult> {
  const batchLines = opts.batchLines ?? 2000;
  const maxInFlight = opts.inFlight ?? 4;
  let lines = 0;
  let errors = 0;
  let bytes = 0;
  let rest = '';
  let batch: string[] = [];
  let batchFirst = 1;
  const queue: Array<Promise<{ out: string; errors: number }>> = [];
  const write = (chunk: string) =>
    new Promise<void>((resolve, reject) => {
      if (output.write(chunk)) {
        resolve();
        return;
      }
      const onDrain = () => {
        output.off('error', onError);
        resolve();
      };
      const onError = (e: Error) => {
        output.off('drain', onDrain);
        reject(e);
      };
      output.once('drain', onDrain);
      output.once('error', onError);
    });
  const drainOne = async () => {
    const r = await queue.shift()!;
    errors += r.errors;
    if (r.out.length > 0) await write(r.out);
  };
  const submit = async () => {
    if (batch.length === 0) return;
    queue.push(screener.run(batch, batchFirst));
    batch = [];
    if (queue.length >= maxInFlight) await drainOne();
  };
  const handle = (line: string) => {
    lines++;
    if (line.trim() === '') {
      lines--;
      return;
    }
    if (batch.length === 0) batchFirst = lines;
    batch.push(line.endsWith('\r') ? line.slice(0, -1) : line);
  };
  input.setEncoding('utf8');
  for await (const chunk of input as AsyncIterable<string>) {
    bytes += Buffer.byteLength(chunk);
    const text = rest + chunk;
    let start = 0;
    let nl: number;
    while ((nl = text.indexOf('\n', start)) >= 0) {
      handle(text.slice(start, nl));
      start = nl + 1;
      if (batch.length >= batchLines) await submit();
    }
    rest = text.slice(start);
    opts.onProgress?.(lines, bytes);
  }
  if (rest.length > 0) handle(rest);
  await submit();
  while (queue.length > 0) await drainOne();
  await screener.close();
  opts.onProgress?.(lines, bytes);
  return { lines, errors };
}
