import { describe, expect, it } from 'vitest';
import { Semaphore } from '../../../src/hosts/semaphore.js';

describe('Semaphore', () => {
  it('never lets more than its limit run and starts waiters in arrival order', async () => {
    const semaphore = new Semaphore(2);
    let running = 0;
    let peak = 0;
    const started: number[] = [];
    const gates: Array<() => void> = [];
    const tasks = Array.from({ length: 6 }, (_, i) =>
      semaphore.use(async () => {
        started.push(i);
        running += 1;
        peak = Math.max(peak, running);
        await new Promise<void>((resolve) => gates.push(resolve));
        running -= 1;
      }),
    );
    while (started.length < 6) {
      await new Promise((resolve) => setImmediate(resolve));
      gates.shift()?.();
    }
    gates.forEach((open) => open());
    await Promise.all(tasks);
    expect(peak).toBe(2);
    expect(started).toEqual([0, 1, 2, 3, 4, 5]);
    expect(semaphore.inUse).toBe(0);
  });

  it('frees the slot when the work throws', async () => {
    const semaphore = new Semaphore(1);
    await expect(semaphore.use(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(semaphore.inUse).toBe(0);
  });

  it('starts waiters in arrival order as soon as the limit is raised', async () => {
    const semaphore = new Semaphore(1);
    const first = await semaphore.acquire();
    const started: number[] = [];
    const waiters = [1, 2, 3].map((i) => semaphore.acquire().then((release) => (started.push(i), release)));
    semaphore.setLimit(3);
    await new Promise((resolve) => setImmediate(resolve));
    expect(started).toEqual([1, 2]);
    expect(semaphore.inUse).toBe(3);
    first();
    for (const release of await Promise.all(waiters)) release();
    expect(started).toEqual([1, 2, 3]);
    expect(semaphore.inUse).toBe(0);
  });

  it('after a cut, starts no waiter until the holders are under the new limit', async () => {
    const semaphore = new Semaphore(3);
    const holders = await Promise.all([semaphore.acquire(), semaphore.acquire(), semaphore.acquire()]);
    let started = false;
    const waiter = semaphore.acquire().then((release) => ((started = true), release));
    semaphore.setLimit(1);
    holders[0]?.();
    holders[1]?.();
    await new Promise((resolve) => setImmediate(resolve));
    expect(started).toBe(false);
    expect(semaphore.inUse).toBe(1);
    holders[2]?.();
    (await waiter)();
    expect(started).toBe(true);
    expect(semaphore.inUse).toBe(0);
  });

  it('refuses a limit that is not a positive integer', () => {
    expect(() => new Semaphore(2).setLimit(0)).toThrow(RangeError);
  });
});
