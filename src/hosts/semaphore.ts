/**
 * A counting semaphore with a FIFO queue: the per-host channel limit and the across-hosts limit. FIFO so
 * that a command queued first starts first, and nothing starves behind a steady stream of new work.
 */
export class Semaphore {
  #limit: number;
  #inUse = 0;
  readonly #waiting: Array<() => void> = [];

  constructor(limit: number) {
    this.#limit = checkedLimit(limit);
  }

  get limit(): number {
    return this.#limit;
  }

  get inUse(): number {
    return this.#inUse;
  }

  get waiting(): number {
    return this.#waiting.length;
  }

  /**
   * Changes the limit while work may be in flight. A raise starts waiters at once; a cut takes effect as
   * holders release (nothing running is interrupted), and until then no waiter starts.
   */
  setLimit(limit: number): void {
    this.#limit = checkedLimit(limit);
    while (this.#inUse < this.#limit) {
      const next = this.#waiting.shift();
      if (next === undefined) break;
      this.#inUse += 1;
      next();
    }
  }

  /** Resolves with a release function once a slot is free; call it exactly once. */
  async acquire(): Promise<() => void> {
    if (this.#inUse < this.#limit) {
      this.#inUse += 1;
    } else {
      // The releasing side hands its slot straight to us, so #inUse never dips and a newcomer cannot jump in.
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      // After a cut the slot is given up, not handed on, until the holders fit the new limit.
      const next = this.#inUse > this.#limit ? undefined : this.#waiting.shift();
      if (next === undefined) this.#inUse -= 1;
      else next();
    };
  }

  async use<T>(work: () => Promise<T>): Promise<T> {
    const release = await this.acquire();
    try {
      return await work();
    } finally {
      release();
    }
  }
}

function checkedLimit(limit: number): number {
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`semaphore limit must be a positive integer, got ${limit}`);
  return limit;
}
