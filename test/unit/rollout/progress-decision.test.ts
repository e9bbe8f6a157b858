import { describe, expect, it } from 'vitest';
import { InternalError } from '../../../src/errors/index.js';
import { decideRollout, recordRolloutEvent, startRollout } from '../../../src/rollout/progress-decision.js';
import type { RolloutBudget, RolloutDecision, RolloutEvent, RolloutState } from '../../../src/rollout/progress-decision.js';
import { hintOf } from '../../../src/errors/index.js';
import { aBudget, aServicePlan, failedByChange, healthy, started, unreachable } from './builders.js';

const BATCHES = [['h1'], ['h2', 'h3'], ['h4', 'h5']];

function after(events: RolloutEvent[], budget: RolloutBudget = aBudget(), batches = BATCHES, plan = aServicePlan(batches)): RolloutState {
  return events.reduce(recordRolloutEvent, startRollout(plan, budget, 0));
}

function decide(events: RolloutEvent[], budget?: RolloutBudget, now = 1_000): RolloutDecision {
  return decideRollout(after(events, budget), now);
}

describe('decideRollout', () => {
  it('starts with the first batch', () => {
    expect(decide([])).toEqual({ kind: 'start-batch', index: 0, hosts: ['h1'] });
  });

  it('waits while the current batch is unfinished', () => {
    expect(decide([started('h1')])).toMatchObject({ kind: 'wait', inFlight: ['h1'], deadlineAt: 600_000 });
    expect(decide([started('h1'), healthy('h1'), started('h2'), healthy('h2')])).toMatchObject({ kind: 'wait', inFlight: [] });
    expect(decide([started('h1'), healthy('h1'), started('h2'), healthy('h2'), started('h3')])).toMatchObject({ kind: 'wait', inFlight: ['h3'] });
  });

  it('starts the next batch once every host of the current one is healthy', () => {
    expect(decide([started('h1'), healthy('h1')])).toEqual({ kind: 'start-batch', index: 1, hosts: ['h2', 'h3'] });
  });

  it('is done and succeeded when the last batch is healthy', () => {
    const events = ['h1', 'h2', 'h3', 'h4', 'h5'].flatMap((host) => [started(host), healthy(host)]);
    const decision = decide(events);
    expect(decision).toMatchObject({ kind: 'done', outcome: { result: 'succeeded', cause: undefined } });
    if (decision.kind !== 'done') return;
    expect(decision.outcome.evidence.map((host) => [host.host, host.state])).toEqual(['h1', 'h2', 'h3', 'h4', 'h5'].map((host) => [host, 'healthy']));
  });

  it('is done at once for a service with nothing to change', () => {
    expect(decideRollout(startRollout(aServicePlan([]), aBudget(), 0), 0)).toMatchObject({ kind: 'done', outcome: { result: 'succeeded' } });
  });

  it('stops on the first change-caused failure with the default budget of 0', () => {
    const decision = decide([started('h1'), healthy('h1'), started('h2'), started('h3'), failedByChange('h2', 500)]);
    expect(decision).toMatchObject({
      kind: 'stop',
      code: 'E_FAILURE_BUDGET',
      errorClass: 'change',
      inFlight: ['h3'],
      firstChangeFailure: { host: 'h2', code: 'E_HEALTHY_DEADLINE' },
      outcome: { result: 'failed-change', cause: { host: 'h2' } },
    });
  });

  it('stops when a canary fails because of the change, whatever the budget', () => {
    const decision = decide([started('h1'), failedByChange('h1', 10, 'E_UNIT_FAILED')], aBudget({ maxFailedHosts: 3 }));
    expect(decision).toMatchObject({ kind: 'stop', code: 'E_CANARY_FAILED', errorClass: 'change', outcome: { result: 'failed-change' } });
  });

  it('goes on past an unreachable canary within the budget (it is not evidence against the version)', () => {
    expect(decide([started('h1'), unreachable('h1')], aBudget({ maxFailedHosts: 1 }))).toMatchObject({ kind: 'start-batch', index: 1 });
  });

  it('tolerates failures up to max_failed_hosts and never starts a batch while over it', () => {
    const budget = aBudget({ canary: 0, maxFailedHosts: 1 });
    const oneFailed = [started('h1'), failedByChange('h1')];
    expect(decide(oneFailed, budget)).toMatchObject({ kind: 'start-batch', index: 1 });
    const twoFailed = [...oneFailed, started('h2'), started('h3'), failedByChange('h2'), healthy('h3')];
    expect(decide(twoFailed, budget)).toMatchObject({ kind: 'stop', code: 'E_FAILURE_BUDGET' });
  });

  it('counts an unreachable host against the budget as transient', () => {
    const decision = decide([started('h1'), healthy('h1'), started('h2'), unreachable('h2')]);
    expect(decision).toMatchObject({
      kind: 'stop',
      code: 'E_FAILURE_BUDGET',
      errorClass: 'transient',
      firstChangeFailure: undefined,
      outcome: { result: 'failed-transient', cause: { host: 'h2', errorClass: 'transient', code: 'E_HOST_UNREACHABLE' } },
    });
  });

  it('counts hosts the plan found unreachable against the budget from the start', () => {
    const plan = aServicePlan(BATCHES, { unreachable: [{ host: 'h9', code: 'E_HOST_UNREACHABLE', errorClass: 'transient', message: 'timed out' }] });
    const withBudget = (maxFailedHosts: number): RolloutDecision => decideRollout(startRollout(plan, aBudget({ maxFailedHosts }), 0), 0);
    expect(withBudget(0)).toMatchObject({ kind: 'stop', code: 'E_FAILURE_BUDGET', outcome: { result: 'failed-transient' } });
    expect(withBudget(1)).toMatchObject({ kind: 'start-batch', index: 0 });
  });

  it('names a stop after the change when a version failed and a host was unreachable', () => {
    const decision = decide([started('h1'), healthy('h1'), started('h2'), started('h3'), unreachable('h2', 5), failedByChange('h3', 9)], aBudget({ maxFailedHosts: 1 }));
    expect(decision).toMatchObject({ kind: 'stop', errorClass: 'change', outcome: { result: 'failed-change', cause: { host: 'h3' } } });
  });

  it('classifies a host whose key changed as a conflict, not as a transient outage', () => {
    const plan = aServicePlan(BATCHES, { unreachable: [{ host: 'h9', code: 'E_HOSTKEY', errorClass: 'conflict', message: 'host key changed' }] });
    expect(decideRollout(startRollout(plan, aBudget(), 0), 0)).toMatchObject({ kind: 'stop', outcome: { result: 'failed-conflict' } });
  });

  it('classifies a host blocked by a foreign unit as a conflict', () => {
    const plan = aServicePlan(BATCHES, { blocked: [{ host: 'h9', code: 'E_FOREIGN_UNIT', errorClass: 'conflict', message: 'not ours' }] });
    expect(decideRollout(startRollout(plan, aBudget(), 0), 0)).toMatchObject({ kind: 'stop', outcome: { result: 'failed-conflict' } });
  });

  it.each([
    { errorClass: 'invalid', result: 'failed-invalid' },
    { errorClass: 'internal', result: 'failed-internal' },
  ] as const)('classifies a stop on a $errorClass failure as $result', ({ errorClass, result }) => {
    const decision = decide([started('h1'), { type: 'host-failed', host: 'h1', at: 1, errorClass, code: 'E_X', detail: 'x' }]);
    expect(decision).toMatchObject({ kind: 'stop', outcome: { result } });
  });

  describe('progress deadline', () => {
    const budget = aBudget({ progressDeadline: 100_000 });

    it('stops when no host became healthy within progress_deadline of the start', () => {
      const state = after([started('h1')], budget);
      expect(decideRollout(state, 99_999)).toMatchObject({ kind: 'wait', deadlineAt: 100_000 });
      expect(decideRollout(state, 100_000)).toMatchObject({ kind: 'stop', code: 'E_PROGRESS_DEADLINE', inFlight: ['h1'] });
    });

    it('runs from the last host that became healthy', () => {
      const state = after([started('h1'), healthy('h1', 80_000), started('h2', 80_000), started('h3', 80_000)], budget);
      expect(decideRollout(state, 150_000)).toMatchObject({ kind: 'wait', deadlineAt: 180_000 });
      expect(decideRollout(state, 180_000)).toMatchObject({ kind: 'stop', code: 'E_PROGRESS_DEADLINE' });
    });

    it('blames the version only with a change-caused failure as evidence', () => {
      const tolerant = aBudget({ canary: 0, progressDeadline: 100_000, maxFailedHosts: 2 });
      const stalled = after([started('h1'), unreachable('h1', 10), started('h2', 20), started('h3', 20)], tolerant);
      expect(decideRollout(stalled, 100_000)).toMatchObject({ code: 'E_PROGRESS_DEADLINE', errorClass: 'transient', outcome: { result: 'failed-transient' } });
      const bad = after([started('h1'), failedByChange('h1', 10), started('h2', 20), started('h3', 20)], tolerant);
      expect(decideRollout(bad, 100_000)).toMatchObject({ code: 'E_PROGRESS_DEADLINE', errorClass: 'change', outcome: { result: 'failed-change' } });
    });
  });

  describe('recordRolloutEvent', () => {
    it('keeps the first verdict on a host', () => {
      const state = after([started('h1'), failedByChange('h1'), healthy('h1', 5)]);
      expect(state.hosts.get('h1')?.state).toBe('failed');
    });

    it('treats an event for a host outside the rollout as tend\'s bug', () => {
      expect(() => after([started('h7')])).toThrow(InternalError);
    });
  });

  it('stops with a registered code whose hint names the budget', () => {
    const decision = decide([started('h1'), failedByChange('h1')], aBudget({ canary: 0 }));
    if (decision.kind !== 'stop') throw new Error(`expected stop, got ${decision.kind}`);
    expect(decision).toMatchObject({ code: 'E_FAILURE_BUDGET', errorClass: 'change' });
    expect(hintOf(decision.code)).toMatch(/max_failed_hosts/);
  });
});
