import { execFile } from 'node:child_process';
import { rm, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { STOP_ON_EOF_SCRIPT, type SshHost } from '../../../src/hosts/index.js';
import type { SshPool } from '../../../src/hosts/ssh-pool.js';
import { createThrowawayUser, useLoopbackHost } from './loopback-sshd.js';

/**
 * `tend logs -f` against a real OpenSSH server, as root (whose sessions ignore signal requests): a
 * follower streams its lines as they come, ends when tend closes the channel's stdin (Ctrl-C), leaves no
 * process behind, and a follower that fails on its own still ends the command.
 */
let host: SshHost;
let pool: SshPool;

const loopback = useLoopbackHost();

beforeAll(() => {
  ({ host, pool } = loopback.current());
});

async function running(marker: string): Promise<boolean> {
  const result = await promisify(execFile)('pgrep', ['-f', marker]).catch(() => ({ stdout: '' }));
  return result.stdout.trim() !== '';
}

describe('a follower under STOP_ON_EOF_SCRIPT', { timeout: 60_000 }, () => {
  it('streams its output, ends with exit 0 when stop aborts, and leaves no process behind', async () => {
    // A unique duration is the marker pgrep finds: `sleep 300.<pid>`.
    const marker = `sleep 300.${process.pid}`;
    const stop = new AbortController();
    let seen = '';
    let sawFirstLine: () => void = () => undefined;
    const started = new Promise<void>((resolve) => {
      sawFirstLine = resolve;
    });
    const run = pool.run(host, ['sh', '-c', STOP_ON_EOF_SCRIPT, 'tend-logs', 'sh', '-c', `echo line-one; exec ${marker}`], {
      timeoutMs: 120_000,
      stopWhen: stop.signal,
      onStdout: (chunk) => {
        seen += chunk.toString('utf8');
        if (seen.includes('line-one\n')) sawFirstLine();
      },
    });
    await started;
    expect(await running(marker)).toBe(true);
    stop.abort();
    const result = await run;
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('');
    expect(seen).toBe('line-one\n');
    // The kill happened before the channel closed: nothing is left to wait for its timeout.
    expect(await running(marker)).toBe(false);
  });

  it('ends on its own, with the follower\'s exit code, when the follower fails', async () => {
    const run = pool.run(host, ['sh', '-c', STOP_ON_EOF_SCRIPT, 'tend-logs', 'sh', '-c', 'echo bad since >&2; exit 1'], {
      timeoutMs: 20_000,
      stopWhen: new AbortController().signal,
      okExitCodes: [1],
    });
    await expect(run).resolves.toMatchObject({ code: 1, stderr: 'bad since\n' });
  });

  it('ends the same way through sudo -n, as for a non-root deploy user', async () => {
    const user = await createThrowawayUser(1024 * 1024);
    const sudoers = `/etc/sudoers.d/${user.name}`;
    await writeFile(sudoers, `${user.name} ALL=(ALL:ALL) NOPASSWD: ALL\n`, { mode: 0o440 });
    try {
      const marker = `sleep 301.${process.pid}`;
      const stop = new AbortController();
      let sawFirstLine: () => void = () => undefined;
      const started = new Promise<void>((resolve) => {
        sawFirstLine = resolve;
      });
      const run = pool.run({ ...host, name: 'loopback-deploy', user: user.name }, ['sh', '-c', STOP_ON_EOF_SCRIPT, 'tend-logs', 'sh', '-c', `echo as-root-$(id -u); exec ${marker}`], {
        sudo: true,
        timeoutMs: 120_000,
        stopWhen: stop.signal,
        onStdout: (chunk) => {
          if (chunk.toString('utf8').includes('as-root-0')) sawFirstLine();
        },
      });
      await started;
      expect(await running(marker)).toBe(true);
      stop.abort();
      await expect(run).resolves.toMatchObject({ code: 0 });
      expect(await running(marker)).toBe(false);
    } finally {
      await rm(sudoers, { force: true });
      await user.remove();
    }
  });
});
