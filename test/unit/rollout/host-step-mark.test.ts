import { describe, expect, it } from 'vitest';
import type { RemoteFiles, RunOptions } from '../../../src/hosts/index.js';
import type { HostAction } from '../../../src/plan/model.js';
import { hostStepMarkText, markingFirstCommand, type StepEdge } from '../../../src/rollout/host-step-mark.js';

const SHA = '1a2b3c4d5e6f7a8b9c0d1a2b3c4d5e6f7a8b9c0d';

describe('hostStepMarkText', () => {
  it.each<[string, StepEdge, HostAction, boolean, string]>([
    ['a step begins', { kind: 'begin' }, 'update', false, `begin update api commit=1a2b3c4d5e6f by=tend-1`],
    ['a step ends with its outcome', { kind: 'end', outcome: 'healthy' }, 'update', false, `end update api commit=1a2b3c4d5e6f outcome=healthy by=tend-1`],
    ['a step of a revert is a rollback', { kind: 'begin' }, 'update', true, `begin rollback api commit=1a2b3c4d5e6f by=tend-1`],
    ['a first deploy says create', { kind: 'end', outcome: 'superseded' }, 'create', false, `end create api commit=1a2b3c4d5e6f outcome=superseded by=tend-1`],
  ])('names service, step, short commit and identity when %s', (_case, edge, action, rollback, expected) => {
    expect(hostStepMarkText(edge, 'api', action, { commit: SHA, identity: 'tend-1', rollback }, false)).toBe(expected);
  });

  it('says judge for a step that only goes on judging a run begun before a restart or a takeover', () => {
    expect(hostStepMarkText({ kind: 'begin' }, 'api', 'restart', { commit: SHA, identity: 'tend-2', rollback: false }, true)).toBe('begin judge api commit=1a2b3c4d5e6f by=tend-2');
  });

  it('says working-tree for `tend apply`, which applies no commit', () => {
    expect(hostStepMarkText({ kind: 'begin' }, 'api', 'restart', { commit: undefined, identity: 'ann@laptop', rollback: false }, false)).toBe('begin restart api commit=working-tree by=ann@laptop');
  });

  it('puts the identity last, so one with spaces still reads whole', () => {
    expect(hostStepMarkText({ kind: 'end', outcome: 'failed' }, 'api', 'update', { commit: SHA, identity: 'tend a/127.0.0.1:9464', rollback: false }, false)).toMatch(/ outcome=failed by=tend a\/127\.0\.0\.1:9464$/);
  });
});

describe('markingFirstCommand', () => {
  function recordingPool(): { pool: RemoteFiles; runs: { host: string; argv: readonly string[]; options: RunOptions | undefined }[] } {
    const runs: { host: string; argv: readonly string[]; options: RunOptions | undefined }[] = [];
    return {
      runs,
      pool: {
        run: async (host, argv, options) => {
          runs.push({ host: host.name, argv, options });
          return { code: 0, stdout: '', stderr: '' };
        },
        withSftp: async () => {
          throw new Error('no sftp here');
        },
      },
    };
  }

  it('carries the mark on the step’s first command to its host, in the same round trip, and on no other', async () => {
    const { pool, runs } = recordingPool();
    const marked = markingFirstCommand(pool, { name: 'web-1', user: 'root' }, 'begin update api commit=1a2b3c4d5e6f by=tend-1');
    await marked.run({ name: 'web-2', user: 'root' }, ['true']);
    await marked.run({ name: 'web-1', user: 'root' }, ['systemctl', 'daemon-reload'], { sudo: true });
    await marked.run({ name: 'web-1', user: 'root' }, ['systemctl', 'restart', '--', 'api.service'], { sudo: true });
    expect(runs.map((run) => [run.host, run.argv[0], run.options?.journalMark])).toEqual([
      ['web-2', 'true', undefined],
      ['web-1', 'systemctl', 'begin update api commit=1a2b3c4d5e6f by=tend-1'],
      ['web-1', 'systemctl', undefined],
    ]);
    expect(runs[1]?.options?.sudo).toBe(true);
  });
});
