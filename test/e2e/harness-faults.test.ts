import { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blockSshPort, changeHostKey, fillFilesystem, requireSudoPassword, stopSshd, takeLinkDown, type Fault } from './harness/faults.js';
import { sshArgs, type TestHost } from './harness/hosts.js';
import { runCommand } from './harness/run-command.js';
import { connectToHost } from './harness/ssh-client.js';
import { useHosts } from './harness/use-hosts.js';

type Reachability = 'open' | 'refused' | 'timeout' | 'unreachable';

/** How a TCP connect to the host's sshd ends: the signature of each network fault. */
function probeSshPort(host: TestHost, timeoutMs = 1500): Promise<Reachability> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const finish = (result: Reachability) => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(timeoutMs, () => finish('timeout'));
    socket.on('connect', () => finish('open'));
    socket.on('error', (error: NodeJS.ErrnoException) => {
      finish(error.code === 'ECONNREFUSED' ? 'refused' : 'unreachable');
    });
    socket.connect(host.port, host.address);
  });
}

async function deployCanRun(host: TestHost, command: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const ssh = await connectToHost(host);
  try {
    return await ssh.execCommand(command);
  } finally {
    ssh.dispose();
  }
}

describe('host faults', () => {
  let hosts: TestHost[] = [];
  const applied: Fault[] = [];

  beforeAll(async () => {
    hosts = await useHosts(3);
  });

  afterAll(async () => {
    // A failed assertion must not leave a broken host to the next file.
    for (const fault of applied) await fault.restore();
  });

  async function apply<T extends Fault>(fault: Promise<T>): Promise<T> {
    const result = await fault;
    applied.push(result);
    return result;
  }

  it('link down: connects time out, and the host answers again after restore', async () => {
    const host = hosts[0]!;
    const fault = await apply(takeLinkDown(host));
    expect(['timeout', 'unreachable']).toContain(await probeSshPort(host));
    await expect(connectToHost(host, { readyTimeoutMs: 1500 })).rejects.toThrow();
    await fault.restore();
    expect(await probeSshPort(host)).toBe('open');
    expect((await deployCanRun(host, 'true')).code).toBe(0);
  });

  it('port 22 dropped: connects time out while other hosts stay reachable; restore reopens it', async () => {
    const [host, other] = [hosts[1]!, hosts[2]!];
    const fault = await apply(blockSshPort(host, 'drop'));
    expect(await probeSshPort(host)).toBe('timeout');
    expect(await probeSshPort(other)).toBe('open');
    await fault.restore();
    expect(await probeSshPort(host)).toBe('open');
  });

  it('port 22 rejected: connects are refused at once; restore reopens it', async () => {
    const host = hosts[1]!;
    const fault = await apply(blockSshPort(host, 'reject'));
    expect(await probeSshPort(host)).toBe('refused');
    await fault.restore();
    expect(await probeSshPort(host)).toBe('open');
  });

  it('sshd stopped: connects are refused, an open session survives, restore starts sshd', async () => {
    const host = hosts[2]!;
    const open = await connectToHost(host);
    const fault = await apply(stopSshd(host));
    expect(await probeSshPort(host)).toBe('refused');
    expect((await open.execCommand('systemctl is-active ssh')).stdout).toBe('inactive');
    open.dispose();
    await fault.restore();
    expect((await deployCanRun(host, 'systemctl is-active ssh')).stdout).toBe('active');
  });

  it('full filesystem at /var/lib/tend: writes fail with ENOSPC; restore makes them succeed', async () => {
    const host = hosts[0]!;
    const fault = await apply(fillFilesystem(host));
    const usage = await deployCanRun(host, 'df --output=pcent /var/lib/tend | tail -1');
    expect(usage.stdout.trim()).toBe('100%');
    const full = await deployCanRun(host, 'sudo -n cp /etc/os-release /var/lib/tend/probe');
    expect(full.code).not.toBe(0);
    expect(full.stderr).toMatch(/No space left on device/);
    await fault.restore();
    const write = await deployCanRun(host, 'sudo -n sh -c "echo release > /var/lib/tend/probe && cat /var/lib/tend/probe && rm /var/lib/tend/probe"');
    expect(write).toMatchObject({ code: 0, stdout: 'release' });
  });

  it('sudo needs a password: the login works, sudo -n is refused; restore makes it run again', async () => {
    const host = hosts[1]!;
    const fault = await apply(requireSudoPassword(host));
    const refused = await deployCanRun(host, 'sudo -n true');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/a password is required/);
    await fault.restore();
    expect((await deployCanRun(host, 'sudo -n true')).code).toBe(0);
  });

  it('host key changed: the pinned key and OpenSSH strict checking refuse it; restore brings back the pinned key', async () => {
    const host = hosts[0]!;
    const fault = await apply(changeHostKey(host));
    expect(fault.newHostKey).not.toBe(host.hostKey);
    await expect(connectToHost(host)).rejects.toThrow(/verification failed/i);
    const openssh = await runCommand('ssh', [...sshArgs(host, 'deploy'), 'true'], { allowFailure: true });
    expect(openssh.code).toBe(255);
    expect(openssh.stderr).toMatch(/HOST IDENTIFICATION HAS CHANGED|Host key verification failed/);
    const withNewKey = await connectToHost(host, { hostKey: fault.newHostKey });
    withNewKey.dispose();
    await fault.restore();
    expect((await deployCanRun(host, 'hostname')).stdout).toBe(host.name);
  });

  it('startHosts undoes faults that a crashed test left on reused hosts', async () => {
    const [first, second, third] = [hosts[0]!, hosts[1]!, hosts[2]!];
    // Deliberately not restored: this is what a test that died halfway leaves behind.
    await changeHostKey(first);
    await fillFilesystem(first);
    await takeLinkDown(first);
    await blockSshPort(second, 'drop');
    await requireSudoPassword(second);
    await stopSshd(third);

    const reused = await useHosts(3);

    expect(reused).toEqual(hosts);
    for (const host of reused) {
      const write = await deployCanRun(host, 'sudo -n sh -c "mkdir -p /var/lib/tend && echo ok > /var/lib/tend/probe && cat /var/lib/tend/probe && rm /var/lib/tend/probe"');
      expect(write).toMatchObject({ code: 0, stdout: 'ok' });
    }
  });
});
