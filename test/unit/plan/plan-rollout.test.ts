import { describe, expect, it } from 'vitest';
import { InternalError, TendError } from '../../../src/errors/index.js';
import type { ObservedHost } from '../../../src/hosts/observed.js';
import type { DesiredState, Plan, PlanResult } from '../../../src/plan/model.js';
import { planRollout } from '../../../src/plan/plan-rollout.js';
import type { PruneSettings } from '../../../src/spec/model.js';
import {
  aDesiredState,
  aHost,
  anUnreachableHost,
  aPlacement,
  aService,
  convergedFleet,
  convergedService,
  hash,
  hostNames,
  runningUnit,
  unitFile,
  envFile,
} from './builders.js';

const PRUNE_OFF: PruneSettings = { enabled: false, maxFraction: 0.5 };
const PRUNE_ON: PruneSettings = { enabled: true, maxFraction: 0.5 };

function planOf(desired: DesiredState, observed: ObservedHost[], prune: PruneSettings = PRUNE_OFF): Plan {
  const result = planRollout(desired, observed, { prune });
  if (!result.ok) throw new Error(`expected a plan, got ${result.error.code}`);
  return result.plan;
}

function batchHosts(plan: Plan, service: string): string[][] {
  const servicePlan = plan.services.find((candidate) => candidate.service === service);
  return (servicePlan?.batches ?? []).map((batch) => batch.map((step) => step.host));
}

/** A release change on every given host, everything else converged. */
function newReleaseOn(service: string, hosts: string[]): { desired: DesiredState; observed: ObservedHost[] } {
  const placements = hosts.map((host) => aPlacement(service, host, { release: hash('new') }));
  const observed = hosts.map((host) => aHost(host, [convergedService(aPlacement(service, host, { release: hash('old') }))]));
  return { desired: aDesiredState([aService(service)], placements), observed };
}

describe('planRollout', () => {
  it('plans nothing for a converged fleet', () => {
    const placements = hostNames(3).flatMap((host) => [aPlacement('api', host), aPlacement('web', host)]);
    const plan = planOf(aDesiredState([aService('api'), aService('web', { after: ['api'] })], placements), convergedFleet(placements));
    expect(plan.empty).toBe(true);
    expect(plan.services.map((service) => service.batches)).toEqual([[], []]);
    expect(plan.services.map((service) => service.unchanged)).toEqual([hostNames(3), hostNames(3)]);
    expect(plan.prunes).toEqual([]);
    expect(plan.orphans).toEqual([]);
  });

  it('plans a change for a fleet that differs by one env file on one host', () => {
    const placements = hostNames(3).map((host) => aPlacement('api', host));
    const observed = convergedFleet(placements);
    const changed = placements.map((placement) =>
      placement.host === 'host-02' ? { ...placement, files: [unitFile('api'), envFile('api', 'v2')] } : placement,
    );
    const plan = planOf(aDesiredState([aService('api')], changed), observed);
    expect(plan.empty).toBe(false);
    expect(batchHosts(plan, 'api')).toEqual([['host-02']]);
    expect(plan.services[0]?.unchanged).toEqual(['host-01', 'host-03']);
  });

  it('orders services by after: and waits for exactly the after list', () => {
    const services = [aService('api', { after: ['db'] }), aService('db'), aService('web', { after: ['api', 'db'] })];
    const placements = services.map((service) => aPlacement(service.name, 'host-01'));
    const plan = planOf(aDesiredState(services, placements), [aHost('host-01')]);
    expect(plan.services.map((service) => [service.service, service.waitsFor])).toEqual([
      ['db', []],
      ['api', ['db']],
      ['web', ['api', 'db']],
    ]);
  });

  it('puts the canary alone in the first batch, then serial batches of hosts sorted by name', () => {
    const hosts = ['host-05', 'host-01', 'host-04', 'host-02', 'host-03'];
    const { desired, observed } = newReleaseOn('api', hosts);
    const spec = aService('api', { deploy: { canary: 1, serial: { kind: 'count', count: 2 } } });
    const plan = planOf({ ...desired, services: [spec] }, observed);
    expect(batchHosts(plan, 'api')).toEqual([['host-01'], ['host-02', 'host-03'], ['host-04', 'host-05']]);
  });

  it('takes a percent serial of all the service\'s hosts, rounded up', () => {
    const { desired, observed } = newReleaseOn('api', hostNames(7));
    const spec = aService('api', { deploy: { canary: 0, serial: { kind: 'percent', percent: 25 } } });
    const plan = planOf({ ...desired, services: [spec] }, observed);
    // 25% of 7 is 1.75: batches of 2.
    expect(batchHosts(plan, 'api').map((batch) => batch.length)).toEqual([2, 2, 2, 1]);
  });

  it('lists unchanged and unreachable hosts sorted by name whatever order the placements come in', () => {
    const placements = ['host-04', 'host-02', 'host-03', 'host-01'].map((host) => aPlacement('api', host));
    const observed: ObservedHost[] = [...convergedFleet(placements.slice(0, 2)), anUnreachableHost('host-03'), anUnreachableHost('host-01')];
    const api = planOf(aDesiredState([aService('api')], placements), observed).services[0]!;
    expect(api.unchanged).toEqual(['host-02', 'host-04']);
    expect(api.unreachable.map((skipped) => skipped.host)).toEqual(['host-01', 'host-03']);
  });

  it('lists unreachable hosts apart and plans no step for them', () => {
    const placements = hostNames(3).map((host) => aPlacement('api', host));
    const observed: ObservedHost[] = [aHost('host-01'), anUnreachableHost('host-02'), aHost('host-03', [convergedService(placements[2]!)])];
    const plan = planOf(aDesiredState([aService('api')], placements), observed);
    const api = plan.services[0]!;
    expect(api.unreachable).toEqual([{ host: 'host-02', code: 'E_HOST_UNREACHABLE', errorClass: 'transient', message: 'host-02:22 connection refused' }]);
    expect(batchHosts(plan, 'api')).toEqual([['host-01']]);
    expect(api.unchanged).toEqual(['host-03']);
    expect(api.hostCount).toBe(3);
  });

  it('never plans to overwrite a unit that lacks the ownership marker', () => {
    const placement = aPlacement('api', 'host-01');
    const plan = planOf(aDesiredState([aService('api')], [placement]), [aHost('host-01', [], ['/etc/systemd/system/api.service'])]);
    const api = plan.services[0]!;
    expect(api.batches).toEqual([]);
    expect(api.blocked).toEqual([
      { host: 'host-01', code: 'E_FOREIGN_UNIT', errorClass: 'conflict', message: expect.stringContaining('/etc/systemd/system/api.service') as unknown },
    ]);
    expect(plan.empty).toBe(true);
  });

  it('restarts a converged service whose unit failed', () => {
    const placement = aPlacement('api', 'host-01');
    const observed = [aHost('host-01', [convergedService(placement, { unit: runningUnit({ activeState: 'failed', subState: 'failed' }) })])];
    const plan = planOf(aDesiredState([aService('api')], [placement]), observed);
    expect(plan.services[0]?.batches[0]?.[0]?.action).toBe('restart');
  });

  it('plans a rollback to a kept release without upload', () => {
    const placement = aPlacement('api', 'host-01', { release: hash('v1') });
    const observed = [aHost('host-01', [convergedService({ ...placement, release: hash('v2') }, { releases: [hash('v2'), hash('v1')] })])];
    const plan = planOf(aDesiredState([aService('api')], [placement]), observed);
    expect(plan.services[0]?.batches[0]?.[0]).toMatchObject({ action: 'update', release: hash('v1'), releasePresent: true, writes: [] });
  });

  it('restarts and re-probes, ahead of the rest, hosts an interrupted rollout never saw healthy', () => {
    const hosts = hostNames(3);
    const placements = hosts.map((host) => aPlacement('api', host, { release: hash('new') }));
    // host-03 already got the new release before tend was killed; host-01 and host-02 still run the old one.
    const observed = hosts.map((host) =>
      aHost(host, [convergedService(aPlacement('api', host, { release: hash(host === 'host-03' ? 'new' : 'old') }))]),
    );
    const desired = aDesiredState([aService('api')], placements);
    const result = planRollout(desired, observed, { prune: PRUNE_OFF, resume: (service, host) => (service === 'api' && host === 'host-03' ? { kind: 'restart' } : undefined) });
    if (!result.ok) throw new Error(result.error.code);
    expect(batchHosts(result.plan, 'api')).toEqual([['host-03'], ['host-01'], ['host-02']]);
    expect(result.plan.services[0]?.batches[0]?.[0]).toMatchObject({ action: 'restart', reasons: [{ what: 'unverified' }] });
  });

  it('leaves a converged host alone when nothing says its health is unproven', () => {
    const placement = aPlacement('api', 'host-01');
    const result = planRollout(aDesiredState([aService('api')], [placement]), convergedFleet([placement]), { prune: PRUNE_OFF, resume: () => undefined });
    expect(result.ok && result.plan.empty).toBe(true);
  });

  it('plans a service delivered from run.url like one with an artifact: a new sha256 is a new release to stage', () => {
    const service = { ...aService('api'), run: { kind: 'url' as const, url: 'https://artifacts.example.com/api-2.tar.gz', sha256: hash('api-2'), downloadName: 'api-2.tar.gz', archive: 'tar.gz' as const, fileName: 'bin/api', fetch: 'host' as const, credentials: undefined, argv: ['bin/api'] } };
    const running = aPlacement('api', 'host-01');
    const wanted = { ...running, release: hash('api-2') };
    const result = planRollout(aDesiredState([service], [wanted]), convergedFleet([running]), { prune: PRUNE_OFF });
    expect(result.ok).toBe(true);
    expect(result.plan.services[0]?.batches[0]?.[0]).toMatchObject({ action: 'update', release: hash('api-2'), releasePresent: false });
  });

  it('prunes nothing and reports no orphan when it plans only some services (a partial pass)', () => {
    const kept = aPlacement('api', 'host-01');
    const other = convergedService(aPlacement('queue', 'host-01'));
    const observed = [aHost('host-01', [convergedService(kept), other])];
    const result = planRollout(aDesiredState([aService('api')], [kept]), observed, { prune: { enabled: true, maxFraction: 1 }, partial: true });
    expect(result.ok && result.plan).toMatchObject({ prunes: [], orphans: [], empty: true });
  });

  describe('prune', () => {
    const kept = aPlacement('api', 'host-01');
    const gone = aPlacement('old', 'host-01');
    const observed = [aHost('host-01', [convergedService(kept), convergedService(gone), convergedService(aPlacement('more', 'host-01'))])];
    const desired = aDesiredState([aService('api')], [kept]);

    it('reports services gone from the repo as orphans and never acts when prune is off', () => {
      const plan = planOf(desired, observed, PRUNE_OFF);
      expect(plan.prunes).toEqual([]);
      expect(plan.orphans).toEqual([
        { service: 'more', host: 'host-01' },
        { service: 'old', host: 'host-01' },
      ]);
      expect(plan.empty).toBe(true);
    });

    it('plans prune steps deleting every file of a service gone from the repo when prune is on', () => {
      const plan = planOf(desired, observed, { enabled: true, maxFraction: 0.7 });
      expect(plan.orphans).toEqual([]);
      expect(plan.prunes.map((step) => [step.service, step.action])).toEqual([
        ['more', 'prune'],
        ['old', 'prune'],
      ]);
      expect(plan.prunes[1]).toMatchObject({
        host: 'host-01',
        deletes: ['/etc/systemd/system/old.service', '/etc/tend/env/old.env'],
        writes: [],
        needsDaemonReload: true,
        reasons: [{ what: 'removed', detail: 'old is no longer in the repo' }],
      });
      expect(plan.empty).toBe(false);
    });

    it('refuses to prune more than max_fraction of the managed services', () => {
      // 2 of 3 managed services would go: 67% > 50%.
      const result: PlanResult = planRollout(desired, observed, { prune: PRUNE_ON });
      expect(result.ok).toBe(false);
      if (result.ok) return;
      expect(result.error).toBeInstanceOf(TendError);
      expect(result.error).toMatchObject({ code: 'E_PRUNE_LIMIT', errorClass: 'invalid' });
      expect(result.error.hint).toMatch(/prune\.max_fraction.*tend\.yml/);
      expect(result.error.hint).toMatch(/smaller commits/);
      // The refused plan is still there to be shown.
      expect(result.plan.prunes).toHaveLength(2);
    });

    it('allows a prune of exactly max_fraction', () => {
      const half = [aHost('host-01', [convergedService(kept), convergedService(gone)])];
      expect(planRollout(desired, half, { prune: PRUNE_ON }).ok).toBe(true);
    });

    it('prunes a service from a host that left its group while the service stays elsewhere', () => {
      const placements = [aPlacement('api', 'host-01')];
      const fleet = [aHost('host-01', [convergedService(placements[0]!)]), aHost('host-02', [convergedService(aPlacement('api', 'host-02'))])];
      const plan = planOf(aDesiredState([aService('api')], placements), fleet, PRUNE_ON);
      expect(plan.prunes).toMatchObject([{ service: 'api', host: 'host-02', reasons: [{ what: 'removed', detail: "host-02 is no longer in api's group" }] }]);
    });

    it('prunes nothing on an unreachable host', () => {
      const plan = planOf(desired, [aHost('host-01', [convergedService(kept)]), anUnreachableHost('host-02')], PRUNE_ON);
      expect(plan.prunes).toEqual([]);
    });
  });

  describe('invariants', () => {
    it('treats a placement on a host that was never observed as tend\'s bug', () => {
      expect(() => planRollout(aDesiredState([aService('api')], [aPlacement('api', 'host-09')]), [], { prune: PRUNE_OFF })).toThrow(InternalError);
    });

    it('treats a duplicate placement as tend\'s bug', () => {
      const placement = aPlacement('api', 'host-01');
      expect(() => planRollout(aDesiredState([aService('api')], [placement, placement]), [aHost('host-01')], { prune: PRUNE_OFF })).toThrow(
        InternalError,
      );
    });

    it('treats a duplicate placement as tend\'s bug when other hosts come between the two', () => {
      const placements = [aPlacement('api', 'host-01'), aPlacement('api', 'host-02'), aPlacement('api', 'host-01')];
      expect(() => planRollout(aDesiredState([aService('api')], placements), [aHost('host-01'), aHost('host-02')], { prune: PRUNE_OFF })).toThrow(
        InternalError,
      );
    });
  });
});
