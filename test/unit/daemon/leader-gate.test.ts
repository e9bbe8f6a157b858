import { describe, expect, it } from 'vitest';
import { DaemonWorld } from './support/daemon-world.js';

/**
 * The reconciler asks its gate (`mayAct`: with `ha`, whether this instance still holds the leader's lease)
 * before each host step begins and before a revert push. A leader deposed mid-pass stops at the next safe
 * point; the next leader, starting from the same journal, finishes the work once.
 */
const WEB = ['web-1', 'web-2'];

async function convergedWorld(): Promise<DaemonWorld> {
  const world = await DaemonWorld.create();
  await world.settle('startup');
  return world;
}

function revertCommits(world: DaemonWorld): string[] {
  return world.source.log().filter((commit) => commit.trailers.has('Tend-Rollout-Id')).map((commit) => commit.subject);
}

describe('the leader gate', () => {
  it('a leader deposed after its first host step begins no other; the next leader finishes the rollout', async () => {
    const world = await convergedWorld();
    const good = world.landApi('2.0.0');
    const restartsBefore = world.fleet.restarts.length;
    world.leading = () => world.fleet.restarts.length === restartsBefore;
    await world.settle('webhook');
    expect(world.fleet.restarts.slice(restartsBefore)).toEqual(['api@web-1']);
    expect(WEB.map((host) => world.fleet.versionOn(host, 'api'))).toEqual(['2.0.0', '1.0.0']);

    world.leading = () => true;
    world.restart();
    await world.settle('startup');
    expect(WEB.map((host) => world.fleet.versionOn(host, 'api'))).toEqual(['2.0.0', '2.0.0']);
    expect(world.journal.lastApplied).toBe(good);
  });

  it('a leader deposed after writing the revert commit does not push it; the next leader pushes it exactly once', async () => {
    const world = await convergedWorld();
    world.landApi('3.1.0', 'crash');
    let deposed = false;
    world.leading = () => !deposed;
    world.killWhen = (point) => {
      if (point === 'after-revert-commit') deposed = true;
      return false;
    };
    await world.settle('webhook');
    expect(world.source.pushes).toEqual([]);
    expect(world.journal.inFlight?.phase).toBe('reverting');

    world.killWhen = undefined;
    world.leading = () => true;
    world.restart();
    await world.settle('startup');
    expect(revertCommits(world)).toEqual(['Revert "api 3.1.0"']);
    expect(world.source.pushes).toHaveLength(1);
    expect(WEB.map((host) => world.fleet.versionOn(host, 'api'))).toEqual(['1.0.0', '1.0.0']);
  });
});
