import { TendError } from '../errors/index.js';

/**
 * Plans of refs run one at a time, beside the reconcile loop and never inside it: each observes hosts over
 * the same SSH pool a rollout uses, so more than one at a time would only compete with it. Requests for a
 * ref already waiting or running join that one; beyond `maxWaiting` others, a request is refused with
 * E_PLAN_BUSY (HTTP 429) rather than queued without bound.
 */
export class PlanQueue<T> {
  readonly #maxWaiting: number;
  readonly #pending = new Map<string, Promise<T>>();
  #tail: Promise<unknown> = Promise.resolve();

  constructor(maxWaiting: number) {
    this.#maxWaiting = maxWaiting;
  }

  /** Runs `work` for `key` after the plans before it; a second call for the same key shares the first's result. */
  run(key: string, work: () => Promise<T>): Promise<T> {
    const joined = this.#pending.get(key);
    if (joined !== undefined) return joined;
    // The running plan is in #pending too: it does not count as waiting.
    if (this.#pending.size > this.#maxWaiting) {
      return Promise.reject(
        new TendError('E_PLAN_BUSY', 'transient', `${this.#pending.size} plans are running or waiting; this one was refused`, {
          hint: 'Retry in a minute; plans run one at a time beside the reconcile loop.',
        }),
      );
    }
    const result = this.#tail.then(work, work);
    this.#tail = result.catch(() => undefined);
    this.#pending.set(key, result);
    const forget = (): void => {
      this.#pending.delete(key);
    };
    result.then(forget, forget);
    return result;
  }
}
