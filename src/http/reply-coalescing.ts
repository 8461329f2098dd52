// Replies of a hot route are sent together once per event-loop turn, after every request read in
// that turn has been handled, instead of one by one between reads.
//
// Why: answering each request as soon as it is handled interleaves one socket write with every
// ~100 us of work. A client that is faster than the gateway then sleeps between answers and is
// woken for each one; on a virtual machine every such wake-up is an inter-processor interrupt
// that costs the writer tens of microseconds of CPU. Sent in a burst (libuv's check phase, which
// runs right after the poll phase that read the requests) the client stays awake across the
// burst. Under light load a turn holds one request and the delay is nil; under load it is at
// most one turn's work. Measured with `npm run bench:http` (docs/performance.md).

let turn: Promise<void> | null = null;

function endOfTurn(resolve: () => void): void {
  turn = null;
  resolve();
}

/** Resolves in the check phase of the current event-loop turn; one timer per turn for all callers. */
export function endOfLoopTurn(): Promise<void> {
  if (turn === null) turn = new Promise<void>((resolve) => setImmediate(endOfTurn, resolve));
  return turn;
}
