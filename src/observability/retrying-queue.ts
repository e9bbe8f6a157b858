/** How hard tend tries one outgoing call (a notification, a git host status) before it gives up on it. */
export interface RetryBudget {
  /** Attempts, the first included. */
  readonly maxAttempts: number;
  /** All attempts and waits of one call fit in this; a retry that would overrun it is not made. */
  readonly budgetMs: number;
  /** The wait before the second attempt; doubles after each failure up to `maxDelayMs`. */
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

/**
 * The wait before the next attempt after `attempts` failed ones, `elapsedMs` into the call, or undefined
 * to give up: after `maxAttempts`, or when the wait would end past the budget. A server's Retry-After is
 * honoured up to `maxDelayMs`.
 */
export function retryDelay(budget: RetryBudget, attempts: number, elapsedMs: number, retryAfterMs?: number): number | undefined {
  if (attempts >= budget.maxAttempts) return undefined;
  const backoff = budget.baseDelayMs * 2 ** Math.max(0, attempts - 1);
  const delay = Math.min(Math.max(backoff, retryAfterMs ?? 0), budget.maxDelayMs);
  return elapsedMs + delay >= budget.budgetMs ? undefined : delay;
}

/** What one attempt came to; `reason` and `code` are for logs, so they must carry no secret. */
export type AttemptResult =
  | { readonly ok: true }
  | { readonly ok: false; readonly retryable: boolean; readonly reason: string; readonly code?: string; readonly retryAfterMs: number | undefined };

export type FailedAttempt = Extract<AttemptResult, { ok: false }>;

/** What the queue tells its owner, who logs (and counts) each in its own words. */
export interface QueueReports<Job> {
  delivered(job: Job, attempt: number): void;
  retrying(job: Job, attempt: number, failure: FailedAttempt, delayMs: number): void;
  gaveUp(job: Job, attempt: number, failure: FailedAttempt): void;
  /** The queue was full: `job`, the oldest waiting, is not attempted. */
  dropped(job: Job): void;
  /** `attempt` threw: a bug, reported so that it stops neither later jobs nor the daemon. */
  crashed(job: Job, error: unknown): void;
}

export interface QueueEffects {
  readonly sleep: (ms: number) => Promise<void>;
  readonly clock: () => number;
}

export interface RetryingQueueOptions<Job> {
  readonly budget: RetryBudget;
  /** Jobs waiting; past it the oldest is dropped (and reported), never the caller blocked. */
  readonly maxQueue: number;
  readonly effects: QueueEffects;
  /** One attempt at `job`, given what is left of its budget (for a timeout). */
  readonly attempt: (job: Job, leftMs: number) => Promise<AttemptResult>;
  /** A waiting job that `job` makes pointless, replaced by it (the older status of the same commit). */
  readonly replaces?: (waiting: Job, job: Job) => boolean;
  readonly reports: QueueReports<Job>;
}

/**
 * Outgoing calls, one at a time in order, off the caller's path: `enqueue` returns at once, so a slow or
 * down receiver never holds up a reconcile pass or a webhook answer. Each job is retried within the budget
 * (`retryDelay`); past `maxQueue` waiting jobs the oldest is dropped.
 */
export class RetryingQueue<Job> {
  readonly #options: RetryingQueueOptions<Job>;
  #queue: Job[] = [];
  #worker: Promise<void> | undefined;

  constructor(options: RetryingQueueOptions<Job>) {
    this.#options = options;
  }

  enqueue(job: Job): void {
    const { replaces, maxQueue, reports } = this.#options;
    this.#queue = replaces === undefined ? [...this.#queue, job] : [...this.#queue.filter((waiting) => !replaces(waiting, job)), job];
    while (this.#queue.length > maxQueue) reports.dropped(this.#queue.shift() as Job);
    this.#worker ??= this.#work().finally(() => {
      this.#worker = undefined;
    });
  }

  /** Resolves once every queued job was done or given up on (shutdown, tests). */
  async drain(): Promise<void> {
    while (this.#worker !== undefined) await this.#worker;
  }

  async #work(): Promise<void> {
    for (let job = this.#queue.shift(); job !== undefined; job = this.#queue.shift()) {
      try {
        await this.#deliver(job);
      } catch (error) {
        this.#options.reports.crashed(job, error);
      }
    }
  }

  async #deliver(job: Job): Promise<void> {
    const { budget, effects, attempt: attemptOnce, reports } = this.#options;
    const startedAt = effects.clock();
    for (let attempt = 1; ; attempt += 1) {
      const result = await attemptOnce(job, budget.budgetMs - (effects.clock() - startedAt));
      if (result.ok) {
        reports.delivered(job, attempt);
        return;
      }
      const delay = result.retryable ? retryDelay(budget, attempt, effects.clock() - startedAt, result.retryAfterMs) : undefined;
      if (delay === undefined) {
        reports.gaveUp(job, attempt, result);
        return;
      }
      reports.retrying(job, attempt, result, delay);
      await effects.sleep(delay);
    }
  }
}
