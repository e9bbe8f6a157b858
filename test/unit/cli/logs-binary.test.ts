import { execFile } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTend, runTend, startTend } from '../../support/tend-cli.js';
import { startLoopbackSshd, type LoopbackSshd } from '../hosts/loopback-sshd.js';

/**
 * `tend logs` through the real binary, with web-1 of the example repo at a real OpenSSH server on
 * 127.0.0.1 (this machine's journalctl answers) and web-2, batch-1 at 127.0.0.2:1 where nothing listens.
 * What the journal holds here is not the point (the e2e test reads a real unit's lines); the prefixing,
 * the exit codes, and that Ctrl-C ends the remote follower and tend are.
 */
const EXAMPLE = join(resolve(fileURLToPath(new URL('../../..', import.meta.url))), 'deploy-repo-example');
let sshd: LoopbackSshd;
let root: string;
let args: string[];

beforeAll(async () => {
  await buildTend();
  sshd = await startLoopbackSshd();
  root = await mkdtemp(join(tmpdir(), 'tend-logs-'));
  const repo = join(root, 'repo');
  await cp(EXAMPLE, repo, { recursive: true });
  const inventory = await readFile(join(repo, 'inventory.yml'), 'utf8');
  const hosts = inventory.split(/\n(?=  \S)/);
  const web1 = (hosts.find((block) => block.startsWith('  web-1:')) ?? '')
    .replace(/address: \S+/, 'address: 127.0.0.1')
    .replace(/port: \d+/, `port: ${sshd.port}`)
    .replace(/user: \S+/, 'user: root')
    .replace(/host_key: .+/, `host_key: ${sshd.hostKey}`);
  const others = hosts.filter((block) => !block.startsWith('  web-1:')).map((block) => block.replaceAll(/address: \S+/g, 'address: 127.0.0.2').replaceAll(/port: \d+/g, 'port: 1'));
  await writeFile(join(repo, 'inventory.yml'), [others[0], web1, ...others.slice(1)].join('\n'));
  args = ['--repo', repo, '--ssh-key', sshd.clientKeyPath];
}, 300_000);

afterAll(async () => {
  await sshd?.stop();
  if (root !== undefined) await rm(root, { recursive: true, force: true });
});

async function followers(): Promise<string> {
  const result = await promisify(execFile)('pgrep', ['-af', 'journalctl -u api.service --no-pager -o short-iso --follow']).catch(() => ({ stdout: '' }));
  return result.stdout.trim();
}

describe('tend logs', { timeout: 60_000 }, () => {
  it('prints the journal of one host with every line prefixed by it, and exits 0', async () => {
    const run = await runTend(['logs', 'api', '--host', 'web-1', ...args]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).not.toBe('');
    for (const line of run.stdout.trimEnd().split('\n')) expect(line).toMatch(/^web-1 \| /);
  });

  it('prints what the hosts it reached have, names the one it could not read, and exits 1', async () => {
    const run = await runTend(['logs', 'api', ...args]);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^web-1 \| /m);
    expect(run.stderr).toContain('web-2');
    expect(run.stderr).toContain('E_HOST_UNREACHABLE');
  });

  it('refuses an unknown service or host as a usage error with a did-you-mean', async () => {
    const service = await runTend(['logs', 'apii', ...args]);
    expect(service.code).toBe(2);
    expect(service.stderr).toContain('unknown service "apii" (did you mean api?)');
    const host = await runTend(['logs', 'api', '--host', 'batch-1', ...args]);
    expect(host.code).toBe(2);
    expect(host.stderr).toContain('api does not run on host "batch-1"');
  });

  it('-f follows until SIGINT, then ends the remote journalctl and exits 0', async () => {
    const tend = startTend(['logs', 'api', '--host', 'web-1', '-f', ...args]);
    // Wait for the follower to run on the host before interrupting.
    const deadline = Date.now() + 20_000;
    while ((await followers()) === '' && Date.now() < deadline) await new Promise((wait) => setTimeout(wait, 100));
    expect(await followers()).not.toBe('');
    tend.kill('SIGINT');
    const run = await tend.done;
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toBe('');
    expect(await followers()).toBe('');
  });
});
