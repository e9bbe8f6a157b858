import { describe, expect, it } from 'vitest';
import { PlanQueue } from '../../../src/preview/index.js';

/** Plans of refs run one at a time, join a plan of the same ref, and are refused beyond the bound. */

function deferred(): { promise: Promise<string>; resolve: (value: string) => void } {
  let resolve!: (value: string) => void;
  const promise = new Promise<string>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}

describe('PlanQueue', () => {
  it('starts a plan only after the one before it finished', async () => {
    const queue = new PlanQueue<string>(4);
    const first = deferred();
    const started: string[] = [];
    const a = queue.run('a', async () => {
      started.push('a');
      return first.promise;
    });
    const b = queue.run('b', async () => {
      started.push('b');
      return 'b';
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(started).toEqual(['a']);
    first.resolve('a');
    expect(await Promise.all([a, b])).toEqual(['a', 'b']);
    expect(started).toEqual(['a', 'b']);
  });

  it('gives a request for a ref already waiting the same plan instead of a second one', async () => {
    const queue = new PlanQueue<string>(4);
    let runs = 0;
    const work = async () => {
      runs += 1;
      return 'planned';
    };
    expect(await Promise.all([queue.run('feature', work), queue.run('feature', work)])).toEqual(['planned', 'planned']);
    expect(runs).toBe(1);
  });

  it('refuses a request beyond the running plan and maxWaiting others with E_PLAN_BUSY', async () => {
    const queue = new PlanQueue<string>(1);
    const hold = deferred();
    const running = queue.run('a', () => hold.promise);
    const waiting = queue.run('b', async () => 'b');
    await expect(queue.run('c', async () => 'c')).rejects.toMatchObject({ code: 'E_PLAN_BUSY', errorClass: 'transient' });
    hold.resolve('a');
    await Promise.all([running, waiting]);
    expect(await queue.run('c', async () => 'c')).toBe('c');
  });

  it('runs the next plan after one that failed', async () => {
    const queue = new PlanQueue<string>(4);
    const failed = queue.run('a', async () => {
      throw new Error('host down');
    });
    await expect(failed).rejects.toThrow('host down');
    expect(await queue.run('b', async () => 'b')).toBe('b');
  });
});
