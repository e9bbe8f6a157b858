import { describe, expect, it } from 'vitest';
import type { RemoteFiles, RunOptions } from '../../../src/hosts/index.js';
import type { HostStep } from '../../../src/plan/model.js';
import { runHostStep, type RolloutEffects } from '../../../src/rollout/index.js';
import type { HostSpec, ServiceSpec } from '../../../src/spec/model.js';

const INVOCATION = '0123456789abcdef0123456789abcdef';
const PROBE_INTERVAL_MS = 10_000;
const SUPERSEDED_AT_MS = 1_000;

interface ShownUnit {
  invocationId: string;
  nRestarts: number;
  subState: 'running' | 'auto-restart';
}

/** What `systemctl show` prints of api in this state, with the end line tend's script adds. */
function showOutput(unit: ShownUnit): string {
  const active = unit.subState === 'running' ? 'active' : 'activating';
  return [`Id=api.service`, `ActiveState=${active}`, `SubState=${unit.subState}`, `InvocationID=${unit.invocationId}`, `NRestarts=${unit.nRestarts}`, 'NeedDaemonReload=no', 'MainPID=4242', 'UnitFileState=enabled', 'systemctl-show end rc=0', ''].join('\n');
}

/** A host whose api runs (the same invocation throughout) and whose exec probe passes; every command recorded. */
function fakeHost(): { pool: RemoteFiles; commands: { argv: readonly string[]; options: RunOptions | undefined }[] } {
  const commands: { argv: readonly string[]; options: RunOptions | undefined }[] = [];
  const show = showOutput({ invocationId: INVOCATION, nRestarts: 0, subState: 'running' });
  return {
    commands,
    pool: {
      run: async (_host, argv, options) => {
        commands.push({ argv, options });
        return { code: 0, stdout: argv[0] === 'sh' ? show : '', stderr: '' };
      },
      withSftp: async () => {
        throw new Error('no sftp in this test');
      },
    },
  };
}

/**
 * systemd 252's restart counter, as measured on the harness hosts: `systemctl restart` of a running unit
 * starts the new run at NRestarts=0, but a restart issued while the unit waits in `auto-restart` keeps the
 * count its crash loop reached.
 */
function crashLoopingHost(unit: ShownUnit): { pool: RemoteFiles; unit: ShownUnit } {
  let runs = 0;
  return {
    unit,
    pool: {
      run: async (_host, argv) => {
        const command = argv.join(' ');
        if (command.includes('systemctl restart')) {
          if (unit.subState !== 'auto-restart') unit.nRestarts = 0;
          runs += 1;
          unit.invocationId = `${'0'.repeat(31)}${runs}`;
          unit.subState = 'running';
        }
        return { code: 0, stdout: argv[0] === 'sh' ? showOutput(unit) : '', stderr: '' };
      },
      withSftp: async () => {
        throw new Error('no sftp in this test');
      },
    },
  };
}

const SERVICE = {
  name: 'api',
  timers: [],
  run: { kind: 'artifact' },
  deploy: {
    probe: { type: 'exec', argv: ['/usr/local/bin/check'] },
    timing: { interval: PROBE_INTERVAL_MS, timeout: 2_000, minHealthyTime: 60_000, healthyDeadline: 120_000, progressDeadline: 300_000 },
  },
} as unknown as ServiceSpec;
const HOST = { name: 'web-1', user: 'root', address: '10.78.0.11' } as unknown as HostSpec;
const RENDERED = { service: 'api', host: 'web-1', files: [] } as never;

function restartStep(judgeRun?: HostStep['judgeRun']): HostStep {
  return { host: 'web-1', service: 'api', action: 'restart', reasons: [], writes: [], deletes: [], release: undefined, releasePresent: false, needsDaemonReload: false, ...(judgeRun === undefined ? {} : { judgeRun }) };
}

/** Effects on a moved clock: every wait moves it, so a probe interval costs no real time. */
function effectsOn(pool: RemoteFiles, superseded?: (now: number) => boolean): RolloutEffects & { readonly clock: { now: number } } {
  const clock = { now: 0 };
  return {
    clock,
    pool,
    now: () => clock.now,
    sleep: async (ms) => {
      clock.now += ms;
    },
    readArtifact: async () => new Uint8Array(),
    onProgress: () => undefined,
    keepReleases: 3,
    ...(superseded === undefined ? {} : { superseded: () => superseded(clock.now) }),
    actor: { commit: 'f'.repeat(40), identity: 'tend-a', rollback: false },
  };
}

describe('a host step watching its run', () => {
  it('stops within a moment of being superseded (a newer commit, the lease running out), not a whole probe interval later', async () => {
    const { pool, commands } = fakeHost();
    const effects = effectsOn(pool, (now) => now >= SUPERSEDED_AT_MS);
    // Goes on judging a run begun before a takeover: nothing to write or restart, only the watch.
    const step = restartStep({ invocationId: INVOCATION, nRestarts: 0, restartedAt: 0 });

    const result = await runHostStep({ step, service: SERVICE, host: HOST, rendered: RENDERED, before: undefined }, effects);

    expect(result.outcome).toBe('superseded');
    expect(result.endedAt - SUPERSEDED_AT_MS).toBeLessThan(PROBE_INTERVAL_MS / 10);
    const shows = commands.filter((command) => command.argv[0] === 'sh');
    expect(shows, 'no probe round after the rollout was superseded').toHaveLength(1);
    expect(commands[0]?.options?.journalMark).toBe('begin judge api commit=ffffffffffff by=tend-a');
    expect(commands.at(-1)?.argv).toEqual(['logger', '-t', 'tend', '--', 'end judge api commit=ffffffffffff outcome=superseded by=tend-a']);
  });

  // The takeover case that failed in CI: rolling back a crash-looping version, systemd restarted the old
  // run between tend's observation and tend's restart, and the good run was blamed for it.
  it('judges the run its restart started, not a count the old crash loop moved after the pass observed it', async () => {
    const observed = { activeState: 'active', subState: 'running', invocationId: 'a'.repeat(32), nRestarts: 1, needDaemonReload: false, mainPid: 41, unitFileState: 'enabled' };
    // Since the observation: crashed, restarted by systemd (NRestarts 2), crashed again, waiting to restart.
    const { pool, unit } = crashLoopingHost({ invocationId: 'b'.repeat(32), nRestarts: 2, subState: 'auto-restart' });
    const effects = effectsOn(pool);

    const result = await runHostStep({ step: restartStep(), service: SERVICE, host: HOST, rendered: RENDERED, before: observed }, effects);

    expect(unit.nRestarts, 'systemd kept the crash loop\'s count across the restart').toBe(2);
    expect(result).toMatchObject({ outcome: 'healthy', code: 'HEALTHY' });
  });

  it('still fails a run that restarts after tend started it', async () => {
    const { pool, unit } = crashLoopingHost({ invocationId: 'b'.repeat(32), nRestarts: 0, subState: 'running' });
    const effects = effectsOn({
      ...pool,
      run: async (host, argv, options) => {
        // The new run crashes once the first probe round is past: systemd restarts it, NRestarts 0 -> 1.
        if (effects.clock.now >= PROBE_INTERVAL_MS && unit.nRestarts === 0 && !argv.join(' ').includes('systemctl restart')) unit.nRestarts = 1;
        return pool.run(host, argv, options);
      },
    });

    const result = await runHostStep({ step: restartStep(), service: SERVICE, host: HOST, rendered: RENDERED, before: undefined }, effects);

    expect(result).toMatchObject({ outcome: 'failed', code: 'E_UNIT_RESTARTED', detail: 'the new run restarted (NRestarts 0 -> 1)' });
  });
});
