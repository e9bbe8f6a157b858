/** How hard tend tries one call to the git host's API before it gives up on it. */
export interface RetryBudget {
  /** Attempts, the first included. */
  readonly maxAttempts: number;
  /** All attempts and waits of one call fit in this; a retry that would overrun it is not made. */
  readonly budgetMs: number;
  /** The wait before the second attempt; doubles after each failure up to `maxDelayMs`. */
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

export const DEFAULT_PUBLISH_BUDGET: RetryBudget = { maxAttempts: 5, budgetMs: 120_000, baseDelayMs: 1_000, maxDelayMs: 30_000 };

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
