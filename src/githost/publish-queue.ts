import { asTendError } from '../errors/index.js';
import { RetryingQueue, type GitHostPublishKind, type Logger, type QueueEffects, type RetryBudget } from '../observability/index.js';
import { GitHostCallError } from './githost-api.js';

export type PublishEffects = QueueEffects;

/** How hard tend tries one call to the git host's API before it gives up on it. */
export const DEFAULT_PUBLISH_BUDGET: RetryBudget = { maxAttempts: 5, budgetMs: 120_000, baseDelayMs: 1_000, maxDelayMs: 30_000 };

/** What a publication is: a commit status or a pull request's comment (as the metrics name it). */
export type PublishKind = GitHostPublishKind;

interface Job {
  /** Calls with the same key replace each other while waiting: only the newest status of a commit matters. */
  readonly key: string;
  readonly kind: PublishKind;
  readonly run: () => Promise<unknown>;
}

/** Counted by the daemon's metrics: publications that never reached the git host. */
export interface PublishLosses {
  gaveUp(kind: PublishKind): void;
  dropped(kind: PublishKind): void;
}

/**
 * Calls to the git host, one at a time in order, off the caller's path: `enqueue` returns at once, so a
 * slow or down git host never holds up a reconcile pass or a webhook answer. Each call is retried within
 * `budget`; past `maxQueue` waiting calls the oldest is dropped and logged. Logs name the call by its key
 * (a context and sha, or a pull request), never the token.
 */
export class PublishQueue {
  readonly #queue: RetryingQueue<Job>;

  constructor(budget: RetryBudget, maxQueue: number, effects: PublishEffects, logger: Logger, losses?: PublishLosses) {
    this.#queue = new RetryingQueue<Job>({
      budget,
      maxQueue,
      effects,
      replaces: (waiting, job) => waiting.key === job.key,
      attempt: async (job) => {
        try {
          await job.run();
          return { ok: true };
        } catch (thrown) {
          const error = asTendError(thrown);
          const retryAfterMs = thrown instanceof GitHostCallError ? thrown.retryAfterMs : undefined;
          return { ok: false, retryable: error.retryable, reason: error.message, code: error.code, retryAfterMs };
        }
      },
      reports: {
        delivered: (job, attempt) => logger.info({ call: job.key, attempt }, 'published to the git host'),
        retrying: (job, attempt, failure, delay) => logger.warn({ call: job.key, attempt, code: failure.code, err: failure.reason, retryInMs: delay }, 'publishing to the git host failed; retrying'),
        gaveUp: (job, attempt, failure) => {
          logger.error({ call: job.key, attempt, code: failure.code, err: failure.reason, retryable: failure.retryable }, 'not published to the git host; gave up');
          losses?.gaveUp(job.kind);
        },
        dropped: (job) => {
          logger.warn({ call: job.key, maxQueue }, 'git host publish queue full; dropped the oldest');
          losses?.dropped(job.kind);
        },
        crashed: (job, error) => {
          logger.error({ call: job.key, err: error instanceof Error ? error.message : String(error) }, 'publishing to the git host crashed');
          losses?.gaveUp(job.kind);
        },
      },
    });
  }

  enqueue(key: string, kind: PublishKind, run: () => Promise<unknown>): void {
    this.#queue.enqueue({ key, kind, run });
  }

  /** Resolves once every queued call was made or given up on (shutdown, tests). */
  drain(): Promise<void> {
    return this.#queue.drain();
  }
}
