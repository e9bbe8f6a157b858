import { describe, expect, it } from 'vitest';
import { RetryingQueue, type AttemptResult, type QueueReports } from '../../../src/observability/index.js';

/** The one queue behind notifications and git host publications: order, drop-oldest, replacement, crashes. */

function recordingQueue(attempt: (job: string) => Promise<AttemptResult>, options: { maxQueue?: number; replaces?: (a: string, b: string) => boolean } = {}) {
  const events: string[] = [];
  const reports: QueueReports<string> = {
    delivered: (job, n) => events.push(`delivered ${job} #${n}`),
    retrying: (job, n, _failure, delay) => events.push(`retrying ${job} #${n} in ${delay}`),
    gaveUp: (job, n, failure) => events.push(`gave up ${job} #${n}: ${failure.reason}`),
    dropped: (job) => events.push(`dropped ${job}`),
    crashed: (job) => events.push(`crashed ${job}`),
  };
  let clock = 0;
  const queue = new RetryingQueue<string>({
    budget: { maxAttempts: 3, budgetMs: 60_000, baseDelayMs: 1_000, maxDelayMs: 8_000 },
    maxQueue: options.maxQueue ?? 10,
    effects: { clock: () => clock, sleep: async (ms) => void (clock += ms) },
    attempt,
    ...(options.replaces === undefined ? {} : { replaces: options.replaces }),
    reports,
  });
  return { queue, events };
}

describe('RetryingQueue', () => {
  it('drops the oldest waiting job past maxQueue, never the newest', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const { queue, events } = recordingQueue(async (job) => {
      if (job === 'a') await gate;
      return { ok: true };
    }, { maxQueue: 2 });
    for (const job of ['a', 'b', 'c', 'd']) queue.enqueue(job);
    release();
    await queue.drain();
    expect(events).toEqual(['dropped b', 'delivered a #1', 'delivered c #1', 'delivered d #1']);
  });

  it('replaces a waiting job the new one makes pointless', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const { queue, events } = recordingQueue(async (job) => {
      if (job === 'first') await gate;
      return { ok: true };
    }, { replaces: (waiting, job) => waiting[0] === job[0] });
    for (const job of ['first', 'x1', 'y', 'x2']) queue.enqueue(job);
    release();
    await queue.drain();
    expect(events).toEqual(['delivered first #1', 'delivered y #1', 'delivered x2 #1']);
  });

  it('retries a retryable failure with doubling waits and gives up after the attempt limit', async () => {
    const { queue, events } = recordingQueue(async () => ({ ok: false, retryable: true, reason: 'HTTP 503', retryAfterMs: undefined }));
    queue.enqueue('a');
    await queue.drain();
    expect(events).toEqual(['retrying a #1 in 1000', 'retrying a #2 in 2000', 'gave up a #3: HTTP 503']);
  });

  it('does not retry a refusal, and a crashing job stops no later one', async () => {
    const { queue, events } = recordingQueue(async (job) => {
      if (job === 'boom') throw new Error('bug');
      return job === 'refused' ? { ok: false, retryable: false, reason: 'HTTP 401', retryAfterMs: undefined } : { ok: true };
    });
    for (const job of ['refused', 'boom', 'fine']) queue.enqueue(job);
    await queue.drain();
    expect(events).toEqual(['gave up refused #1: HTTP 401', 'crashed boom', 'delivered fine #1']);
  });
});
