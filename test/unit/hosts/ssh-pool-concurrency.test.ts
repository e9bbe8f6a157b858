import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openFleet, type SshHost, type SshPool } from '../../../src/hosts/index.js';
import { startHeldExecSshd, type HeldExecSshd } from './held-exec-sshd.js';

/**
 * tend.yml `concurrency` is a property of each commit while the daemon's pool lives across commits, so the
 * limit changes under load. Against an in-process SSH server that holds every command until the test lets
 * it finish, one command per host: the commands running at once are the hosts being worked on at once.
 */
let sshd: HeldExecSshd;
let hosts: SshHost[];

beforeAll(async () => {
  sshd = await startHeldExecSshd();
  hosts = Array.from({ length: 8 }, (_, i) => ({ name: `host-${i}`, address: '127.0.0.1', port: sshd.port, user: 'root', hostKey: sshd.hostKey }));
});

afterAll(async () => {
  await sshd?.stop();
});

const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 150));

describe('the fleet pool\'s host limit', { timeout: 30_000 }, () => {
  it('works on no more hosts than the concurrency it was opened with', async () => {
    const pool = openFleet({ privateKeyPath: sshd.clientKeyPath, concurrency: 3 });
    try {
      sshd.resetPeak();
      const runs = hosts.map((host) => pool.run(host, ['true']));
      await finishAll(runs.length, 3);
      await Promise.all(runs);
      expect(sshd.peak).toBe(3);
    } finally {
      await pool.close();
    }
  });

  it('starts queued hosts at once when the limit is raised mid-pass', async () => {
    const pool = openFleet({ privateKeyPath: sshd.clientKeyPath, concurrency: 2 });
    try {
      const runs = hosts.map((host) => pool.run(host, ['true']));
      await sshd.until((running) => running === 2);
      await settle();
      expect(sshd.running).toBe(2);

      pool.setConcurrency(5);
      await sshd.until((running) => running === 5);
      await settle();
      expect(sshd.running).toBe(5);
      expect(pool.concurrency).toBe(5);

      await finishAll(hosts.length, 5);
      await Promise.all(runs);
    } finally {
      await pool.close();
    }
  });

  it('lets running hosts finish when the limit is cut mid-pass, and starts no more than the new limit after', async () => {
    const pool = openFleet({ privateKeyPath: sshd.clientKeyPath, concurrency: 4 });
    try {
      const runs = hosts.map((host) => pool.run(host, ['true']));
      await sshd.until((running) => running === 4);

      pool.setConcurrency(1);
      // The four in flight are not interrupted; they finish one by one, and no host starts meanwhile.
      for (let left = 4; left > 0; left -= 1) {
        await settle();
        expect(sshd.running).toBe(left);
        sshd.finishOne();
      }
      sshd.resetPeak();
      await finishAll(hosts.length - 4, 1);
      await Promise.all(runs);
      expect(sshd.peak).toBe(1);
    } finally {
      await pool.close();
    }
  });

  it('refuses a limit that is not a positive integer', async () => {
    const pool = openFleet({ privateKeyPath: sshd.clientKeyPath, concurrency: 2 });
    try {
      expect(() => pool.setConcurrency(0)).toThrow(RangeError);
      expect(() => pool.setConcurrency(1.5)).toThrow(RangeError);
      expect(pool.concurrency).toBe(2);
    } finally {
      await pool.close();
    }
  });
});

/** Finishes `count` commands one at a time, each once `expected` are running or all that are left are. */
async function finishAll(count: number, expected: number): Promise<void> {
  for (let left = count; left > 0; left -= 1) {
    await sshd.until((running) => running === Math.min(expected, left));
    sshd.finishOne();
  }
}
