import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCommand } from './harness/run-command.js';
import { sshArgs, type TestHost } from './harness/hosts.js';
import { connectToHost } from './harness/ssh-client.js';
import { useHosts } from './harness/use-hosts.js';

const UNIT = `[Unit]
Description=e2e busybox web server

[Service]
ExecStart=/bin/busybox httpd -f -p 8080 -h /srv/e2e-web
`;

async function fetchWithRetry(url: string): Promise<string> {
  let lastError: unknown;
  // The unit is started, but httpd binds a moment later.
  for (let attempt = 0; attempt < 50; attempt += 1) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
      return await response.text();
    } catch (error) {
      lastError = error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  throw lastError;
}

describe('test hosts', () => {
  let hosts: TestHost[] = [];

  beforeAll(async () => {
    hosts = await useHosts(3);
  });

  afterAll(async () => {
    // Leave the hosts as we found them for the next file.
    await Promise.all(
      hosts.map(async (host) => {
        const ssh = await connectToHost(host);
        await ssh.execCommand('sudo -n sh -c "systemctl stop e2e-web; rm -rf /etc/systemd/system/e2e-web.service /srv/e2e-web; systemctl daemon-reload"');
        ssh.dispose();
      }),
    );
  });

  it('names the hosts host-1..3 at 10.78.0.11..13, hosts 1-3 with the committed host keys', async () => {
    expect(hosts.map((host) => [host.name, host.address, host.port, host.user])).toEqual([
      ['host-1', '10.78.0.11', 22, 'deploy'],
      ['host-2', '10.78.0.12', 22, 'deploy'],
      ['host-3', '10.78.0.13', 22, 'deploy'],
    ]);
    for (const host of hosts) {
      const committed = await readFile(new URL(`./harness/host-keys/${host.name}.pub`, import.meta.url), 'utf8');
      expect(committed.startsWith(`${host.hostKey} `)).toBe(true);
    }
  });

  it('lets deploy in with the pinned host key, runs anything through sudo -n, on its own hostname', async () => {
    for (const host of hosts) {
      const ssh = await connectToHost(host);
      const result = await ssh.execCommand('hostname; id -un; sudo -n id -un; systemctl is-system-running');
      ssh.dispose();
      expect(result.code).toBe(0);
      expect(result.stderr).toBe('');
      expect(result.stdout.split('\n')).toEqual([host.name, 'deploy', 'root', 'running']);
    }
  });

  it('lets root in with the same client key, through OpenSSH and the harness known_hosts', async () => {
    for (const host of hosts) {
      const result = await runCommand('ssh', [...sshArgs(host, 'root'), 'id -u']);
      expect(result.stdout.trim()).toBe('0');
    }
  });

  it('starts a busybox httpd unit written through sudo, and serves its page to the test process', async () => {
    await Promise.all(
      hosts.map(async (host) => {
        const ssh = await connectToHost(host);
        const steps = [
          { command: 'sudo -n tee /etc/systemd/system/e2e-web.service', stdin: UNIT },
          { command: 'sudo -n mkdir -p /srv/e2e-web' },
          { command: 'sudo -n tee /srv/e2e-web/index.html', stdin: `hello from ${host.name}\n` },
          { command: 'sudo -n systemctl daemon-reload' },
          { command: 'sudo -n systemctl restart e2e-web' },
        ];
        for (const step of steps) {
          const result = await ssh.execCommand(step.command, step.stdin === undefined ? {} : { stdin: step.stdin });
          expect(result.code, `${host.name}: ${step.command}: ${result.stderr}`).toBe(0);
        }
        ssh.dispose();
      }),
    );
    for (const host of hosts) {
      expect(await fetchWithRetry(`http://${host.address}:8080/`)).toBe(`hello from ${host.name}\n`);
    }
  });

  it('has the tools tests rely on: busybox httpd and nc, sha256sum, ip, sudo', async () => {
    const ssh = await connectToHost(hosts[0]!);
    const result = await ssh.execCommand('busybox --list | grep -xE "httpd|nc" && command -v sha256sum ip sudo');
    ssh.dispose();
    expect(result.code).toBe(0);
    expect(result.stdout.split('\n')).toEqual(['httpd', 'nc', '/usr/bin/sha256sum', '/usr/bin/ip', '/usr/bin/sudo']);
  });

  it('refuses a host whose key is not the pinned one', async () => {
    const [first, second] = [hosts[0]!, hosts[1]!];
    await expect(connectToHost(first, { hostKey: second.hostKey })).rejects.toThrow(/verification failed/i);
  });
});
