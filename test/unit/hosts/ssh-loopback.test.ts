import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stageRelease, writeFileAtomic, type SshHost } from '../../../src/hosts/index.js';
import { SshPool } from '../../../src/hosts/ssh-pool.js';
import { freePort } from '../../support/free-port.js';
import { rejectionOf } from '../../support/tend-error.js';
import { createThrowawayUser, mountTinyTmpfs, startCountingProxy, unmount, useLoopbackHost, type LoopbackSshd, type ThrowawayUser } from './loopback-sshd.js';

/**
 * The SSH layer against a real OpenSSH server on 127.0.0.1 (started here, with its own host key; the
 * client logs in as root with a generated key). Everything the pool promises is checked against sshd
 * itself: host-key pinning, auth refusal, quoting, exit codes, timeouts, the channel limit, a connection
 * killed mid-command, atomic writes and staging.
 */
let sshd: LoopbackSshd;
let host: SshHost;
let pool: SshPool;
let scratch: string;
/** The machine may be shared and busy: generous per-test limits, and no assertion on how long anything took. */

const loopback = useLoopbackHost({ keepaliveIntervalMs: 1_000 });

beforeAll(async () => {
  ({ sshd, host, pool } = loopback.current());
  scratch = await mkdtemp(join(tmpdir(), 'tend-loopback-'));
});

afterAll(async () => {
  if (scratch !== undefined) await rm(scratch, { recursive: true, force: true });
});

describe('host keys and authentication', { timeout: 60_000 }, () => {
  it('accepts the pinned host key', async () => {
    await expect(pool.run(host, ['true'])).resolves.toMatchObject({ code: 0 });
  });

  it('refuses a host whose key is not the pinned one with E_HOSTKEY, running nothing', async () => {
    const marker = join(scratch, 'ran-despite-wrong-key');
    const impostorPool = new SshPool({ privateKeyPath: sshd.clientKeyPath });
    try {
      const error = await rejectionOf(impostorPool.run({ ...host, hostKey: sshd.otherHostKey }, ['touch', marker]));
      expect(error.code).toBe('E_HOSTKEY');
      expect(error.errorClass).toBe('conflict');
      expect(error.hint).toMatch(/inventory\.yml/);
      await expect(stat(marker)).rejects.toThrow(/ENOENT/);
    } finally {
      await impostorPool.close();
    }
  });

  it('refuses an unusable pin with E_HOSTKEY before connecting', async () => {
    const error = await rejectionOf(pool.run({ ...host, name: 'badpin', hostKey: 'ssh-ed25519 not-base64!' }, ['true']));
    expect(error.code).toBe('E_HOSTKEY');
  });

  it('reports a key the server does not authorise as E_SSH_AUTH', async () => {
    const refusedPool = new SshPool({ privateKeyPath: sshd.refusedKeyPath });
    try {
      const error = await rejectionOf(refusedPool.run(host, ['true']));
      expect(error.code).toBe('E_SSH_AUTH');
      expect(error.errorClass).toBe('conflict');
    } finally {
      await refusedPool.close();
    }
  });

  it('reports a closed port as E_HOST_UNREACHABLE (transient) without waiting for the connect timeout', async () => {
    const closedPort = await freePort();
    const slowPool = new SshPool({ privateKeyPath: sshd.clientKeyPath, connectTimeoutMs: 600_000 });
    try {
      const error = await rejectionOf(slowPool.run({ ...host, name: 'closed', port: closedPort }, ['true']));
      expect(error.code).toBe('E_HOST_UNREACHABLE');
      expect(error.errorClass).toBe('transient');
      expect(error.message).toMatch(/refused/);
    } finally {
      await slowPool.close();
    }
  });

  it('reports a missing private key as E_SSH_KEY', async () => {
    const keyless = new SshPool({ privateKeyPath: join(scratch, 'no-such-key') });
    const error = await rejectionOf(keyless.run(host, ['true']));
    expect(error.code).toBe('E_SSH_KEY');
    expect(error.message).not.toContain('PRIVATE KEY');
    await keyless.close();
  });
});

describe('run', { timeout: 60_000 }, () => {
  it('returns stdout, stderr and the exit code of an allowed non-zero exit', async () => {
    const result = await pool.run(host, ['sh', '-c', 'echo out; echo err >&2; exit 3'], { okExitCodes: [3] });
    expect(result).toEqual({ code: 3, stdout: 'out\n', stderr: 'err\n' });
  });

  it('turns a disallowed exit code into E_REMOTE_COMMAND with the stderr tail', async () => {
    const error = await rejectionOf(pool.run(host, ['sh', '-c', 'echo "no such unit" >&2; exit 5']));
    expect(error.code).toBe('E_REMOTE_COMMAND');
    expect(error.message).toContain('exited 5');
    expect(error.message).toContain('no such unit');
    expect(error.where).toEqual({ host: 'loopback', command: 'sh -c "echo \\"no such unit\\" >&2; exit 5"' });
  });

  it('passes nasty argv through as literal words, running nothing it contains', async () => {
    const canary = join(scratch, 'pwned');
    const words = [`$(touch ${canary})`, `\`touch ${canary}\``, "it's", '"q"', `a; touch ${canary}`, 'line1\nline2', '*', '$HOME', ''];
    const result = await pool.run(host, ['printf', '[%s]', ...words]);
    expect(result.stdout).toBe(words.map((w) => `[${w}]`).join(''));
    await expect(stat(canary)).rejects.toThrow(/ENOENT/);
  });

  it('feeds stdin bytes exactly, binary included', async () => {
    const bytes = new Uint8Array(256).map((_, i) => i);
    const result = await pool.run(host, ['sha256sum'], { stdin: bytes });
    expect(result.stdout.slice(0, 64)).toBe(createHash('sha256').update(bytes).digest('hex'));
  });

  it('stops a command that overruns its timeout with E_COMMAND_TIMEOUT and kills it on the host', async () => {
    const pidFile = join(scratch, 'sleeper.pid');
    const error = await rejectionOf(pool.run(host, ['sh', '-c', `echo $$ > ${pidFile}; exec sleep 300`], { timeoutMs: 1_000 }));
    expect(error.code).toBe('E_COMMAND_TIMEOUT');
    expect(error.errorClass).toBe('transient');
    const pid = Number((await readFile(pidFile, 'utf8')).trim());
    // The host-side `timeout` sends TERM when its timer ends; give it a moment, then the process is gone.
    let alive = true;
    for (let i = 0; i < 50 && alive; i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      alive = await stat(`/proc/${pid}`).then(() => true, () => false);
    }
    expect(alive).toBe(false);
  });

  it('runs 15 concurrent commands on one host, all successfully (channels beyond 8 wait their turn)', async () => {
    const results = await Promise.all(
      Array.from({ length: 15 }, (_, i) => pool.run(host, ['sh', '-c', `sleep 0.3; echo ${i}`])),
    );
    expect(results.map((r) => r.stdout.trim())).toEqual(Array.from({ length: 15 }, (_, i) => String(i)));
  });

  /** Starts a long command and returns its pid and the pid of the sshd session process serving it. */
  async function longCommand(tag: string): Promise<{ running: Promise<unknown>; commandPid: number; sessionPid: number }> {
    const pidFile = join(scratch, `${tag}.pid`);
    const running = pool.run(host, ['sh', '-c', `echo $$ > ${pidFile}; exec sleep 20`]);
    running.catch(() => undefined);
    let pid = '';
    while (pid === '') {
      await new Promise((resolve) => setTimeout(resolve, 50));
      pid = (await readFile(pidFile, 'utf8').catch(() => '')).trim();
    }
    // Walk up from the command to the sshd process of its session.
    let current = Number(pid);
    for (;;) {
      const statLine = await readFile(`/proc/${current}/stat`, 'utf8');
      const name = statLine.slice(statLine.indexOf('(') + 1, statLine.lastIndexOf(')'));
      if (name === 'sshd') break;
      current = Number(statLine.slice(statLine.lastIndexOf(')') + 2).split(' ')[1]);
    }
    return { running, commandPid: Number(pid), sessionPid: current };
  }

  it('reports a connection killed mid-command as E_OUTCOME_UNKNOWN, and reconnects', async () => {
    const { running, commandPid, sessionPid } = await longCommand('killed');
    process.kill(sessionPid, 'SIGKILL');
    const error = await rejectionOf(running);
    expect(error.code).toBe('E_OUTCOME_UNKNOWN');
    expect(error.errorClass).toBe('transient');
    process.kill(commandPid, 'SIGKILL');
    await expect(pool.run(host, ['echo', 'again'])).resolves.toMatchObject({ stdout: 'again\n' });
  });

  it('notices a host that stops answering by keepalive, without crashing the process', async () => {
    // A frozen sshd sends nothing, not even a reset: only keepalives notice. ssh2 then emits 'error' on the
    // connection, which kills the process unless the pool listens (vitest fails a file on an uncaught error).
    const { running, commandPid, sessionPid } = await longCommand('frozen');
    process.kill(sessionPid, 'SIGSTOP');
    try {
      const error = await rejectionOf(running);
      expect(error.code).toBe('E_OUTCOME_UNKNOWN');
    } finally {
      process.kill(sessionPid, 'SIGKILL');
      process.kill(commandPid, 'SIGKILL');
    }
    await expect(pool.run(host, ['echo', 'again'])).resolves.toMatchObject({ stdout: 'again\n' });
  });
});

describe('file transfer', { timeout: 60_000 }, () => {
  it.each(['stdin', 'sftp'] as const)('writes a file atomically via %s with the requested mode', async (via) => {
    const path = join(scratch, `env-${via}`);
    await writeFile(path, 'old');
    await writeFileAtomic(pool, host, path, Buffer.from('SECRET=1\n'), 0o600, { via });
    expect(await readFile(path, 'utf8')).toBe('SECRET=1\n');
    expect((await stat(path)).mode & 0o7777).toBe(0o600);
  });

  it('never shows a reader a partial file: every read during 10 rewrites is the old or the new content', async () => {
    const path = join(scratch, 'flip');
    const a = Buffer.alloc(512 * 1024, 'a');
    const b = Buffer.alloc(512 * 1024, 'b');
    await writeFile(path, a);
    let writing = true;
    const seen = new Set<string>();
    const reader = (async () => {
      while (writing) {
        const content = await readFile(path);
        seen.add(content.equals(a) ? 'a' : content.equals(b) ? 'b' : `partial(${content.length})`);
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    for (let i = 0; i < 10; i += 1) await writeFileAtomic(pool, host, path, i % 2 === 0 ? b : a, 0o644);
    writing = false;
    await reader;
    expect([...seen].filter((s) => s.startsWith('partial'))).toEqual([]);
    expect(seen.size).toBeGreaterThan(0);
  });

  it('stages a release after verifying its sha256 on the host, and detects one that does not match', async () => {
    const bytes = Buffer.from('#!/bin/sh\necho v1\n');
    const sha = createHash('sha256').update(bytes).digest('hex');
    const service = `tendtest${process.pid}`;
    try {
      expect(await stageRelease(pool, host, service, sha, 'server.sh', bytes)).toBe('staged');
      expect(await stageRelease(pool, host, service, sha, 'server.sh', bytes)).toBe('present');
      const wrong = 'f'.repeat(64);
      const error = await rejectionOf(stageRelease(pool, host, service, wrong, 'server.sh', bytes));
      expect(error.code).toBe('E_ARTIFACT_CORRUPT');
    } finally {
      await pool.run(host, ['rm', '-rf', '--', `/var/lib/tend/releases/${service}`]);
    }
  });
});

describe('refused hosts are not reconnected until their refusal is forgotten', { timeout: 60_000 }, () => {
  it('answers a host whose key changed with the same E_HOSTKEY without connecting again, until forgetRefusals', async () => {
    const proxy = await startCountingProxy(sshd.port);
    const refusing = new SshPool({ privateKeyPath: sshd.clientKeyPath, connectTimeoutMs: 10_000 });
    const changed: SshHost = { ...host, name: 'rekeyed', port: proxy.port, hostKey: sshd.otherHostKey };
    try {
      const first = await rejectionOf(refusing.run(changed, ['true']));
      expect(first.code).toBe('E_HOSTKEY');
      expect(proxy.connections()).toBe(1);
      for (let poll = 0; poll < 5; poll += 1) expect(await rejectionOf(refusing.run(changed, ['true']))).toBe(first);
      expect(proxy.connections()).toBe(1);

      refusing.forgetRefusals('someone-else');
      await rejectionOf(refusing.run(changed, ['true']));
      expect(proxy.connections()).toBe(1);

      refusing.forgetRefusals('rekeyed');
      expect((await rejectionOf(refusing.run(changed, ['true']))).code).toBe('E_HOSTKEY');
      expect(proxy.connections()).toBe(2);
    } finally {
      await refusing.close();
      await proxy.close();
    }
  });

  it('tries at once when a new commit pins another key for the host (its identity changed)', async () => {
    const proxy = await startCountingProxy(sshd.port);
    const refusing = new SshPool({ privateKeyPath: sshd.clientKeyPath, connectTimeoutMs: 10_000 });
    const changed: SshHost = { ...host, name: 'rekeyed', port: proxy.port, hostKey: sshd.otherHostKey };
    try {
      await rejectionOf(refusing.run(changed, ['true']));
      await expect(refusing.run({ ...changed, hostKey: sshd.hostKey }, ['echo', 'repinned'])).resolves.toMatchObject({ stdout: 'repinned\n' });
      expect(proxy.connections()).toBe(2);
    } finally {
      await refusing.close();
      await proxy.close();
    }
  });

  it('does not retry a refused login (E_SSH_AUTH) until every refusal is forgotten', async () => {
    const proxy = await startCountingProxy(sshd.port);
    const refused = new SshPool({ privateKeyPath: sshd.refusedKeyPath, connectTimeoutMs: 10_000 });
    const target: SshHost = { ...host, port: proxy.port };
    try {
      const first = await rejectionOf(refused.run(target, ['true']));
      expect(first.code).toBe('E_SSH_AUTH');
      expect(await rejectionOf(refused.run(target, ['true']))).toBe(first);
      expect(proxy.connections()).toBe(1);
      refused.forgetRefusals();
      await rejectionOf(refused.run(target, ['true']));
      expect(proxy.connections()).toBe(2);
    } finally {
      await refused.close();
      await proxy.close();
    }
  });

  it('keeps reconnecting to an unreachable host: that is transient, bounded by the retry budget, not refused', async () => {
    const proxy = await startCountingProxy(await freePort());
    const flaky = new SshPool({ privateKeyPath: sshd.clientKeyPath, connectTimeoutMs: 10_000 });
    try {
      expect((await rejectionOf(flaky.run({ ...host, name: 'flaky', port: proxy.port }, ['true']))).code).toBe('E_HOST_UNREACHABLE');
      await rejectionOf(flaky.run({ ...host, name: 'flaky', port: proxy.port }, ['true']));
      expect(proxy.connections()).toBe(2);
    } finally {
      await flaky.close();
      await proxy.close();
    }
  });
});

describe('faults a host reports are classified where they happen', { timeout: 60_000 }, () => {
  /** A login user whose sudo asks for a password, with a home on a 256 KiB filesystem. */
  let user: ThrowawayUser;
  let userHost: SshHost;
  /** A 256 KiB filesystem root writes to. */
  let full: string;

  beforeAll(async () => {
    user = await createThrowawayUser(256 * 1024);
    userHost = { ...host, name: 'web-1', user: user.name };
    full = join(scratch, 'full');
    await mountTinyTmpfs(full, 256 * 1024);
  }, 30_000);

  afterAll(async () => {
    pool.closeHost('web-1');
    if (full !== undefined) await unmount(full);
    await user?.remove();
  });

  it('reports `sudo -n` asking for a password as E_SUDO_REFUSED (conflict) with a hint naming sudoers', async () => {
    await expect(pool.run(userHost, ['id', '-un'])).resolves.toMatchObject({ stdout: `${user.name}\n` });
    const error = await rejectionOf(pool.run(userHost, ['systemctl', 'daemon-reload'], { sudo: true }));
    expect(error.code).toBe('E_SUDO_REFUSED');
    expect(error.errorClass).toBe('conflict');
    expect(error.message).toContain('sudo: a password is required');
    expect(error.where).toEqual({ host: 'web-1', command: 'systemctl daemon-reload' });
    expect(error.hint).toContain(`${user.name} ALL=(root) NOPASSWD: ALL`);
    expect(error.hint).toContain('/etc/sudoers.d/tend');
  });

  it('reports a sudo refusal even for a command whose exit code 1 is allowed', async () => {
    // stopAndDisableUnits allows 1 ("no such unit"); sudo refusing also exits 1.
    const error = await rejectionOf(pool.run(userHost, ['systemctl', 'disable', '--now', '--', 'x.timer'], { sudo: true, okExitCodes: [1, 5] }));
    expect(error.code).toBe('E_SUDO_REFUSED');
  });

  it('reports a full disk under a write (stdin) as E_HOST_DISK_FULL with the host\'s own message', async () => {
    const path = join(full, 'env');
    const error = await rejectionOf(writeFileAtomic(pool, host, path, Buffer.alloc(1024 * 1024, 'x'), 0o600));
    expect(error.code).toBe('E_HOST_DISK_FULL');
    expect(error.errorClass).toBe('conflict');
    expect(error.message).toContain(`loopback: ${full}: `);
    expect(error.message).toContain('No space left on device');
    expect(error.hint).toMatch(/free space/i);
    expect(error.hint).toContain('tend retry');
  });

  it('reports a full disk under the release directory while staging as E_HOST_DISK_FULL', async () => {
    const bytes = Buffer.alloc(1024 * 1024, 'y');
    const sha = createHash('sha256').update(bytes).digest('hex');
    const service = `tendfull${process.pid}`;
    const releases = `/var/lib/tend/releases/${service}`;
    await mountTinyTmpfs(releases, 256 * 1024);
    try {
      const error = await rejectionOf(stageRelease(pool, host, service, sha, 'server.sh', bytes));
      expect(error.code).toBe('E_HOST_DISK_FULL');
      expect(error.message).toContain(`loopback: ${releases}: `);
      expect(error.message).toContain('No space left on device');
    } finally {
      await unmount(releases);
      await rm(releases, { recursive: true, force: true });
    }
  });

  it('reports a full home during the SFTP staging upload as E_HOST_DISK_FULL, and leaves no partial upload behind', async () => {
    const error = await rejectionOf(writeFileAtomic(pool, userHost, join(scratch, 'never'), Buffer.alloc(1024 * 1024, 'z'), 0o644, { via: 'sftp' }));
    expect(error.code).toBe('E_HOST_DISK_FULL');
    expect(error.message).toContain(`web-1: ${user.home}: `);
    expect(error.message).toContain('No space left on device');
    expect(await readdir(user.home)).toEqual([]);
  });

  it('leaves no staged upload in the home when the root-side copy fails', async () => {
    // The upload fits in root's home (its passwd entry, which is what sshd uses); the copy as root then hits
    // the full filesystem.
    const uploads = async (): Promise<string[]> => (await readdir(userInfo().homedir)).filter((name) => name.startsWith('.tend-upload-'));
    const before = await uploads();
    const error = await rejectionOf(writeFileAtomic(pool, host, join(full, 'big'), Buffer.alloc(1024 * 1024, 'w'), 0o644, { via: 'sftp' }));
    expect(error.code).toBe('E_HOST_DISK_FULL');
    expect((await uploads()).filter((name) => !before.includes(name))).toEqual([]);
  });
});
