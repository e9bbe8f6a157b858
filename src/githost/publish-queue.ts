import { asTendError } from '../errors/index.js';
import type { Logger } from '../observability/index.js';
import { GitHostCallError } from './githost-api.js';
import { retryDelay, type RetryBudget } from './retry-schedule.js';

export interface PublishEffects {
  readonly sleep: (ms: number) => Promise<void>;
  readonly clock: () => number;
}

interface Job {
  /** Calls with the same key replace each other while waiting: only the newest status of a commit matters. */
  readonly key: string;
  readonly run: () => Promise<unknown>;
}

/**
 * Calls to the git host, one at a time in order, off the caller's path: `enqueue` returns at once, so a
 * slow or down git host never holds up a reconcile pass or a webhook answer. Each call is retried within
 * `budget`; past `maxQueue` waiting calls the oldest is dropped and logged. Logs name the call by its key
 * (a context and sha, or a pull request), never the token.
 */
export class PublishQueue {
  readonly #budget: RetryBudget;
  readonly #maxQueue: number;
  readonly #effects: PublishEffects;
  readonly #logger: Logger;
  #queue: Job[] = [];
  #worker: Promise<void> | undefined;

  constructor(budget: RetryBudget, maxQueue: number, effects: PublishEffects, logger: Logger) {
    this.#budget = budget;
    this.#maxQueue = maxQueue;
    this.#effects = effects;
    this.#logger = logger;
  }

  enqueue(key: string, run: () => Promise<unknown>): void {
    this.#queue = [...this.#queue.filter((job) => job.key !== key), { key, run }];
    while (this.#queue.length > this.#maxQueue) {
      const dropped = this.#queue.shift() as Job;
      this.#logger.warn({ call: dropped.key, maxQueue: this.#maxQueue }, 'git host publish queue full; dropped the oldest');
    }
    this.#worker ??= this.#work().finally(() => {
      this.#worker = undefined;
    });
  }

  /** Resolves once every queued call was made or given up on (shutdown, tests). */
  async drain(): Promise<void> {
    while (this.#worker !== undefined) await this.#worker;
  }

  async #work(): Promise<void> {
    for (let job = this.#queue.shift(); job !== undefined; job = this.#queue.shift()) {
      const startedAt = this.#effects.clock();
      for (let attempt = 1; ; attempt += 1) {
        try {
          await job.run();
          this.#logger.info({ call: job.key, attempt }, 'published to the git host');
          break;
        } catch (thrown) {
          const error = asTendError(thrown);
          const retryAfterMs = thrown instanceof GitHostCallError ? thrown.retryAfterMs : undefined;
          const delay = error.retryable ? retryDelay(this.#budget, attempt, this.#effects.clock() - startedAt, retryAfterMs) : undefined;
          const fields = { call: job.key, attempt, code: error.code, err: error.message };
          if (delay === undefined) {
            this.#logger.error({ ...fields, retryable: error.retryable }, 'not published to the git host; gave up');
            break;
          }
          this.#logger.warn({ ...fields, retryInMs: delay }, 'publishing to the git host failed; retrying');
          await this.#effects.sleep(delay);
        }
      }
    }
  }
}
