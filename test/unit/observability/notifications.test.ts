import { describe, expect, it } from 'vitest';

import type { DaemonStatus, ServiceStatus } from '../../../src/status/index.js';
import { IncidentTracker, type IncidentPolicy, type Notification } from '../../../src/observability/incident-tracker.js';
import { notificationJson, slackMessage } from '../../../src/observability/notification-payload.js';

const MINUTE = 60_000;
const T0 = Date.UTC(2024, 10, 21, 3, 0, 0);
const POLICY: IncidentPolicy = { settleMs: 5 * MINUTE, repeatWindowMs: 60 * MINUTE, reminderMs: 120 * MINUTE };

const GOOD = 'a'.repeat(40);
const BAD = 'b'.repeat(40);
const REVERT = 'c'.repeat(40);
const NEWER = 'd'.repeat(40);

type Patch = Partial<ServiceStatus> & Pick<ServiceStatus, 'state'>;

function service(name: string, patch: Patch = { state: 'Synced' }): ServiceStatus {
  return {
    service: name,
    code: undefined,
    errorClass: undefined,
    message: patch.state === 'Synced' ? 'every host runs the desired commit and is healthy' : `${name} is ${patch.state}`,
    hint: undefined,
    since: T0,
    desiredCommit: GOOD,
    stableCommit: GOOD,
    ...patch,
  };
}

function status(services: readonly ServiceStatus[], overrides: Partial<DaemonStatus> = {}): DaemonStatus {
  return {
    version: 1,
    startedAt: T0 - 600 * MINUTE,
    settled: true,
    source: { description: 'https://git.example.com/ops/deploy.git', branch: 'main', head: GOOD, lastFetchAt: T0, lastFetchOkAt: T0, error: undefined },
    lastApplied: GOOD,
    lastAttempted: GOOD,
    stalled: undefined,
    inFlight: undefined,
    services,
    hosts: [],
    recentRollouts: [],
    ...overrides,
  };
}

const synced = (): DaemonStatus => status([service('api'), service('gateway'), service('queue')]);
const apiAs = (patch: Patch): DaemonStatus => status([service('api', patch), service('gateway'), service('queue')]);
const canaryFailed: Patch = { state: 'Degraded', code: 'E_CANARY_FAILED', errorClass: 'change', desiredCommit: BAD, failedHosts: ['web-1'] };
const hostDown: Patch = { state: 'Degraded', code: 'E_HOST_UNREACHABLE', errorClass: 'transient', message: 'web-2: connect ETIMEDOUT', nextAttemptAt: T0 + MINUTE };
const allHostsDown = (): DaemonStatus => status([service('api', hostDown), service('gateway', hostDown), service('queue', hostDown)]);
const fetchFailing = (services: readonly ServiceStatus[] = synced().services): DaemonStatus =>
  status(services, {
    source: {
      description: 'https://git.example.com/ops/deploy.git',
      branch: 'main',
      head: GOOD,
      lastFetchAt: T0 + MINUTE,
      lastFetchOkAt: T0,
      error: { code: 'E_GIT_UNREACHABLE', errorClass: 'transient', message: 'git.example.com: connect ECONNREFUSED', hint: 'Check the git host.' },
    },
  });
const invalidCommit = (): DaemonStatus =>
  status(synced().services, {
    stalled: {
      code: 'E_INVALID_COMMIT',
      errorClass: 'invalid',
      message: 'commit bbbbbbbbbbbb does not validate: 1 issue',
      hint: 'Fix the files named in the issues and push a new commit.',
      commit: BAD,
      since: T0,
      issues: [{ file: 'services/api/spec.yml', line: 4, col: 3, code: 'E_SCHEMA', message: 'deploy.serial must be an integer' }],
    },
  });

/** Observes `steps` (minute, status) in order; each notification as `minute event key`. */
function run(steps: readonly (readonly [number, DaemonStatus])[], policy: IncidentPolicy = POLICY): string[] {
  const tracker = new IncidentTracker(policy);
  return steps.flatMap(([minute, one]) => tracker.observe(one, T0 + minute * MINUTE).map((notification) => `${minute} ${notification.event} ${notification.key}`));
}

/** The same status observed every `every` minutes from `from` to `to` (a daemon's poll ticks). */
function hold(from: number, to: number, one: DaemonStatus, every = 1): [number, DaemonStatus][] {
  const steps: [number, DaemonStatus][] = [];
  for (let minute = from; minute <= to; minute += every) steps.push([minute, one]);
  return steps;
}

const cases: readonly { readonly name: string; readonly steps: readonly (readonly [number, DaemonStatus])[]; readonly expected: readonly string[] }[] = [
  {
    name: 'nothing to say while everything stays synced',
    steps: hold(0, 30, synced(), 5),
    expected: [],
  },
  {
    name: 'a canary failure, its revert rolled out, the service RolledBack: one error, one recovery, one key',
    steps: [
      [0, synced()],
      [1, apiAs(canaryFailed)],
      [2, apiAs({ ...canaryFailed, desiredCommit: REVERT, revertCommit: REVERT, message: 'reverted by cccccccccccc; rolling back' })],
      ...hold(3, 8, apiAs({ state: 'RolledBack', code: 'E_CANARY_FAILED', errorClass: 'change', desiredCommit: REVERT, revertCommit: REVERT })),
    ],
    expected: [`1 error service/api@${BAD}:E_CANARY_FAILED`, `8 recovery service/api@${BAD}:E_CANARY_FAILED`],
  },
  {
    name: 'flapping faster than the settle time: one error, one recovery once it holds',
    steps: [
      [0, synced()],
      [1, apiAs(canaryFailed)],
      [2, synced()],
      [3, apiAs(canaryFailed)],
      [4, synced()],
      [5, apiAs(canaryFailed)],
      [6, synced()],
      [7, apiAs(canaryFailed)],
      ...hold(8, 20, synced()),
    ],
    expected: [`1 error service/api@${BAD}:E_CANARY_FAILED`, `13 recovery service/api@${BAD}:E_CANARY_FAILED`],
  },
  {
    name: 'flapping slower than the settle time but within the repeat window: still one error, one recovery',
    steps: [
      [0, apiAs(canaryFailed)],
      ...hold(1, 10, synced()),
      [15, apiAs(canaryFailed)],
      ...hold(16, 25, synced()),
      [30, apiAs(canaryFailed)],
      ...hold(31, 40, synced()),
    ],
    expected: [`0 error service/api@${BAD}:E_CANARY_FAILED`, `6 recovery service/api@${BAD}:E_CANARY_FAILED`],
  },
  {
    name: 'the same failure after the repeat window is told again',
    steps: [[0, apiAs(canaryFailed)], ...hold(1, 10, synced()), [70, apiAs(canaryFailed)], ...hold(71, 80, synced())],
    expected: [
      `0 error service/api@${BAD}:E_CANARY_FAILED`,
      `6 recovery service/api@${BAD}:E_CANARY_FAILED`,
      `70 error service/api@${BAD}:E_CANARY_FAILED`,
      `76 recovery service/api@${BAD}:E_CANARY_FAILED`,
    ],
  },
  {
    name: 'still broken: a reminder every reminder interval, none while it is quiet in between',
    steps: hold(0, 300, apiAs({ state: 'Stalled', code: 'E_REVERT_CONFLICT', errorClass: 'conflict', desiredCommit: BAD }), 10),
    expected: [`0 error service/api@${BAD}:E_REVERT_CONFLICT`, `120 reminder service/api@${BAD}:E_REVERT_CONFLICT`, `240 reminder service/api@${BAD}:E_REVERT_CONFLICT`],
  },
  {
    name: 'a relapse held back by the repeat window is not kept silent for ever: it gets a reminder, then a recovery',
    steps: [[0, apiAs(canaryFailed)], ...hold(1, 10, synced()), ...hold(20, 140, apiAs(canaryFailed), 10), ...hold(141, 146, synced())],
    expected: [
      `0 error service/api@${BAD}:E_CANARY_FAILED`,
      `6 recovery service/api@${BAD}:E_CANARY_FAILED`,
      `140 reminder service/api@${BAD}:E_CANARY_FAILED`,
      `146 recovery service/api@${BAD}:E_CANARY_FAILED`,
    ],
  },
  {
    name: 'every service failing with one transient code at once is one incident, and one recovery',
    steps: [
      [0, synced()],
      [1, allHostsDown()],
      [2, allHostsDown()],
      // Partial recovery: the outage is still the one incident, not a new error per remaining service.
      [3, status([service('api'), service('gateway', hostDown), service('queue', hostDown)])],
      [4, status([service('api'), service('gateway'), service('queue', hostDown)])],
      ...hold(5, 12, synced()),
    ],
    expected: ['1 error shared:E_HOST_UNREACHABLE', '10 recovery shared:E_HOST_UNREACHABLE'],
  },
  {
    name: 'one service unreachable is that service, not a shared outage',
    steps: [[0, apiAs(hostDown)], ...hold(1, 6, synced())],
    expected: ['0 error service/api@' + GOOD + ':E_HOST_UNREACHABLE', '6 recovery service/api@' + GOOD + ':E_HOST_UNREACHABLE'],
  },
  {
    name: 'the git host down is one source incident, with the services failing of it folded in',
    steps: [
      [0, synced()],
      [1, fetchFailing()],
      [2, fetchFailing([service('api', { ...hostDown, code: 'E_GIT_UNREACHABLE' }), service('gateway', { ...hostDown, code: 'E_GIT_UNREACHABLE' }), service('queue')])],
      ...hold(3, 30, fetchFailing(), 9),
      ...hold(31, 36, synced()),
    ],
    expected: ['1 error source:E_GIT_UNREACHABLE', '36 recovery source:E_GIT_UNREACHABLE'],
  },
  {
    name: 'a repo-wide invalid commit is one incident until a new commit clears it',
    steps: [[0, synced()], ...hold(1, 10, invalidCommit(), 3), ...hold(11, 16, status(synced().services, { lastApplied: NEWER }))],
    expected: [`1 error repo@${BAD}:E_INVALID_COMMIT`, `16 recovery repo@${BAD}:E_INVALID_COMMIT`],
  },
  {
    name: 'escalation to a new code is news: transient retries exhausted',
    steps: [
      [0, apiAs(hostDown)],
      [5, apiAs({ state: 'Stalled', code: 'E_RETRIES_EXHAUSTED', errorClass: 'transient', message: 'web-2 unreachable (5 attempts)' })],
      ...hold(10, 15, synced()),
    ],
    expected: [`0 error service/api@${GOOD}:E_HOST_UNREACHABLE`, `5 error service/api@${GOOD}:E_RETRIES_EXHAUSTED`, `15 recovery service/api@${GOOD}:E_RETRIES_EXHAUSTED`],
  },
  {
    name: 'a newer commit failing the same way is news',
    steps: [[0, apiAs(canaryFailed)], [3, apiAs({ ...canaryFailed, desiredCommit: NEWER })]],
    expected: [`0 error service/api@${BAD}:E_CANARY_FAILED`, `3 error service/api@${NEWER}:E_CANARY_FAILED`],
  },
  {
    name: 'a retry in progress is not a recovery',
    steps: [[0, apiAs(hostDown)], ...hold(1, 20, apiAs({ state: 'Progressing', message: 'rolling out' }), 2), [21, apiAs(hostDown)], ...hold(22, 27, synced())],
    expected: [`0 error service/api@${GOOD}:E_HOST_UNREACHABLE`, `27 recovery service/api@${GOOD}:E_HOST_UNREACHABLE`],
  },
  {
    name: 'a service removed from the repo while failing recovers as no longer managed',
    steps: [[0, apiAs(canaryFailed)], ...hold(1, 6, status([service('gateway'), service('queue')]))],
    expected: [`0 error service/api@${BAD}:E_CANARY_FAILED`, `6 recovery service/api@${BAD}:E_CANARY_FAILED`],
  },
];

describe('IncidentTracker', () => {
  for (const one of cases) {
    it(one.name, () => {
      expect(run(one.steps)).toEqual(one.expected);
    });
  }

  it('tells recoveries at once with no settle time', () => {
    expect(run([[0, apiAs(canaryFailed)], [1, synced()]], { ...POLICY, settleMs: 0 })).toEqual([
      `0 error service/api@${BAD}:E_CANARY_FAILED`,
      `1 recovery service/api@${BAD}:E_CANARY_FAILED`,
    ]);
  });

  it('sends no reminder when reminders are off', () => {
    expect(run(hold(0, 1000, apiAs(canaryFailed), 50), { ...POLICY, reminderMs: Number.POSITIVE_INFINITY })).toEqual([`0 error service/api@${BAD}:E_CANARY_FAILED`]);
  });
});

function one(steps: readonly (readonly [number, DaemonStatus])[]): Notification[] {
  const tracker = new IncidentTracker(POLICY);
  return steps.flatMap(([minute, each]) => tracker.observe(each, T0 + minute * MINUTE));
}

describe('notification payloads', () => {
  it('writes the generic JSON with every field, absent ones as null', () => {
    const [error] = one([[1, apiAs({ ...canaryFailed, since: T0 + MINUTE, hint: 'Fix the change and push a new commit.', message: 'canary web-1 failed its probe' })]]);
    expect(notificationJson(error as Notification, 'https://tend.example.com/')).toEqual({
      event: 'error',
      key: `service/api@${BAD}:E_CANARY_FAILED`,
      scope: 'service',
      service: 'api',
      services: ['api'],
      state: 'Degraded',
      code: 'E_CANARY_FAILED',
      errorClass: 'change',
      message: 'canary web-1 failed its probe',
      hint: 'Fix the change and push a new commit.',
      commit: BAD,
      since: '2024-11-21T03:01:00.000Z',
      at: '2024-11-21T03:01:00.000Z',
      statusUrl: 'https://tend.example.com/',
    });
  });

  it('writes a shared outage naming every service, and its recovery with no state', () => {
    const [error, recovery] = one([[1, allHostsDown()], ...hold(2, 7, synced())]);
    expect(notificationJson(error as Notification, undefined)).toMatchObject({ event: 'error', scope: 'shared', service: null, services: ['api', 'gateway', 'queue'], state: 'Degraded', errorClass: 'transient', statusUrl: null });
    expect(notificationJson(recovery as Notification, undefined)).toMatchObject({ event: 'recovery', scope: 'shared', state: null, message: 'no service fails with E_HOST_UNREACHABLE any more', since: '2024-11-21T03:02:00.000Z' });
  });

  it('writes a Slack message whose text cannot ping a channel or fake a link', () => {
    const [error] = one([[0, apiAs({ ...canaryFailed, message: 'probe said <!channel> & <https://evil.example|click>' })]]);
    const message = slackMessage(error as Notification, 'https://tend.example.com/');
    expect(message.text).toBe(':red_circle: api Degraded: E_CANARY_FAILED: probe said &lt;!channel&gt; &amp; &lt;https://evil.example|click&gt;');
    const serialized = JSON.stringify(message.blocks);
    expect(serialized).not.toContain('<!channel>');
    expect(serialized).not.toContain('<https://evil.example');
    expect(serialized).toContain('<https://tend.example.com/|status page>');
  });

  it('titles a recovery and a reminder so the channel reads as a story', () => {
    const [, reminder, recovery] = one([...hold(0, 120, apiAs(canaryFailed), 60), ...hold(121, 126, synced())]);
    expect(slackMessage(reminder as Notification, undefined).text).toBe(':large_orange_circle: still failing: api Degraded: E_CANARY_FAILED: api is Degraded');
    expect(slackMessage(recovery as Notification, undefined).text).toBe(
      ':large_green_circle: recovered: api Synced (was E_CANARY_FAILED): api is Synced: every host runs the desired commit and is healthy',
    );
  });
});
