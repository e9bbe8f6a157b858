import { describe, expect, it } from 'vitest';
import { planRef, type RefPlan } from '../../../src/preview/index.js';
import { DaemonWorld } from '../daemon/support/daemon-world.js';

/**
 * `planRef`, the daemon's plan of a ref it does not follow, against the daemon's in-memory world: the
 * example repo applied to a fake fleet, then a branch beside it.
 */

const SECRETS = { description: 'test secrets', read: async () => 'secret-token-value' };

async function applied(): Promise<DaemonWorld> {
  const world = await DaemonWorld.create();
  await world.settle();
  return world;
}

function plan(world: DaemonWorld, ref: string): Promise<RefPlan> {
  return planRef({ source: world.source, base: world.source.head, fleet: world.fleet, secrets: SECRETS }, ref);
}

describe('planRef', () => {
  it('plans only the services the branch changes, observes only their hosts, and moves nothing', async () => {
    const world = await applied();
    const head = world.source.head;
    const spec = world.source.fileAt(head, 'services/api/spec.yml') ?? '';
    const sha = world.source.commitOnRef('feature', 'api: debug logs', { 'services/api/spec.yml': spec.replace('API_PORT=8080', 'API_PORT=8080\n    LOG_LEVEL=debug') });
    const observationsBefore = world.fleet.observations.length;
    const result = await plan(world, 'feature');
    expect(result).toMatchObject({ verdict: 'changes', ref: 'feature', sha, services: ['api'] });
    expect(world.fleet.observations.slice(observationsBefore)).toEqual([['web-1', 'web-2']]);
    expect(result.verdict !== 'invalid' && result.notPlanned).toEqual(['gateway', 'queue', 'reports']);
    expect(result.text).toMatch(/^api\n {2}batch 1:\n {4}update +web-1/m);
    expect(result.text).not.toContain('secret-token-value');
    expect(JSON.stringify(result)).not.toContain('secret-token-value');
    expect(world.source.head).toBe(head);
    expect(world.fleet.applies).toHaveLength(1);
  });

  it('says no changes for the followed head itself, having planned every service', async () => {
    const world = await applied();
    const result = await plan(world, world.source.head);
    expect(result).toMatchObject({ verdict: 'no-changes', services: undefined, notPlanned: [] });
  });

  it('answers an invalid branch with its issues at file:line:col and observes no host', async () => {
    const world = await applied();
    world.source.commitOnRef('broken', 'typo', { 'services/queue/spec.yml': 'service:\n  name: queue\n  group: web\n  deploy:\n    serail: 1\n' });
    const observationsBefore = world.fleet.observations.length;
    const result = await plan(world, 'broken');
    expect(result.verdict).toBe('invalid');
    expect(result.verdict === 'invalid' && result.issues[0]).toMatchObject({ file: 'services/queue/spec.yml', line: 5, col: 5 });
    expect(result.text).toMatch(/^services\/queue\/spec\.yml:5:5: /);
    expect(world.fleet.observations.length).toBe(observationsBefore);
  });

  it('refuses a ref the server does not have with E_PLAN_REF_MISSING, and a malformed one with E_PLAN_REF', async () => {
    const world = await applied();
    await expect(plan(world, 'no-such-branch')).rejects.toMatchObject({ code: 'E_PLAN_REF_MISSING', errorClass: 'invalid' });
    await expect(plan(world, 'bad..name')).rejects.toMatchObject({ code: 'E_PLAN_REF', errorClass: 'invalid' });
  });
});
