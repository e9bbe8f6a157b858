import { describe, expect, it } from 'vitest';
import { InternalError } from '../../../src/errors/index.js';
import { DEFAULT_RETRY_POLICY, nextRetry } from '../../../src/rollout/retry-policy.js';

const POLICY = { maxAttempts: 5, baseDelayMs: 1_000, maxDelayMs: 5_000 };
const always = (value: number) => (): number => value;

describe('nextRetry', () => {
  it.each([
    { attempt: 1, cap: 1_000 },
    { attempt: 2, cap: 2_000 },
    { attempt: 3, cap: 4_000 },
    { attempt: 4, cap: 5_000 },
  ])('caps the delay after attempt $attempt at $cap ms (exponential, bounded by maxDelayMs)', ({ attempt, cap }) => {
    expect(nextRetry(attempt, POLICY, always(0.999_999))).toEqual({ kind: 'retry', delayMs: Math.floor(0.999_999 * cap) });
  });

  it('spreads delays over the whole range with full jitter', () => {
    expect(nextRetry(3, POLICY, always(0))).toEqual({ kind: 'retry', delayMs: 0 });
    expect(nextRetry(3, POLICY, always(0.5))).toEqual({ kind: 'retry', delayMs: 2_000 });
  });

  it('gives up after maxAttempts attempts', () => {
    expect(nextRetry(5, POLICY, always(0.5))).toEqual({ kind: 'give-up', attempts: 5 });
  });

  it('never waits longer than maxDelayMs, however many attempts', () => {
    expect(nextRetry(1_000, { ...POLICY, maxAttempts: 2_000 }, always(0.999_999))).toEqual({ kind: 'retry', delayMs: 4_999 });
  });

  it('keeps an out-of-range random value inside the range', () => {
    expect(nextRetry(1, POLICY, always(7))).toEqual({ kind: 'retry', delayMs: 1_000 });
    expect(nextRetry(1, POLICY, always(-1))).toEqual({ kind: 'retry', delayMs: 0 });
  });

  it.each([Number.POSITIVE_INFINITY, 0, 2.5])('refuses a policy without a finite attempt limit (%s)', (maxAttempts) => {
    expect(() => nextRetry(1, { ...POLICY, maxAttempts }, always(0.5))).toThrow(InternalError);
  });

  it('refuses attempt numbers below 1', () => {
    expect(() => nextRetry(0, POLICY, always(0.5))).toThrow(InternalError);
  });

  it('has a default policy that gives up', () => {
    expect(nextRetry(DEFAULT_RETRY_POLICY.maxAttempts, DEFAULT_RETRY_POLICY, always(0.5)).kind).toBe('give-up');
  });
});
