import { nextRetry, type RetryPolicy } from '../rollout/index.js';
import type { Journal, RetryBudget } from '../state/index.js';

/** What one more transient failure means: wait and try again, or the budget is spent. */
export type BudgetVerdict =
  | { readonly kind: 'retry'; readonly budget: RetryBudget; readonly nextAt: number }
  | { readonly kind: 'exhausted'; readonly budget: RetryBudget };

export interface TransientFailure {
  readonly code: string;
  readonly detail: string;
}

/**
 * Counts a failed attempt against the budget of (head, scope). Pure. The count lives in the journal, so
 * only a new head starts a new budget: a poll, a webhook or a restart finds the same count and the same
 * backoff. Attempts beyond `maxAttempts` happen only when granted (`grantAttempt`).
 */
export function spendAttempt(
  previous: RetryBudget | undefined,
  head: string,
  failure: TransientFailure,
  now: number,
  policy: RetryPolicy,
  random: () => number,
): BudgetVerdict {
  const current = previous?.commit === head ? previous : undefined;
  const attempts = (current?.attempts ?? 0) + 1;
  const allowed = current?.allowed ?? policy.maxAttempts;
  const base = { commit: head, attempts, allowed, code: failure.code, detail: failure.detail, lastAt: now };
  if (attempts < allowed && attempts < policy.maxAttempts) {
    const decision = nextRetry(attempts, policy, random);
    if (decision.kind === 'retry') {
      const nextAt = now + decision.delayMs;
      return { kind: 'retry', budget: { ...base, nextAt }, nextAt };
    }
  }
  return { kind: 'exhausted', budget: { ...base, nextAt: undefined } };
}

/**
 * One attempt more on a spent budget, now: what `tend retry` and each scheduled resync give, so a host
 * that came back is noticed, and never more than one attempt per grant.
 */
export function grantAttempt(budget: RetryBudget): RetryBudget {
  return { ...budget, allowed: Math.max(budget.allowed, budget.attempts + 1), nextAt: undefined };
}

/** The budget of `scope` when it may act now: none, or one whose backoff is over and not spent. */
export function backoffUntil(journal: Journal, scope: string, head: string, now: number): number | undefined {
  const budget = journal.retries[scope];
  if (budget?.commit !== head || budget.nextAt === undefined) return undefined;
  return budget.nextAt > now ? budget.nextAt : undefined;
}

/** Whether the budget of `scope` at `head` is spent with no attempt granted. */
export function budgetSpent(journal: Journal, scope: string, head: string): boolean {
  const budget = journal.retries[scope];
  return budget?.commit === head && budget.attempts >= budget.allowed;
}

/** The earliest moment a backoff at `head` ends: when the loop must run the next pass. */
export function nextAttemptAt(journal: Journal, head: string): number | undefined {
  const due = Object.values(journal.retries).flatMap((budget) => (budget.commit === head && budget.nextAt !== undefined ? [budget.nextAt] : []));
  return due.length === 0 ? undefined : Math.min(...due);
}
