// Work over a batch in time slices: after each slice the event loop runs, so health checks and
// other tenants' requests are answered while a large batch is being screened instead of waiting
// for all of it (a 4 MiB batch of hostile bodies once held /healthz for 33 s).

/** Longest run of work between two turns of the event loop, in milliseconds. */
export const SLICE_MS = 5;

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * `work` over every item, in order, yielding to the event loop (setImmediate, so waiting I/O is
 * served first) whenever a slice of SLICE_MS has run. One item is never split, so a slice lasts
 * at most SLICE_MS plus one item; the screening core keeps an item's cost linear in its size.
 */
export async function inSlices<T, R>(items: readonly T[], work: (item: T) => R, sliceMs = SLICE_MS): Promise<R[]> {
  const out: R[] = [];
  let sliceStart = performance.now();
  for (const item of items) {
    if (performance.now() - sliceStart >= sliceMs) {
      await turn();
      sliceStart = performance.now();
    }
    out.push(work(item));
  }
  return out;
}
