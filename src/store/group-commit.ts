// Group commit: concurrent writes are queued and committed together in one transaction, and each
// caller's promise resolves only after that commit. One fsync then covers many acknowledgements.

interface Pending<I, O> {
  item: I;
  resolve: (o: O) => void;
  reject: (e: unknown) => void;
}

export interface GroupCommitOptions {
  /** Largest batch committed in one transaction. */
  maxBatch?: number;
}

export class GroupCommit<I, O> {
  private queue: Array<Pending<I, O>> = [];
  private running = false;
  private scheduled = false;
  private readonly maxBatch: number;

  /** `commit` writes the whole batch in one transaction and returns one result per item, in order. */
  constructor(
    private readonly commit: (items: I[]) => Promise<O[]> | O[],
    opts: GroupCommitOptions = {},
  ) {
    this.maxBatch = opts.maxBatch ?? 1000;
  }

  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.kick();
    });
  }

  /** Resolves when everything submitted so far is committed (or failed). */
  async drain(): Promise<void> {
    while (this.queue.length > 0 || this.running || this.scheduled) await new Promise((r) => setTimeout(r, 2));
  }

  private kick(): void {
    if (this.running || this.scheduled || this.queue.length === 0) return;
    this.scheduled = true;
    // Let the current turn of the event loop queue its writes first: they share the commit.
    setImmediate(() => {
      this.scheduled = false;
      void this.run();
    });
  }

  private async run(): Promise<void> {
    if (this.running || this.queue.length === 0) return;
    this.running = true;
    const batch = this.queue.splice(0, this.maxBatch);
    try {
      let out: O[];
      try {
        out = await this.commit(batch.map((p) => p.item));
      } catch (e) {
        if (batch.length === 1) throw e;
        // One bad item must not fail its neighbours: commit them one by one.
        for (const p of batch) {
          try {
            const [o] = await this.commit([p.item]);
            p.resolve(o);
          } catch (err) {
            p.reject(err);
          }
        }
        return;
      }
      batch.forEach((p, i) => p.resolve(out[i]));
    } catch (e) {
      for (const p of batch) p.reject(e);
    } finally {
      this.running = false;
      this.kick();
    }
  }
}
