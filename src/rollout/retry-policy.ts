import { InternalError } from '../errors/index.js';

export interface RetryPolicy {
  /** Attempts in all, the first included; always finite, so a transient failure escalates eventually. */
  readonly maxAttempts: number;
  /** Cap of the first retry's delay; doubles per attempt. */
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

export type RetryDecision = { readonly kind: 'retry'; readonly delayMs: number } | { readonly kind: 'give-up'; readonly attempts: number };

/** For SSH to a host and git fetches: 5 attempts within about a minute at worst. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxAttempts: 5, baseDelayMs: 1_000, maxDelayMs: 30_000 };

/**
 * After `attempt` failed attempts (1 after the first), wait or give up. Exponential backoff with full
 * jitter (a uniform delay up to the capped exponential), so many hosts failing together do not retry in
 * step. `random` is injected (Math.random in production) to keep this a pure function.
 */
export function nextRetry(attempt: number, policy: RetryPolicy, random: () => number): RetryDecision {
  if (!Number.isInteger(attempt) || attempt < 1) throw new InternalError(`retry attempt must be a positive integer, got ${attempt}`);
  if (!Number.isInteger(policy.maxAttempts) || policy.maxAttempts < 1) {
    // An unbounded or missing limit would retry a dead host forever instead of surfacing it.
    throw new InternalError(`retry policy needs a finite maxAttempts >= 1, got ${policy.maxAttempts}`);
  }
  if (attempt >= policy.maxAttempts) return { kind: 'give-up', attempts: attempt };
  const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  const unit = Math.min(Math.max(random(), 0), 1);
  return { kind: 'retry', delayMs: Math.floor(unit * cap) };
}
