import { describe, expect, it } from 'vitest';
import type { RemoteFiles, RunOptions } from '../../../src/hosts/index.js';
import type { HostStep } from '../../../src/plan/model.js';
import { runHostStep, type RolloutEffects } from '../../../src/rollout/index.js';
import type { HostSpec, ServiceSpec } from '../../../src/spec/model.js';

const INVOCATION = '0123456789abcdef0123456789abcdef';
const PROBE_INTERVAL_MS = 10_000;
const SUPERSEDED_AT_MS = 1_000;

/** A host whose api runs (the same invocation throughout) and whose exec probe passes; every command recorded. */
function fakeHost(): { pool: RemoteFiles; commands: { argv: readonly string[]; options: RunOptions | undefined }[] } {
  const commands: { argv: readonly string[]; options: RunOptions | undefined }[] = [];
  const show = ['Id=api.service', 'ActiveState=active', 'SubState=running', `InvocationID=${INVOCATION}`, 'NRestarts=0', 'NeedDaemonReload=no', 'MainPID=4242', 'UnitFileState=enabled', 'systemctl-show end rc=0', ''];
  return {
    commands,
    pool: {
      run: async (_host, argv, options) => {
        commands.push({ argv, options });
        return { code: 0, stdout: argv[0] === 'sh' ? show.join('\n') : '', stderr: '' };
      },
      withSftp: async () => {
        throw new Error('no sftp in this test');
      },
    },
  };
}

describe('a host step watching its run', () => {
  it('stops within a moment of being superseded (a newer commit, the lease running out), not a whole probe interval later', async () => {
    const { pool, commands } = fakeHost();
    let now = 0;
    const service = {
      name: 'api',
      timers: [],
      run: { kind: 'artifact' },
      deploy: {
        probe: { type: 'exec', argv: ['/usr/local/bin/check'] },
        timing: { interval: PROBE_INTERVAL_MS, timeout: 2_000, minHealthyTime: 60_000, healthyDeadline: 120_000, progressDeadline: 300_000 },
      },
    } as unknown as ServiceSpec;
    const host = { name: 'web-1', user: 'root', address: '10.78.0.11' } as unknown as HostSpec;
    // Goes on judging a run begun before a takeover: nothing to write or restart, only the watch.
    const step: HostStep = {
      host: 'web-1',
      service: 'api',
      action: 'restart',
      reasons: [],
      writes: [],
      deletes: [],
      release: undefined,
      releasePresent: false,
      needsDaemonReload: false,
      judgeRun: { invocationId: INVOCATION, nRestarts: 0, restartedAt: 0 },
    };
    const effects: RolloutEffects = {
      pool,
      now: () => now,
      sleep: async (ms) => {
        now += ms;
      },
      readArtifact: async () => new Uint8Array(),
      onProgress: () => undefined,
      keepReleases: 3,
      superseded: () => now >= SUPERSEDED_AT_MS,
      actor: { commit: 'f'.repeat(40), identity: 'tend-a', rollback: false },
    };

    const result = await runHostStep({ step, service, host, rendered: { service: 'api', host: 'web-1', files: [] } as never, before: undefined }, effects);

    expect(result.outcome).toBe('superseded');
    expect(result.endedAt - SUPERSEDED_AT_MS).toBeLessThan(PROBE_INTERVAL_MS / 10);
    const shows = commands.filter((command) => command.argv[0] === 'sh');
    expect(shows, 'no probe round after the rollout was superseded').toHaveLength(1);
    expect(commands[0]?.options?.journalMark).toBe('begin judge api commit=ffffffffffff by=tend-a');
    expect(commands.at(-1)?.argv).toEqual(['logger', '-t', 'tend', '--', 'end judge api commit=ffffffffffff outcome=superseded by=tend-a']);
  });
});
