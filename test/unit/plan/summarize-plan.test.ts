import { describe, expect, it } from 'vitest';
import { planRollout } from '../../../src/plan/plan-rollout.js';
import { summarizePlan } from '../../../src/plan/summarize-plan.js';
import { aDesiredState, aHost, anUnreachableHost, aPlacement, aService, convergedService, hash, runningUnit } from './builders.js';

describe('summarizePlan', () => {
  it('counts each action per service and host, and the hosts left alone', () => {
    const api = ['host-01', 'host-02', 'host-03', 'host-04', 'host-05'].map((host) => aPlacement('api', host));
    const observed = [
      aHost('host-01'), // create
      aHost('host-02', [convergedService({ ...api[1]!, release: hash('old') })]), // update
      aHost('host-03', [convergedService(api[2]!, { unit: runningUnit({ activeState: 'failed', subState: 'failed' }) })]), // restart
      aHost('host-04', [convergedService(api[3]!), convergedService(aPlacement('gone', 'host-04'))]), // unchanged + orphan
      anUnreachableHost('host-05'),
    ];
    const result = planRollout(aDesiredState([aService('api')], api), observed, { prune: { enabled: false, maxFraction: 0.5 } });
    expect(result.ok).toBe(true);
    expect(summarizePlan(result.plan)).toEqual({
      actions: { create: 1, update: 1, restart: 1, unchanged: 1, prune: 0 },
      unreachable: 1,
      blocked: 0,
      orphans: 1,
      services: 1,
      servicesChanging: 1,
    });
  });
});
