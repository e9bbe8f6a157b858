import type { Logger } from './logger.js';
import { RetryingQueue, type AttemptResult } from './retrying-queue.js';

export interface DeliveryPolicy {
  /** One POST gives up after this long. */
  readonly timeoutMs: number;
  /** Attempts per notification, the first included. */
  readonly maxAttempts: number;
  /** All attempts and waits of one notification fit in this; a retry that would overrun it is not made. */
  readonly budgetMs: number;
  /** The wait before the second attempt; doubles after each failure up to `maxBackoffMs`. */
  readonly backoffMs: number;
  readonly maxBackoffMs: number;
  /** Notifications waiting; past it the oldest is dropped (and logged), never the caller blocked. */
  readonly maxQueue: number;
}

export const DEFAULT_DELIVERY_POLICY: DeliveryPolicy = { timeoutMs: 10_000, maxAttempts: 5, budgetMs: 120_000, backoffMs: 1_000, maxBackoffMs: 30_000, maxQueue: 100 };

export interface WebhookEffects {
  readonly fetch: typeof fetch;
  readonly sleep: (ms: number) => Promise<void>;
  readonly clock: () => number;
}

/** What the logs may say about a queued notification: never its body's target. */
export interface DeliveryLabel {
  readonly event: string;
  readonly key: string;
}

interface Queued {
  readonly body: string;
  readonly label: DeliveryLabel;
}

/**
 * POSTs JSON bodies to one webhook, one at a time in order, off the caller's path. The URL may carry a
 * token in its path or query (Slack's do), so it is logged only as its origin and scrubbed from errors.
 */
export class WebhookQueue {
  readonly #url: URL;
  readonly #origin: string;
  readonly #policy: DeliveryPolicy;
  readonly #effects: WebhookEffects;
  readonly #queue: RetryingQueue<Queued>;

  constructor(url: URL, policy: DeliveryPolicy, effects: WebhookEffects, logger: Logger) {
    this.#url = url;
    this.#origin = url.origin;
    this.#policy = policy;
    this.#effects = effects;
    const fields = (item: Queued, attempt?: number) => ({ origin: this.#origin, event: item.label.event, key: item.label.key, ...(attempt === undefined ? {} : { attempt }) });
    this.#queue = new RetryingQueue<Queued>({
      budget: { maxAttempts: policy.maxAttempts, budgetMs: policy.budgetMs, baseDelayMs: policy.backoffMs, maxDelayMs: policy.maxBackoffMs },
      maxQueue: policy.maxQueue,
      effects,
      attempt: (item, leftMs) => this.#attempt(item.body, Math.max(1, Math.min(this.#policy.timeoutMs, leftMs))),
      reports: {
        delivered: (item, attempt) => logger.info(fields(item, attempt), 'notification delivered'),
        retrying: (item, attempt, failure, delay) => logger.warn({ ...fields(item, attempt), reason: failure.reason, retryInMs: delay }, 'notification delivery failed; retrying'),
        gaveUp: (item, attempt, failure) => logger.error({ ...fields(item, attempt), reason: failure.reason, retryable: failure.retryable }, 'notification not delivered; gave up'),
        dropped: (item) => logger.warn({ ...fields(item), maxQueue: this.#policy.maxQueue }, 'notification queue full; dropped the oldest'),
        // A bug here must not stop later notifications nor reach the daemon as an unhandled rejection.
        crashed: (item, error) => logger.error({ ...fields(item), err: this.#scrub(String(error)) }, 'notification delivery crashed'),
      },
    });
  }

  /** Returns at once; delivery happens on its own. */
  enqueue(body: string, label: DeliveryLabel): void {
    this.#queue.enqueue({ body, label });
  }

  /** Resolves when every queued notification was delivered or given up on. */
  drain(): Promise<void> {
    return this.#queue.drain();
  }

  async #attempt(body: string, timeoutMs: number): Promise<AttemptResult> {
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), timeoutMs);
    try {
      const response = await this.#effects.fetch(this.#url, {
        method: 'POST',
        headers: { 'content-type': 'application/json; charset=utf-8', 'user-agent': 'tend' },
        body,
        signal: abort.signal,
        // A redirected POST becomes a GET elsewhere; the receiver should be configured with its real URL.
        redirect: 'manual',
      });
      await response.body?.cancel();
      if (response.status >= 200 && response.status < 300) return { ok: true };
      // 408 and 429 are the receiver asking to come back; other 4xx (a revoked Slack hook) will not change.
      const retry = response.status >= 500 || response.status === 408 || response.status === 429;
      return { ok: false, retryable: retry, reason: `HTTP ${response.status}`, retryAfterMs: retryAfterMs(response.headers.get('retry-after')) };
    } catch (error) {
      if (abort.signal.aborted) return { ok: false, retryable: true, reason: `no answer within ${timeoutMs} ms`, retryAfterMs: undefined };
      return { ok: false, retryable: true, reason: this.#describe(error), retryAfterMs: undefined };
    } finally {
      clearTimeout(timer);
    }
  }

  /** fetch's errors name the URL ("Failed to parse URL from …"); keep the code, scrub the rest. */
  #describe(error: unknown): string {
    const cause = error instanceof Error && error.cause instanceof Error ? error.cause : undefined;
    const code = cause !== undefined && 'code' in cause && typeof cause.code === 'string' ? cause.code : undefined;
    const message = error instanceof Error ? error.message : String(error);
    return this.#scrub(code === undefined ? message : `${message} (${code})`);
  }

  #scrub(text: string): string {
    const secrets = [this.#url.href, `${this.#url.pathname}${this.#url.search}`, this.#url.search, this.#url.pathname, this.#url.password, this.#url.username]
      .filter((secret) => secret.length > 1)
      .sort((a, b) => b.length - a.length);
    let scrubbed = text;
    for (const secret of secrets) scrubbed = scrubbed.split(secret).join('[redacted]');
    return scrubbed;
  }
}

function retryAfterMs(header: string | null): number | undefined {
  if (header === null || !/^\d+$/.test(header.trim())) return undefined;
  return Number(header.trim()) * 1000;
}
