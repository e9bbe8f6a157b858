import { describe, expect, it, vi } from 'vitest';
import { TendError } from '../../../src/errors/index.js';
import { DaemonWorld, RETRY } from './support/daemon-world.js';

const WEB = ['web-1', 'web-2'];

async function convergedWorld(): Promise<DaemonWorld> {
  const world = await DaemonWorld.create();
  await world.settle('startup');
  expect(world.journal.lastApplied).toBe(world.source.head);
  return world;
}

function apiVersions(world: DaemonWorld): (string | undefined)[] {
  return WEB.map((host) => world.fleet.versionOn(host, 'api'));
}

function revertsIn(world: DaemonWorld): { subject: string; reverted: string | undefined }[] {
  return world.source
    .log()
    .filter((commit) => commit.trailers.has('Tend-Rollout-Id'))
    .map((commit) => ({ subject: commit.subject, reverted: /This reverts commit ([0-9a-f]+)/.exec(commit.message)?.[1] }));
}

describe('Reconciler: commits', () => {
  it('rolls a good commit out to every host, and records it as applied with every service Synced', async () => {
    const world = await convergedWorld();
    const good = world.landApi('2.0.0');
    await world.settle('webhook');
    expect(apiVersions(world)).toEqual(['2.0.0', '2.0.0']);
    expect(world.journal.lastApplied).toBe(good);
    expect(world.fleet.concurrency).toBe(16);
    expect(world.reconciler.status.services.map((one) => [one.service, one.state])).toEqual([
      ['api', 'Synced'],
      ['gateway', 'Synced'],
      ['queue', 'Synced'],
      ['reports', 'Synced'],
    ]);
    expect(revertsIn(world)).toEqual([]);
  });

  it('reverts a bad commit exactly once and rolls the hosts back to the version before it', async () => {
    const world = await convergedWorld();
    const bad = world.landApi('3.1.0', 'crash');
    await world.settle('webhook');
    expect(revertsIn(world)).toEqual([{ subject: 'Revert "api 3.1.0"', reverted: bad }]);
    expect(apiVersions(world)).toEqual(['1.0.0', '1.0.0']);
    expect(world.service('api')).toMatchObject({ state: 'RolledBack', code: 'E_UNIT_FAILED', revertCommit: world.source.head });
    await world.settle('poll');
    await world.settle('resync');
    expect(revertsIn(world)).toHaveLength(1);
  });

  it('reverts only the bad head when a good commit landed just before it (good then bad)', async () => {
    const world = await convergedWorld();
    world.landApi('3.0.0');
    const bad = world.landApi('3.1.0', 'crash');
    await world.settle('webhook');
    expect(revertsIn(world)).toEqual([{ subject: 'Revert "api 3.1.0"', reverted: bad }]);
    expect(apiVersions(world)).toEqual(['3.0.0', '3.0.0']);
    const revert = world.source.log()[0];
    expect(revert?.trailers.get('Tend-Failed-Hosts')).toEqual(['web-1']);
  });

  it('reverts two bad commits one at a time, newest first, each on the evidence of hosts that ran it (bad then bad)', async () => {
    const world = await convergedWorld();
    const first = world.landApi('3.0.0', 'crash');
    const second = world.landApi('3.1.0', 'crash');
    await world.settle('webhook');
    expect(revertsIn(world)).toEqual([
      { subject: 'Revert "api 3.0.0"', reverted: first },
      { subject: 'Revert "api 3.1.0"', reverted: second },
    ]);
    expect(apiVersions(world)).toEqual(['1.0.0', '1.0.0']);
    expect(world.service('api')?.state).toBe('RolledBack');
  });

  it('touches no host for an invalid commit, stalls the repo with every problem at file:line:col, and applies the next valid one', async () => {
    const world = await convergedWorld();
    const restarts = world.fleet.restarts.length;
    const invalid = world.source.commitChanges('typo', { 'services/queue/spec.yml': 'service:\n  name: queue\n  group: web\n  deploy:\n    serail: 1\n' });
    await world.settle('webhook');
    expect(world.fleet.restarts).toHaveLength(restarts);
    expect(world.reconciler.status.stalled).toMatchObject({ code: 'E_INVALID_COMMIT', errorClass: 'invalid', commit: invalid, issues: [{ file: 'services/queue/spec.yml', line: 5, col: 5 }] });
    world.restart();
    expect(world.reconciler.status.stalled?.issues[0]).toMatchObject({ file: 'services/queue/spec.yml', line: 5 });
    world.source.commitChanges('fix', { 'services/queue/spec.yml': world.source.fileAt(world.source.log()[1]?.sha ?? '', 'services/queue/spec.yml') ?? '' });
    world.landApi('2.0.0');
    await world.settle('webhook');
    expect(world.reconciler.status.stalled).toBeUndefined();
    expect(apiVersions(world)).toEqual(['2.0.0', '2.0.0']);
  });

  it('stops the other services for a failing one only when tend will revert it: never on a first deploy, which has nothing to go back to', async () => {
    const world = await DaemonWorld.create();
    await world.settle('startup');
    expect(world.fleet.failureStopsOthers[0]).toEqual({ api: false, gateway: false, queue: false, reports: false });
    world.landApi('2.0.0');
    await world.settle('webhook');
    expect(world.fleet.failureStopsOthers.at(-1)).toMatchObject({ api: true });
  });

  it('lets a newer commit supersede a failing rollout: no revert, the hosts end on the newer commit', async () => {
    const world = await convergedWorld();
    world.landApi('3.1.0', 'unhealthy');
    let landed = false;
    const original = world.fleet.apply.bind(world.fleet);
    world.fleet.apply = async (input, effects) =>
      original(input, {
        ...effects,
        sleep: async (ms) => {
          await effects.sleep(ms);
          if (!landed) {
            landed = true;
            world.landApi('3.2.0');
            await world.reconciler.refreshHead();
          }
        },
      });
    await world.settle('webhook');
    expect(revertsIn(world)).toEqual([]);
    expect(world.events('rollout superseded by a newer commit')).toHaveLength(1);
    expect(apiVersions(world)).toEqual(['3.2.0', '3.2.0']);
  });
});

describe('Reconciler: a commit is looked at where it changes something', () => {
  it('observes only the hosts of the service a commit changed, and keeps the others healthy at the new head', async () => {
    const world = await convergedWorld();
    const observations = world.fleet.observations.length;
    world.source.commitChanges('reports: a new port', { 'services/reports/spec.yml': (world.source.fileAt(world.source.head, 'services/reports/spec.yml') ?? '').replace('REPORTS_PORT=8090', 'REPORTS_PORT=8090\n    LOG_LEVEL=debug') });
    await world.settle('webhook');
    expect(world.reconciler.status.stalled).toBeUndefined();
    expect(world.fleet.observations.slice(observations)).toEqual([['batch-1']]);
    expect(world.journal.lastApplied).toBe(world.source.head);
    expect(world.reconciler.status.services.every((one) => one.state === 'Synced' && one.stableCommit === world.source.head)).toBe(true);
  });

  it('observes every host on a scheduled resync, and puts back a host changed by hand (drift)', async () => {
    const world = await convergedWorld();
    world.landApi('2.0.0');
    await world.settle('webhook');
    const observations = world.fleet.observations.length;
    await world.settle('resync');
    expect(world.fleet.observations.slice(observations).map((hosts) => [...hosts].sort())).toEqual([['batch-1', 'web-1', 'web-2']]);
  });

  it('loads a new head once: the pass and the file_sd target files after it share that load', async () => {
    const world = await convergedWorld();
    const readerAt = world.source.readerAt.bind(world.source);
    let loads = 0;
    vi.spyOn(world.source, 'readerAt').mockImplementation((sha) => {
      const reader = readerAt(sha);
      // Every load lists the root first; nothing else a pass does lists it.
      return { ...reader, list: (path) => ((loads += path === '' ? 1 : 0), reader.list(path)) };
    });
    world.landApi('2.0.0');
    await world.settle('webhook');
    expect(world.journal.lastApplied).toBe(world.source.head);
    expect((await world.reconciler.loadHead(world.source.head)).ok).toBe(true);
    expect(loads).toBe(1);
  });

  it('touches no host for a commit that changes nothing a service runs', async () => {
    const world = await convergedWorld();
    const observations = world.fleet.observations.length;
    world.source.commitChanges('docs', { 'README.md': 'notes' });
    await world.settle('webhook');
    expect(world.fleet.observations.slice(observations)).toEqual([]);
    expect(world.journal.lastApplied).toBe(world.source.head);
  });
});

describe('Reconciler: never retry forever', () => {
  async function unreachableWorld(): Promise<DaemonWorld> {
    const world = await convergedWorld();
    for (const host of ['web-1', 'web-2', 'batch-1']) world.fleet.unreachable.add(host);
    world.landApi('2.0.0');
    return world;
  }

  it(`makes exactly max_attempts (${RETRY.maxAttempts}) attempts, then stalls with E_RETRIES_EXHAUSTED that survives 50 polls, 10 webhooks and a restart`, async () => {
    const world = await unreachableWorld();
    const before = world.rolloutStarts('api');
    await world.settle('webhook');
    expect(world.rolloutStarts('api') - before).toBe(RETRY.maxAttempts);
    const stalled = world.service('api');
    expect(stalled).toMatchObject({ state: 'Stalled', code: 'E_RETRIES_EXHAUSTED', errorClass: 'transient' });

    for (let poll = 0; poll < 50; poll += 1) {
      world.now += 60_000;
      await world.settle('poll');
    }
    for (let hook = 0; hook < 10; hook += 1) await world.settle('webhook');
    world.restart();
    expect(world.service('api')).toMatchObject({ state: 'Stalled', code: 'E_RETRIES_EXHAUSTED', since: stalled?.since });
    await world.settle('startup');
    await world.settle('poll');

    expect(world.rolloutStarts('api') - before).toBe(RETRY.maxAttempts);
    expect(world.service('api')).toMatchObject({ state: 'Stalled', code: 'E_RETRIES_EXHAUSTED', since: stalled?.since });
  });

  it('makes exactly one attempt per scheduled resync while the hosts stay down, and clears on the resync that finds them back', async () => {
    const world = await unreachableWorld();
    await world.settle('webhook');
    const spent = world.rolloutStarts('api');
    const since = world.service('api')?.since;
    for (let resync = 1; resync <= 3; resync += 1) {
      world.now += 600_000;
      await world.settle('resync');
      expect(world.rolloutStarts('api')).toBe(spent + resync);
      expect(world.service('api')).toMatchObject({ state: 'Stalled', code: 'E_RETRIES_EXHAUSTED', since });
    }
    world.fleet.unreachable.clear();
    await world.settle('resync');
    expect(world.service('api')?.state).toBe('Synced');
    expect(apiVersions(world)).toEqual(['2.0.0', '2.0.0']);
    expect(world.journal.halted).toEqual({});
  });

  it('`tend retry api` grants exactly one attempt on a spent budget', async () => {
    const world = await unreachableWorld();
    await world.settle('webhook');
    const spent = world.rolloutStarts('api');
    expect(await world.reconciler.operatorClear('retry', 'api')).toEqual(['api']);
    await world.settle('operator');
    expect(world.rolloutStarts('api')).toBe(spent + 1);
    expect(world.service('api')?.code).toBe('E_RETRIES_EXHAUSTED');
    world.fleet.unreachable.clear();
    await world.reconciler.operatorClear('retry', 'api');
    await world.settle('operator');
    expect(world.service('api')?.state).toBe('Synced');
  });

  it('a new commit starts a new budget', async () => {
    const world = await unreachableWorld();
    await world.settle('webhook');
    const spent = world.rolloutStarts();
    world.landApi('2.0.1');
    await world.settle('webhook');
    expect(world.rolloutStarts()).toBe(spent + RETRY.maxAttempts);
  });

  it('does not attempt again before the backoff ends, however many polls and webhooks come', async () => {
    const world = await unreachableWorld();
    const before = world.rolloutStarts();
    await world.pass('webhook');
    for (let poll = 0; poll < 20; poll += 1) await world.pass('poll');
    expect(world.rolloutStarts() - before).toBe(1);
    expect(world.service('api')).toMatchObject({ state: 'Degraded', errorClass: 'transient' });
    expect(world.service('api')?.nextAttemptAt).toBeGreaterThan(world.now);
  });

  it('backs a git outage off in memory and recovers on the next poll', async () => {
    const world = await convergedWorld();
    world.source.failFetches = new TendError('E_GIT_SERVER', 'transient', 'HTTP 503 from the git server');
    expect(await world.pass('poll')).toMatchObject({ kind: 'retry' });
    expect(world.reconciler.status.source.error?.code).toBe('E_GIT_SERVER');
    world.source.failFetches = undefined;
    await world.settle('poll');
    expect(world.reconciler.status.source.error).toBeUndefined();
  });
});

describe('Reconciler: status tells the whole truth', () => {
  it('lists every service of the loaded commit from the first pass, even when every host is down', async () => {
    const world = await DaemonWorld.create();
    for (const host of ['web-1', 'web-2', 'batch-1']) world.fleet.unreachable.add(host);
    expect(world.reconciler.status.settled).toBe(false);
    await world.settle('startup');
    expect(world.reconciler.status.settled).toBe(true);
    expect(world.reconciler.status.services.map((one) => [one.service, one.state, one.code])).toEqual([
      ['api', 'Stalled', 'E_RETRIES_EXHAUSTED'],
      ['gateway', 'Waiting', 'W_DEPENDENCY'],
      ['queue', 'Stalled', 'E_RETRIES_EXHAUSTED'],
      ['reports', 'Stalled', 'E_RETRIES_EXHAUSTED'],
    ]);
  });

  it('shows the whole status from the journal the moment tend restarts, and not as settled until a pass has run', async () => {
    const world = await convergedWorld();
    world.landApi('3.1.0', 'crash');
    await world.settle('webhook');
    const before = world.reconciler.status.services;
    world.restart();
    expect(world.reconciler.status.settled).toBe(false);
    expect(world.reconciler.status.services).toEqual(before);
  });
});

describe('Reconciler: operators', () => {
  it('does not touch a paused service, shows it Paused, and rolls it out on resume', async () => {
    const world = await convergedWorld();
    await world.reconciler.pause('api', { owner: 'ops', reason: 'migration', until: world.now + 3_600_000 });
    world.landApi('2.0.0');
    await world.settle('webhook');
    expect(apiVersions(world)).toEqual(['1.0.0', '1.0.0']);
    expect(world.service('api')).toMatchObject({ state: 'Paused', code: 'W_PAUSED' });
    world.now += 7_200_000;
    expect(world.reconciler.status.services.find((one) => one.service === 'api')?.code).toBe('W_PAUSE_EXPIRED');
    expect(await world.reconciler.resume('api')).toBe(true);
    await world.settle('operator');
    expect(apiVersions(world)).toEqual(['2.0.0', '2.0.0']);
  });

  it('refuses a rewritten history, touching no host, until `tend ack`', async () => {
    const world = await convergedWorld();
    world.landApi('2.0.0');
    await world.settle('webhook');
    const applied = world.journal.lastApplied ?? '';
    world.source.resetHead(world.source.log()[1]?.sha ?? '');
    world.landApi('2.5.0');
    const restarts = world.fleet.restarts.length;
    await world.settle('webhook');
    expect(world.reconciler.status.stalled).toMatchObject({ code: 'E_HISTORY_REWRITTEN', errorClass: 'conflict' });
    expect(world.fleet.restarts).toHaveLength(restarts);
    expect(await world.reconciler.operatorClear('retry', 'api')).toEqual([]);
    expect(await world.reconciler.operatorClear('ack', undefined)).toEqual(['*']);
    await world.settle('operator');
    expect(apiVersions(world)).toEqual(['2.5.0', '2.5.0']);
    expect(world.journal.lastApplied).not.toBe(applied);
  });
});

describe('Reconciler: crash safety', () => {
  /** What the journal on disk says at the moment of the kill: what the restarted tend resumes from. */
  function atKill(world: DaemonWorld, bad: string): string {
    const journal = world.journal;
    const inFlight = journal.inFlight;
    const rollout = inFlight === undefined ? 'none' : `${inFlight.phase} ${inFlight.commit === bad ? 'bad' : inFlight.commit === world.source.head ? 'head' : 'other'}`;
    const knownBad = journal.knownBad[bad];
    return `${rollout}; knownBad ${knownBad === undefined ? 'no' : knownBad.revertedBy === undefined ? 'yes' : 'reverted'}`;
  }

  it.each([
    ['stage', 'rolling bad; knownBad no'],
    ['write', 'rolling bad; knownBad no'],
    ['reload', 'rolling bad; knownBad no'],
    ['switch', 'rolling bad; knownBad no'],
    ['restart', 'rolling bad; knownBad no'],
    ['probe', 'rolling bad; knownBad no'],
    ['after-known-bad', 'reverting bad; knownBad yes'],
    ['after-revert-commit', 'reverting bad; knownBad yes'],
    ['after-push', 'reverting bad; knownBad yes'],
    ['rollback-probe', 'rolling head; knownBad reverted'],
  ] as const)('killed at %s, the journal reads "%s", and the restarted tend reverts the bad commit exactly once', async (point, journalAtKill) => {
    const world = await convergedWorld();
    const bad = world.landApi('3.1.0', 'crash');
    if (point === 'reload') {
      // Only a changed unit file makes a daemon-reload: the bad commit changes api's limits too.
      world.source.resetHead(world.source.log()[1]?.sha ?? '');
      const spec = (world.source.fileAt(world.source.head, 'services/api/spec.yml') ?? '').replace('mem: 1G', 'mem: 768M');
      world.source.commitChanges('api 3.1.0', { 'services/api/api': world.source.fileAt(bad, 'services/api/api') ?? '', 'services/api/spec.yml': spec });
    }
    const culprit = world.source.head;
    let seen: string | undefined;
    world.killWhen = (reached) => {
      if (reached !== point || seen !== undefined) return false;
      seen = atKill(world, culprit);
      return true;
    };
    await world.settle('webhook');
    expect(seen).toBe(journalAtKill);
    expect(revertsIn(world)).toEqual([{ subject: 'Revert "api 3.1.0"', reverted: culprit }]);
    expect(apiVersions(world)).toEqual(['1.0.0', '1.0.0']);
    expect(world.journal.inFlight).toBeUndefined();
    expect(world.service('api')?.state).toBe('RolledBack');
  });

  it('killed at healthy, the restarted tend finishes the good rollout without restarting the host it saw healthy', async () => {
    const world = await convergedWorld();
    const good = world.landApi('2.0.0');
    world.killAt = 'healthy';
    await world.settle('webhook');
    expect(apiVersions(world)).toEqual(['2.0.0', '2.0.0']);
    expect(world.journal.lastApplied).toBe(good);
    expect(world.fleet.restarts.filter((one) => one === 'api@web-1')).toHaveLength(2);
  });

  it('a tend killed every 3 s while a bad canary fails its probe judges the same run from its start and reverts within healthy_deadline', async () => {
    const world = await convergedWorld();
    const restartsBefore = world.fleet.restarts.length;
    const bad = world.landApi('3.1.0', 'unhealthy');
    const start = world.now;
    let probes = 0;
    world.killWhen = (point) => point === 'probe' && ++probes % 3 === 0 && world.now - start < 60_000;
    let pushedAt = Number.POSITIVE_INFINITY;
    const push = world.source.push.bind(world.source);
    world.source.push = async (sha, expected) => {
      pushedAt = Math.min(pushedAt, world.now);
      return push(sha, expected);
    };
    await world.settle('webhook', 200);
    expect(revertsIn(world)).toEqual([{ subject: 'Revert "api 3.1.0"', reverted: bad }]);
    // The canary's unit was started once for 3.1.0, once for the rollback: never again per restart of tend.
    expect(world.fleet.restarts.slice(restartsBefore)).toEqual(['api@web-1', 'api@web-1']);
    expect(pushedAt - start).toBeLessThanOrEqual(60_000 + 5_000);
    const revert = world.source.log()[0];
    expect(revert?.trailers.get('Tend-Error-Code')).toEqual(['E_HEALTHY_DEADLINE']);
  });
});

describe('Reconciler: journal writes', () => {
  // The standby-partition CI failure: a leader cut off from etcd while it probed died of an unhandled
  // rejection, the run record its probe progress had queued, instead of stopping at a safe point.
  it('a journal write failing while a host is probed (etcd cut off) fails that pass, does not end the process, and the next pass converges', async () => {
    const world = await convergedWorld();
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => {
      unhandled.push(reason);
    };
    process.on('unhandledRejection', onUnhandled);
    try {
      world.sleepsTurnTheLoop = true;
      let failures = 0;
      world.failJournalWrite = (journal) => journal.inFlight?.runs['api'] !== undefined && failures++ === 0;
      const good = world.landApi('2.0.0');
      await expect(world.pass('webhook')).rejects.toMatchObject({ code: 'E_ETCD_UNAVAILABLE' });
      await new Promise((resolve) => setImmediate(resolve));
      expect(unhandled).toEqual([]);
      expect(failures).toBeGreaterThan(0);

      world.failJournalWrite = undefined;
      await world.settle('poll');
      expect(apiVersions(world)).toEqual(['2.0.0', '2.0.0']);
      expect(world.journal.lastApplied).toBe(good);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});

describe('Reconciler: history and hosts', () => {
  it('records good, bad (reverted) and good rollouts of api in order, with subjects, authors, failed hosts and the revert', async () => {
    const world = await convergedWorld();
    world.source.author = { name: 'Ada', email: 'ada@example.com' };
    const good = world.landApi('2.0.0');
    await world.settle('webhook');
    world.source.author = { name: 'Bob', email: 'bob@example.com' };
    world.now += 60_000;
    const bad = world.landApi('3.1.0', 'crash');
    await world.settle('webhook');
    const revert = world.source.head;
    world.source.author = { name: 'Ada', email: 'ada@example.com' };
    world.now += 60_000;
    const fixed = world.landApi('3.1.1');
    await world.settle('webhook');

    const api = world.journal.rollouts.filter((record) => record.service === 'api');
    expect(api.map((record) => [record.commit, record.subject, record.author, record.result, record.failedHosts, record.revertCommit, record.reverts])).toEqual([
      [api[0]?.commit, 'example repo', 'Dev <dev@example.com>', 'succeeded', [], undefined, undefined],
      [good, 'api 2.0.0', 'Ada <ada@example.com>', 'succeeded', [], undefined, undefined],
      [bad, 'api 3.1.0', 'Bob <bob@example.com>', 'failed-change', ['web-1'], revert, undefined],
      [revert, 'Revert "api 3.1.0"', 'tend <tend@deploy.invalid>', 'succeeded', [], undefined, bad],
      [fixed, 'api 3.1.1', 'Ada <ada@example.com>', 'succeeded', [], undefined, undefined],
    ]);
    expect(api.find((record) => record.commit === bad)?.code).toBe('E_UNIT_FAILED');
    for (const record of api) expect(record.endedAt).toBeGreaterThanOrEqual(record.startedAt);
    // Services the commits did not change have no rollout of them.
    expect(world.journal.rollouts.filter((record) => record.service === 'queue').map((record) => record.subject)).toEqual(['example repo']);
    // The status carries the newest first, and a restarted tend still has it all.
    expect(world.reconciler.status.recentRollouts[0]).toMatchObject({ service: 'api', commit: fixed });
    world.restart();
    expect(world.reconciler.journal.rollouts).toEqual(world.journal.rollouts);
  });

  it('shows per-host rows: the failed canary at the bad commit, the other host still on the old one, then the canary healthy on the revert', async () => {
    const world = await convergedWorld();
    const before = world.source.head;
    const bad = world.landApi('3.1.0', 'crash');
    let during: ReturnType<typeof hostRows> | undefined;
    const original = world.source.push.bind(world.source);
    world.source.push = async (sha, expected) => {
      during = hostRows(world, 'api');
      return original(sha, expected);
    };
    await world.settle('webhook');
    expect(during).toEqual([
      { host: 'web-1', commit: bad, state: 'failed' },
      { host: 'web-2', commit: before, state: 'pending' },
    ]);
    const revert = world.source.head;
    expect(hostRows(world, 'api')).toEqual([
      { host: 'web-1', commit: revert, state: 'healthy' },
      // Never changed: its files are the revert's already.
      { host: 'web-2', commit: revert, state: 'synced' },
    ]);
    const web1 = world.reconciler.status.hosts.find((row) => row.service === 'api' && row.host === 'web-1');
    expect(web1).toMatchObject({ unit: 'active/running', lastProbe: { ok: true, status: 200 }, observedAt: world.now });
    expect(web1?.version).toMatch(/^[0-9a-f]{12}$/);
  });

  it('keeps a host row\'s since while it stays in line, and marks an unreachable host without forgetting what it ran', async () => {
    const world = await convergedWorld();
    const since = world.reconciler.status.hosts.find((row) => row.host === 'web-2' && row.service === 'api')?.since;
    world.now += 3_600_000;
    await world.settle('resync');
    const row = world.reconciler.status.hosts.find((one) => one.host === 'web-2' && one.service === 'api');
    expect(row).toMatchObject({ state: 'synced', since, observedAt: world.now });
    world.fleet.unreachable.add('web-2');
    world.now += 3_600_000;
    const lost = world.now;
    await world.settle('resync');
    expect(world.reconciler.status.hosts.find((one) => one.host === 'web-2' && one.service === 'api')).toMatchObject({ state: 'unreachable', commit: row?.commit, version: row?.version, since: lost });
  });
});

function hostRows(world: DaemonWorld, service: string): { host: string; commit: string | undefined; state: string }[] {
  return world.reconciler.status.hosts.filter((row) => row.service === service).map((row) => ({ host: row.host, commit: row.commit, state: row.state }));
}
