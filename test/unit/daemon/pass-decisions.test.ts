import { describe, expect, it } from 'vitest';
import { judgeApply, type ApplyVerdictInput } from '../../../src/daemon/apply-verdict.js';
import { nextCondition } from '../../../src/daemon/conditions.js';
import { grantAttempt, spendAttempt } from '../../../src/daemon/retry-budget.js';
import { carryForward, holdAllBeforeObserve, type PassReason } from '../../../src/daemon/service-gate.js';
import type { ServiceRolloutResult } from '../../../src/rollout/index.js';
import type { ServiceSpec } from '../../../src/spec/model.js';
import { emptyJournal, type Journal } from '../../../src/state/index.js';

const HEAD = 'b'.repeat(40);
const OLD = 'a'.repeat(40);
const NOW = 1_800_000_000_000;
const POLICY = { maxAttempts: 3, baseDelayMs: 1_000, maxDelayMs: 8_000 };
const HALF = (): number => 0.5;

function journal(patch: Partial<Journal> = {}): Journal {
  return { ...emptyJournal('memory://deploy#main'), ...patch };
}

describe('spendAttempt', () => {
  it.each([
    ['the first failure at a head', undefined, { kind: 'retry', attempts: 1, nextAt: NOW + 500 }],
    ['the second failure backs off twice as long', { commit: HEAD, attempts: 1, allowed: 3, code: 'E_X', detail: 'x', lastAt: NOW - 1, nextAt: NOW }, { kind: 'retry', attempts: 2, nextAt: NOW + 1_000 }],
    ['the last allowed failure spends the budget', { commit: HEAD, attempts: 2, allowed: 3, code: 'E_X', detail: 'x', lastAt: NOW - 1, nextAt: NOW }, { kind: 'exhausted', attempts: 3 }],
    ['a budget of another head does not count', { commit: OLD, attempts: 3, allowed: 3, code: 'E_X', detail: 'x', lastAt: NOW - 1, nextAt: undefined }, { kind: 'retry', attempts: 1 }],
    ['a granted attempt that fails spends the budget again at once', { commit: HEAD, attempts: 3, allowed: 4, code: 'E_X', detail: 'x', lastAt: NOW - 1, nextAt: undefined }, { kind: 'exhausted', attempts: 4 }],
  ] as const)('%s', (_, previous, expected) => {
    const verdict = spendAttempt(previous, HEAD, { code: 'E_HOST_UNREACHABLE', detail: 'web-1: refused' }, NOW, POLICY, HALF);
    expect({ kind: verdict.kind, attempts: verdict.budget.attempts, ...(verdict.kind === 'retry' ? { nextAt: verdict.nextAt } : {}) }).toMatchObject(expected);
  });

  it('grants exactly one attempt more on a spent budget', () => {
    const spent = { commit: HEAD, attempts: 3, allowed: 3, code: 'E_X', detail: 'x', lastAt: NOW, nextAt: undefined };
    expect(grantAttempt(spent)).toMatchObject({ attempts: 3, allowed: 4 });
    expect(grantAttempt(grantAttempt(spent))).toMatchObject({ allowed: 4 });
  });
});

describe('holdAllBeforeObserve', () => {
  const spec = (name: string, after: string[] = []): ServiceSpec => ({ name, after }) as unknown as ServiceSpec;
  const synced = { state: 'Synced' as const, code: undefined, errorClass: undefined, message: 'ok', hint: undefined, since: NOW, desiredCommit: HEAD, revertCommit: undefined, nextAttemptAt: undefined, failedHosts: undefined, window: undefined };
  const exhausted = { code: 'E_RETRIES_EXHAUSTED', errorClass: 'transient' as const, message: 'x', hint: undefined, commit: HEAD, since: NOW, until: 'new-commit' as const, issues: [] };
  const budget = (attempts: number, allowed: number, nextAt?: number) => ({ commit: HEAD, attempts, allowed, code: 'E_X', detail: 'x', lastAt: NOW, nextAt });

  it.each<[string, Partial<Journal>, PassReason, Record<string, string>]>([
    ['nothing holds a service with changes to make', {}, 'poll', {}],
    ['a halt holds a service and what comes after it', { halted: { api: { ...exhausted, code: 'E_REVERT_CONFLICT', errorClass: 'conflict' } } }, 'poll', { api: 'halted', gateway: 'dependency' }],
    ['a spent budget holds, however the pass was triggered', { halted: { api: exhausted }, retries: { api: budget(3, 3) } }, 'webhook', { api: 'halted', gateway: 'dependency' }],
    ['a granted attempt on a spent budget lets the service act', { halted: { api: exhausted }, retries: { api: budget(3, 4) } }, 'operator', {}],
    ['a backoff that has not ended holds', { retries: { api: budget(1, 3, NOW + 1) } }, 'poll', { api: 'backoff', gateway: 'dependency' }],
    ['a backoff that ended does not', { retries: { api: budget(1, 3, NOW) } }, 'retry', {}],
    ['a pause holds', { paused: { api: { owner: 'o', reason: 'r', since: NOW, until: NOW + 1 } } }, 'poll', { api: 'paused', gateway: 'dependency' }],
    ['a service healthy at the head is settled for polls', { services: { api: { stableCommit: HEAD, since: NOW } }, conditions: { api: synced } }, 'poll', { api: 'settled' }],
    ['a resync looks at a settled service again (drift)', { services: { api: { stableCommit: HEAD, since: NOW } }, conditions: { api: synced } }, 'resync', {}],
  ])('%s', (_, patch, reason, expected) => {
    const held = holdAllBeforeObserve([spec('gateway', ['api']), spec('api')], journal(patch), HEAD, reason, NOW);
    expect(Object.fromEntries([...held].map(([name, hold]) => [name, hold.kind]))).toEqual(expected);
  });
});

describe('judgeApply', () => {
  function result(service: string, kind: ServiceRolloutResult['result'], host = 'web-1'): ServiceRolloutResult {
    const failed = kind.startsWith('failed');
    const errorClass = kind === 'failed-change' ? 'change' : kind === 'failed-transient' ? 'transient' : 'conflict';
    return {
      service,
      result: kind,
      code: failed ? 'E_STOP' : undefined,
      detail: failed ? `${host}: broke` : 'ok',
      outcome: failed ? { result: kind as 'failed-change', cause: { host, at: NOW, errorClass, code: `E_${errorClass.toUpperCase()}`, detail: 'broke' }, evidence: [] } : undefined,
      steps: kind === 'failed-change' ? [{ service, host, action: 'update', outcome: 'failed', code: 'E_UNIT_FAILED', errorClass: 'change', detail: 'failed', hint: undefined, lastProbe: undefined, journal: undefined, startedAt: NOW, endedAt: NOW }] : [],
    };
  }
  function judge(results: ServiceRolloutResult[], patch: Partial<Journal> = {}, extra: Partial<ApplyVerdictInput> = {}) {
    return judgeApply({ journal: journal(patch), head: HEAD, result: { services: results, pruned: [], ok: false }, services: results.map((one) => one.service), held: new Map(), reverted: undefined, stopping: false, now: NOW, retry: POLICY, random: HALF, ...extra });
  }

  it.each([
    ['every service healthy: applied, idle', ['succeeded', 'unchanged'], 'idle', ['Synced', 'Synced'], true],
    ['a change failure: revert', ['failed-change', 'succeeded'], 'revert', ['Degraded', 'Synced'], false],
    ['a transient failure: retry later', ['failed-transient', 'succeeded'], 'retry', ['Degraded', 'Synced'], false],
    ['a conflict: stalled, idle, no retry', ['failed-conflict', 'succeeded'], 'idle', ['Stalled', 'Synced'], false],
    ['a superseded rollout: again, no verdict', ['superseded', 'succeeded'], 'again', [undefined, 'Synced'], false],
    ['a change failure that stopped the others: revert first', ['superseded', 'failed-change'], 'revert', [undefined, 'Degraded'], false],
  ] as const)('%s', (_, kinds, next, states, applied) => {
    const verdict = judge(kinds.map((kind, index) => result(`s${index}`, kind)));
    expect(verdict.next.kind).toBe(next);
    expect(kinds.map((_, index) => verdict.journal.conditions[`s${index}`]?.state)).toEqual(states);
    expect(verdict.fullyApplied).toBe(applied);
    expect(verdict.journal.lastApplied).toBe(applied ? HEAD : undefined);
  });

  it('turns the last transient failure of a budget into a halt E_RETRIES_EXHAUSTED that keeps its since', () => {
    const retries = { s0: { commit: HEAD, attempts: 2, allowed: 3, code: 'E_X', detail: 'x', lastAt: NOW, nextAt: NOW } };
    const first = judge([result('s0', 'failed-transient')], { retries });
    expect(first.exhausted).toEqual(['s0']);
    expect(first.journal.halted['s0']).toMatchObject({ code: 'E_RETRIES_EXHAUSTED', errorClass: 'transient', since: NOW });
    expect(first.journal.conditions['s0']).toMatchObject({ state: 'Stalled', code: 'E_RETRIES_EXHAUSTED', since: NOW });
    const granted = { ...first.journal, retries: { s0: grantAttempt(first.journal.retries['s0'] ?? retries.s0) } };
    const again = judgeApply({ journal: granted, head: HEAD, result: { services: [result('s0', 'failed-transient')], pruned: [], ok: false }, services: ['s0'], held: new Map(), reverted: undefined, stopping: false, now: NOW + 60_000, retry: POLICY, random: HALF });
    expect(again.exhausted).toEqual([]);
    expect(again.journal.halted['s0']?.since).toBe(NOW);
    expect(again.journal.conditions['s0']?.since).toBe(NOW);
    expect(again.next.kind).toBe('idle');
  });

  it('lifts a spent budget\'s halt once the service is healthy', () => {
    const halted = { s0: { code: 'E_RETRIES_EXHAUSTED', errorClass: 'transient' as const, message: 'x', hint: undefined, commit: HEAD, since: NOW, until: 'new-commit' as const, issues: [] } };
    const verdict = judge([result('s0', 'succeeded')], { halted, retries: { s0: { commit: HEAD, attempts: 3, allowed: 4, code: 'E_X', detail: 'x', lastAt: NOW, nextAt: undefined } } });
    expect(verdict.journal.halted).toEqual({});
    expect(verdict.journal.retries).toEqual({});
    expect(verdict.fullyApplied).toBe(true);
  });

  it('shows a service as RolledBack when the head is tend\'s revert of its bad commit', () => {
    const bad = 'c'.repeat(40);
    const verdict = judge([result('s0', 'succeeded')], { knownBad: { [bad]: { service: 's0', code: 'E_UNIT_FAILED', at: NOW, revertedBy: HEAD, rolloutId: 'r' } } }, { reverted: bad });
    expect(verdict.journal.conditions['s0']).toMatchObject({ state: 'RolledBack', code: 'E_UNIT_FAILED', revertCommit: HEAD });
  });

  it('writes evidence only from hosts that ran the change and failed because of it', () => {
    const verdict = judge([result('s0', 'failed-change', 'web-1')]);
    expect(verdict.next).toMatchObject({ kind: 'revert', service: 's0', evidence: { failedHosts: ['web-1'], errorCode: 'E_UNIT_FAILED' } });
  });
});

describe('nextCondition', () => {
  it('keeps since while state and code hold, and moves it when either changes', () => {
    const first = nextCondition(undefined, { state: 'Stalled', code: 'E_X', message: 'a' }, 1);
    expect(nextCondition(first, { state: 'Stalled', code: 'E_X', message: 'b' }, 2).since).toBe(1);
    expect(nextCondition(first, { state: 'Stalled', code: 'E_Y', message: 'b' }, 2).since).toBe(2);
    expect(nextCondition(first, { state: 'Degraded', code: 'E_X', message: 'b' }, 3).since).toBe(3);
  });
});

describe('carryForward', () => {
  const synced = (commit: string) => ({ state: 'Synced' as const, code: undefined, errorClass: undefined, message: 'ok', hint: undefined, since: 1, desiredCommit: commit, revertCommit: undefined, nextAttemptAt: undefined, failedHosts: undefined, window: undefined });
  const base = journal({ services: { api: { stableCommit: OLD, since: 1 } }, conditions: { api: synced(OLD) } });

  it.each<[string, Journal, readonly string[] | undefined, boolean]>([
    ['nothing since its healthy commit touched it: healthy at the head', base, ['services/queue/spec.yml', 'README.md'], true],
    ['its own folder changed: it must be rolled out', base, ['services/api/api'], false],
    ['a repo-wide file changed: it must be looked at', base, ['inventory.yml'], false],
    ['its healthy commit is not an ancestor (a rewrite): it must be looked at', base, undefined, false],
    ['it is halted: a person must see to it first', { ...base, halted: { api: { code: 'E_X', errorClass: 'conflict', message: 'x', hint: undefined, commit: OLD, since: 1, until: 'operator', issues: [] } } }, [], false],
    ['it is retrying: its budget decides', { ...base, retries: { api: { commit: OLD, attempts: 1, allowed: 3, code: 'E_X', detail: 'x', lastAt: 1, nextAt: 2 } } }, [], false],
    ['its last state was not healthy', { ...base, conditions: { api: { ...synced(OLD), state: 'Degraded' } } }, [], false],
  ])('%s', (_, before, changed, carried) => {
    const after = carryForward(before, HEAD, ['api'], () => changed, NOW);
    expect(after.services['api']?.stableCommit).toBe(carried ? HEAD : OLD);
    expect(after.conditions['api']?.desiredCommit).toBe(carried ? HEAD : OLD);
  });
});
