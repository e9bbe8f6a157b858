import { describe, expect, it } from 'vitest';
import { batchSize, splitIntoBatches } from '../../../src/plan/batches.js';
import type { Serial } from '../../../src/spec/model.js';

describe('batchSize', () => {
  it.each<{ serial: Serial; hosts: number; size: number }>([
    { serial: { kind: 'count', count: 2 }, hosts: 10, size: 2 },
    { serial: { kind: 'count', count: 0 }, hosts: 10, size: 1 },
    { serial: { kind: 'percent', percent: 25 }, hosts: 10, size: 3 },
    { serial: { kind: 'percent', percent: 10 }, hosts: 5, size: 1 },
    { serial: { kind: 'percent', percent: 1 }, hosts: 3, size: 1 },
    { serial: { kind: 'percent', percent: 50 }, hosts: 4, size: 2 },
    { serial: { kind: 'percent', percent: 33 }, hosts: 3, size: 1 },
    { serial: { kind: 'percent', percent: 34 }, hosts: 3, size: 2 },
    { serial: { kind: 'percent', percent: 100 }, hosts: 7, size: 7 },
  ])('takes $serial.kind $serial.count$serial.percent of $hosts hosts as $size (percent rounds up, never below 1)', ({ serial, hosts, size }) => {
    expect(batchSize(serial, hosts)).toBe(size);
  });
});

describe('splitIntoBatches', () => {
  const hosts = ['a', 'b', 'c', 'd', 'e', 'f'];

  it('puts the canary alone in the first batch', () => {
    expect(splitIntoBatches(hosts, { canary: 1, serial: { kind: 'count', count: 2 } }, 6)).toEqual([['a'], ['b', 'c'], ['d', 'e'], ['f']]);
  });

  it('starts straight with serial batches when canary is 0', () => {
    expect(splitIntoBatches(hosts, { canary: 0, serial: { kind: 'count', count: 4 } }, 6)).toEqual([['a', 'b', 'c', 'd'], ['e', 'f']]);
  });

  it('takes several canaries together when asked', () => {
    expect(splitIntoBatches(hosts, { canary: 2, serial: { kind: 'count', count: 3 } }, 6)).toEqual([['a', 'b'], ['c', 'd', 'e'], ['f']]);
  });

  it('sizes percent batches by all hosts of the service, not only the changing ones', () => {
    // 2 of 10 hosts change; 50% of 10 is 5, so both fit one batch after the canary.
    expect(splitIntoBatches(['a', 'b', 'c'], { canary: 1, serial: { kind: 'percent', percent: 50 } }, 10)).toEqual([['a'], ['b', 'c']]);
  });

  it('makes no batch when nothing changes', () => {
    expect(splitIntoBatches([], { canary: 1, serial: { kind: 'count', count: 1 } }, 4)).toEqual([]);
  });

  it('makes one batch when the canary covers every changing host', () => {
    expect(splitIntoBatches(['a'], { canary: 3, serial: { kind: 'count', count: 1 } }, 4)).toEqual([['a']]);
  });
});
