import { describe, expect, it } from 'vitest';
import type { UnitProperties } from '../../../src/hosts/observed.js';
import { judgeHealth, runStartedByRestart } from '../../../src/rollout/health-decision.js';
import type { HealthInput, HealthObservation, ProbeResult } from '../../../src/rollout/health-decision.js';

const TIMING = { minHealthyTime: 10_000, healthyDeadline: 60_000 };
const BEFORE = { invocationId: 'old-run', nRestarts: 0 };

function unit(overrides: Partial<UnitProperties> = {}): UnitProperties {
  return {
    activeState: 'active',
    subState: 'running',
    invocationId: 'new-run',
    nRestarts: 0,
    needDaemonReload: false,
    mainPid: 42,
    unitFileState: 'enabled',
    ...overrides,
  };
}

const OK: ProbeResult = { ok: true, status: 200, latencyMs: 3 };
const REFUSED: ProbeResult = { ok: false, latencyMs: 1, error: 'connection refused' };

function look(at: number, probe: ProbeResult | undefined, overrides: Partial<UnitProperties> = {}): HealthObservation {
  return { at, unit: unit(overrides), probe };
}

function judge(observations: HealthObservation[], overrides: Partial<HealthInput> = {}): ReturnType<typeof judgeHealth> {
  const last = observations.at(-1)?.at ?? 0;
  return judgeHealth({ before: BEFORE, restartedAt: 0, observations, timing: TIMING, hasProbe: true, now: last, ...overrides });
}

describe('judgeHealth', () => {
  it('is healthy once the new run passed its probe continuously for minHealthyTime', () => {
    const verdict = judge([look(1_000, OK), look(6_000, OK), look(11_000, OK)]);
    expect(verdict).toMatchObject({ state: 'healthy', code: 'HEALTHY', at: 11_000 });
  });

  it('stays pending while the streak is shorter than minHealthyTime', () => {
    expect(judge([look(1_000, OK), look(6_000, OK)])).toMatchObject({ state: 'pending', code: 'HEALTHY_STREAK' });
  });

  it('measures the streak between observations, never to now', () => {
    expect(judge([look(1_000, OK)], { now: 50_000 })).toMatchObject({ state: 'pending', code: 'HEALTHY_STREAK' });
  });

  it('resets the healthy streak after a failed probe', () => {
    const observations = [look(1_000, OK), look(6_000, REFUSED), look(8_000, OK), look(13_000, OK)];
    expect(judge(observations)).toMatchObject({ state: 'pending', code: 'HEALTHY_STREAK', detail: 'passing for 5000 of 10000 ms' });
    expect(judge([...observations, look(18_000, OK)])).toMatchObject({ state: 'healthy', at: 18_000 });
  });

  it('reports the failing probe while pending', () => {
    expect(judge([look(1_000, REFUSED)])).toMatchObject({ state: 'pending', code: 'PROBE_FAILING', lastProbe: REFUSED });
  });

  it('ignores the old run answering probes before the new run appears', () => {
    const oldRun = { invocationId: 'old-run' };
    const verdict = judge([look(1_000, OK, oldRun), look(6_000, OK, oldRun), look(12_000, OK, oldRun)]);
    expect(verdict).toMatchObject({ state: 'pending', code: 'AWAITING_NEW_RUN' });
  });

  it('starts the streak at the new run, not at the restart', () => {
    const verdict = judge([look(1_000, OK, { invocationId: 'old-run' }), look(5_000, OK), look(14_000, OK)]);
    expect(verdict).toMatchObject({ state: 'pending', code: 'HEALTHY_STREAK' });
  });

  it.each([
    { name: 'fails a run that restarted (NRestarts grew)', looks: [look(1_000, OK), look(3_000, OK, { nRestarts: 1 })], code: 'E_UNIT_RESTARTED' },
    {
      name: 'fails a run that crashed before the first look (NRestarts above its value before the restart)',
      looks: [look(1_000, OK, { nRestarts: 2 })],
      code: 'E_UNIT_RESTARTED',
    },
    { name: 'fails a run replaced by another invocation', looks: [look(1_000, OK), look(3_000, OK, { invocationId: 'third-run' })], code: 'E_UNIT_RESTARTED' },
    { name: 'fails a run systemd is about to restart', looks: [look(1_000, undefined, { activeState: 'activating', subState: 'auto-restart' })], code: 'E_UNIT_RESTARTED' },
    { name: 'fails a failed unit at once', looks: [look(1_000, REFUSED, { activeState: 'failed', subState: 'failed' })], code: 'E_UNIT_FAILED' },
    { name: 'fails a run that exited', looks: [look(1_000, OK), look(2_000, REFUSED, { activeState: 'inactive', subState: 'dead' })], code: 'E_UNIT_FAILED' },
  ])('$name', ({ looks, code }) => {
    const verdict = judge(looks);
    expect(verdict).toMatchObject({ state: 'failed', code, errorClass: 'change' });
  });

  it('fails at once even when the failure is before minHealthyTime could pass', () => {
    const verdict = judge([look(1_000, OK), look(2_000, OK, { activeState: 'failed', subState: 'failed' })]);
    expect(verdict).toMatchObject({ state: 'failed', code: 'E_UNIT_FAILED', at: 2_000, lastProbe: OK });
  });

  it('accepts a manual restart that reset NRestarts to 0', () => {
    const verdict = judge([look(1_000, OK), look(11_000, OK)], { before: { invocationId: 'old-run', nRestarts: 4 } });
    expect(verdict.state).toBe('healthy');
  });

  it('fails at healthyDeadline after the restart, carrying the last probe', () => {
    const verdict = judge([look(1_000, REFUSED), look(30_000, REFUSED)], { now: 60_000 });
    expect(verdict).toMatchObject({ state: 'failed', code: 'E_HEALTHY_DEADLINE', at: 60_000, lastProbe: REFUSED });
    expect(verdict.detail).toContain('connection refused');
  });

  it('stays pending just before healthyDeadline', () => {
    expect(judge([look(1_000, REFUSED)], { now: 59_999 }).state).toBe('pending');
  });

  it('does not count a streak completed after the deadline', () => {
    const verdict = judge([look(55_000, OK), look(61_000, OK), look(66_000, OK)], { now: 66_000 });
    expect(verdict).toMatchObject({ state: 'failed', code: 'E_HEALTHY_DEADLINE' });
  });

  it('fails at the deadline when no new run ever appeared', () => {
    const verdict = judge([look(10_000, OK, { invocationId: 'old-run' })], { now: 60_000 });
    expect(verdict).toMatchObject({ state: 'failed', code: 'E_HEALTHY_DEADLINE' });
    expect(verdict.detail).toContain('InvocationID old-run');
  });

  it('waits for a starting unit without starting the streak', () => {
    const verdict = judge([look(1_000, undefined, { activeState: 'activating', subState: 'start' })]);
    expect(verdict).toMatchObject({ state: 'pending', code: 'UNIT_STARTING' });
  });

  it('judges a service without a probe healthy when active/running for minHealthyTime', () => {
    expect(judge([look(1_000, undefined), look(11_000, undefined)], { hasProbe: false })).toMatchObject({ state: 'healthy', at: 11_000 });
    expect(judge([look(1_000, undefined), look(9_000, undefined)], { hasProbe: false }).state).toBe('pending');
  });

  it('neither extends nor breaks the streak with a look that carried no probe result', () => {
    const verdict = judge([look(1_000, OK), look(5_000, undefined), look(11_000, OK)]);
    expect(verdict.state).toBe('healthy');
    expect(judge([look(1_000, undefined)])).toMatchObject({ state: 'pending', code: 'AWAITING_PROBE' });
  });

  it('judges a first run (the service was just created) by any invocation', () => {
    expect(judge([look(1_000, OK, { invocationId: 'first' }), look(11_000, OK, { invocationId: 'first' })], { before: undefined }).state).toBe('healthy');
  });

  it('is healthy on the first passing look when minHealthyTime is 0', () => {
    expect(judge([look(1_000, OK)], { timing: { minHealthyTime: 0, healthyDeadline: 60_000 } }).state).toBe('healthy');
  });

  // systemd keeps a crash loop's NRestarts across a restart issued while the unit waits in auto-restart:
  // counted from the pass's observation, the old run's crashes would be blamed on the new one.
  it('judges the run identified at the restart from its own count, not from the observation before', () => {
    const crashLooping = { before: { invocationId: 'old-run', nRestarts: 1 }, run: { invocationId: 'new-run', nRestarts: 2 } };
    const looks = [look(1_000, OK, { nRestarts: 2 }), look(6_000, OK, { nRestarts: 2 }), look(11_000, OK, { nRestarts: 2 })];
    expect(judge(looks, crashLooping)).toMatchObject({ state: 'healthy', run: crashLooping.run });
    expect(judge(looks, { before: crashLooping.before }), 'without the run, the count is ambiguous').toMatchObject({ state: 'failed', code: 'E_UNIT_RESTARTED' });
    expect(judge([look(1_000, OK, { nRestarts: 2 }), look(6_000, OK, { nRestarts: 3 })], crashLooping)).toMatchObject({
      state: 'failed',
      code: 'E_UNIT_RESTARTED',
      detail: 'the new run restarted (NRestarts 2 -> 3)',
    });
  });
});

describe('runStartedByRestart', () => {
  const before = { invocationId: 'old-run', nRestarts: 4 };
  it.each([
    { case: 'a new run', after: { invocationId: 'new-run', nRestarts: 4 }, expected: { invocationId: 'new-run', nRestarts: 4 } },
    { case: 'a new run whose count systemd reset', after: { invocationId: 'new-run', nRestarts: 0 }, expected: { invocationId: 'new-run', nRestarts: 0 } },
    { case: 'still the run from before', after: { invocationId: 'old-run', nRestarts: 4 }, expected: undefined },
    { case: 'no run at all', after: { invocationId: '', nRestarts: 0 }, expected: undefined },
    { case: 'nothing reported', after: undefined, expected: undefined },
  ])('$case', ({ after, expected }) => {
    expect(runStartedByRestart(before, after)).toEqual(expected);
  });

  it('takes any run of a service that never ran', () => {
    expect(runStartedByRestart(undefined, { invocationId: 'first-run', nRestarts: 0 })).toEqual({ invocationId: 'first-run', nRestarts: 0 });
  });
});
