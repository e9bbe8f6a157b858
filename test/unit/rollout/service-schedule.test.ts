import { describe, expect, it } from 'vitest';
import { scheduleServices, type ServiceProgress } from '../../../src/rollout/service-schedule.js';

// api and queue are independent; gateway comes after api; edge after gateway.
const SERVICES = [
  { service: 'api', waitsFor: [] },
  { service: 'queue', waitsFor: [] },
  { service: 'gateway', waitsFor: ['api'] },
  { service: 'edge', waitsFor: ['gateway', 'db'] },
];

function step(progress: Record<string, ServiceProgress>, limit = 4) {
  return scheduleServices(SERVICES, new Map(Object.entries(progress)), limit);
}

describe('scheduleServices', () => {
  it.each<[string, Record<string, ServiceProgress>, number, string[], string[]]>([
    ['starts every independent service together', {}, 4, ['api', 'queue'], []],
    ['keeps within the limit, in after: order', {}, 1, ['api'], []],
    ['counts running services against the limit', { api: 'running' }, 2, ['queue'], []],
    ['starts a service once what it comes after is healthy', { api: 'healthy', queue: 'running' }, 4, ['gateway'], []],
    ['waits while what it comes after still runs', { api: 'running', queue: 'healthy' }, 4, [], []],
    ['ignores an after: outside this apply (checked before the apply)', { api: 'healthy', queue: 'healthy', gateway: 'healthy' }, 4, ['edge'], []],
    ['a failure skips only what comes after it, down the chain', { api: 'failed', queue: 'running' }, 4, [], ['gateway', 'edge']],
    ['a failure leaves independent services running and starting', { api: 'failed' }, 4, ['queue'], ['gateway', 'edge']],
  ])('%s', (_, progress, limit, start, skip) => {
    const result = step(progress, limit);
    expect(result.start).toEqual(start);
    expect(result.skip.map((one) => one.service)).toEqual(skip);
  });
});
