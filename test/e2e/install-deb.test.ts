import { createHash } from 'node:crypto';
import { copyFile, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DaemonStatus } from '../../src/status/index.js';
import { buildTend } from '../support/tend-cli.js';
import { API_TOKEN_SECRET, exampleRepo, GIT_PASSWORD, GIT_USER, wipeTendState } from './daemon-support.js';
import { GitServer } from './harness/git-server.js';
import { execInHost, hostRoot, type TestHost } from './harness/hosts.js';
import { BRIDGE_ADDRESS, ROOTFS_DIR, ROOTFS_VERSION_FILE } from './harness/layout.js';
import { runCommand } from './harness/run-command.js';
import { useHosts } from './harness/use-hosts.js';

/**
 * Issue 16: tend installed as a reconciler machine gets it. The .deb scripts/build-deb.sh builds is
 * installed with dpkg on a fresh Debian 12 host of the harness image (host-4: booted anew for this file),
 * with git and its dependencies as local .debs (the hosts have no route to a mirror; apt on this machine
 * picks exactly what the image lacks). A config against the test git server and hosts 1-3, then
 * `systemctl start tend`: tend runs as the `tend` user, deploys the example repo, writes the file_sd
 * targets, and `tend status` inside the host answers with every service Synced.
 */

const ROOT = resolve(import.meta.dirname, '../..');
const CACHE = '/var/tmp/tend-e2e-install';
/** The git server is on the bridge; tend refuses plain http off loopback, so the host proxies it to loopback. */
const PROXY_PORT = 8418;
const INSTALL_DIR = '/root/tend-install';

let hosts: TestHost[];
let reconciler: TestHost;
let gitServer: GitServer;
const timings: string[] = [];

async function timed<T>(what: string, work: () => Promise<T>): Promise<T> {
  const started = Date.now();
  try {
    return await work();
  } finally {
    timings.push(`${what}: ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
}

/** Every file under `dir`, relative, sorted. */
async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (at: string): Promise<void> => {
    for (const entry of await readdir(at, { withFileTypes: true })) {
      const path = join(at, entry.name);
      if (entry.isDirectory()) await walk(path);
      else out.push(relative(dir, path));
    }
  };
  await walk(dir);
  return out.sort();
}

/** The .deb, rebuilt only when what goes into it changed (its inputs and the Node binary it carries). */
async function tendDeb(): Promise<string> {
  await buildTend();
  const hash = createHash('sha256');
  const inputs = ['package.json', 'package-lock.json', 'LICENSE', 'scripts/build-deb.sh'];
  for (const dir of ['bin', 'dist', 'schemas', 'systemd', 'deploy', 'deploy-repo-example']) inputs.push(...(await filesUnder(join(ROOT, dir))).map((file) => join(dir, file)));
  for (const file of inputs) hash.update(`${file}\0`).update(await readFile(join(ROOT, file))).update('\0');
  hash.update(process.execPath).update(process.version);
  const dir = join(CACHE, `deb-${hash.digest('hex').slice(0, 16)}`);
  const cached = (await readdir(dir).catch(() => [])).find((name) => name.endsWith('.deb'));
  if (cached !== undefined) return join(dir, cached);
  const scratch = `${dir}.building-${process.pid}`;
  const built = await runCommand(join(ROOT, 'scripts/build-deb.sh'), [scratch], { env: { ...process.env, TEND_DEB_SKIP_BUILD: '1' }, timeoutMs: 600_000 });
  if (built.code !== 0) throw new Error(`build-deb.sh failed:\n${built.stderr}`);
  // One cached package is enough: the older ones (40 MB each) are of inputs that no longer exist.
  for (const old of await readdir(CACHE)) if (old.startsWith('deb-') && join(CACHE, old) !== scratch) await rm(join(CACHE, old), { recursive: true, force: true });
  await rename(scratch, dir);
  return join(dir, relative(scratch, built.stdout.trim()));
}

/**
 * git and what it needs that the host image lacks, as .debs: apt on this machine resolves against the
 * image's own dpkg status, so the set is exactly what `apt-get install git` would fetch on the host.
 */
async function gitDebs(): Promise<string[]> {
  const dir = join(CACHE, `git-debs-${(await readFile(ROOTFS_VERSION_FILE, 'utf8')).trim()}`);
  await mkdir(join(dir, 'partial'), { recursive: true });
  const download = (): Promise<{ code: number | null; stderr: string }> =>
    runCommand('apt-get', ['install', '--download-only', '--no-install-recommends', '-y', '-qq', '-o', `Dir::State::status=${join(ROOTFS_DIR, 'var/lib/dpkg/status')}`, '-o', `Dir::Cache::archives=${dir}`, 'git'], { allowFailure: true, timeoutMs: 300_000 });
  let result = await download();
  if (result.code !== 0) {
    await runCommand('apt-get', ['update', '-qq'], { timeoutMs: 300_000 });
    result = await download();
  }
  if (result.code !== 0) throw new Error(`apt-get could not download git for the host image:\n${result.stderr}`);
  return (await readdir(dir)).filter((name) => name.endsWith('.deb')).map((name) => join(dir, name));
}

async function inHost(argv: readonly string[], timeoutMs = 60_000): Promise<string> {
  const result = await execInHost(reconciler, argv, { allowFailure: true, timeoutMs });
  if (result.code !== 0) throw new Error(`${argv.join(' ')} exited ${String(result.code)} in ${reconciler.name}:\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

/** A file inside the reconciler host, owned and moded as an operator would provision it. */
async function provision(path: string, content: string, owner: string, mode: string): Promise<void> {
  const onMachine = join(hostRoot(reconciler), path);
  await mkdir(join(onMachine, '..'), { recursive: true });
  await writeFile(onMachine, content);
  await inHost(['sh', '-c', 'chown "$1" "$3" && chmod "$2" "$3"', 'provision', owner, mode, path]);
}

async function statusInHost(): Promise<{ code: number | null; status: DaemonStatus | undefined; output: string }> {
  const result = await execInHost(reconciler, ['tend', 'status', '--json'], { allowFailure: true, timeoutMs: 30_000 });
  try {
    return { code: result.code, status: JSON.parse(result.stdout) as DaemonStatus, output: result.stdout };
  } catch {
    return { code: result.code, status: undefined, output: `${result.stdout}${result.stderr}` };
  }
}

beforeAll(async () => {
  // host-4 is stopped (its overlay removed) and booted again: a fresh machine from the harness image.
  await timed('hosts', async () => {
    await useHosts(3);
    hosts = await useHosts(4);
  });
  const fourth = hosts[3];
  if (fourth === undefined) throw new Error('no host-4');
  reconciler = fourth;
  await Promise.all(hosts.slice(0, 3).map((one) => wipeTendState(one)));
  const repo = await exampleRepo();
  // A metrics port on api, so the daemon has a file_sd target file to write.
  await repo.edit('services/api/spec.yml', '  group: web\n', '  group: web\n  metrics_port: 9100\n');
  gitServer = await GitServer.start({ user: GIT_USER, password: GIT_PASSWORD, host: BRIDGE_ADDRESS });
  await gitServer.createRepo('deploy', repo.dir, { message: 'Example deploy repo' });
}, 600_000);

afterAll(async () => {
  await execInHost(reconciler, ['systemctl', 'stop', 'tend.service'], { allowFailure: true });
  await gitServer?.close();
  process.stderr.write(`install-deb timings:\n  ${timings.join('\n  ')}\n`);
});

describe('the .deb on a fresh Debian 12 host', () => {
  it('installs with dpkg, runs as the tend user under systemd, deploys the example repo, and tend status answers with every service Synced', async () => {
    const deb = await timed('build .deb (cached)', () => tendDeb());
    const debs = [deb, ...(await timed('git .debs (cached)', () => gitDebs()))];
    await mkdir(join(hostRoot(reconciler), INSTALL_DIR), { recursive: true });
    for (const file of debs) await copyFile(file, join(hostRoot(reconciler), INSTALL_DIR, file.split('/').at(-1) ?? ''));
    const installed = await timed('dpkg -i', () => inHost(['sh', '-c', `dpkg -i ${INSTALL_DIR}/*.deb 2>&1`], 300_000));
    expect(installed).toContain('Setting up tend');

    // What the package made: the user, its directories with their owners, nothing started yet.
    expect(await inHost(['getent', 'passwd', 'tend'])).toMatch(/^tend:x:\d+:\d+:[^:]*:\/var\/lib\/tend:\/usr\/sbin\/nologin$/m);
    expect(await inHost(['stat', '-c', '%n %U:%G %a', '/etc/tend', '/etc/tend/ssh', '/etc/tend/secrets', '/var/lib/tend', '/var/lib/tend-file-sd'])).toBe(
      '/etc/tend root:tend 750\n/etc/tend/ssh root:tend 750\n/etc/tend/secrets root:tend 750\n/var/lib/tend tend:tend 700\n/var/lib/tend-file-sd tend:tend 755\n',
    );
    expect((await execInHost(reconciler, ['systemctl', 'is-active', 'tend.service'], { allowFailure: true })).stdout.trim()).toBe('inactive');
    expect(await inHost(['tend', '--version'])).toMatch(/\d+\.\d+\.\d+/);
    expect(await inHost(['ls', '/usr/share/doc/tend/examples/config.yml', '/usr/share/tend/prometheus/alerts.yml', '/usr/share/tend/grafana/tend-dashboard.json'])).toContain('alerts.yml');

    // The operator's part: key, credentials, secret, config; the git server proxied to loopback.
    const port = new URL(gitServer.url).port;
    await writeFile(join(hostRoot(reconciler), 'etc/systemd/system/git-proxy.socket'), `[Socket]\nListenStream=127.0.0.1:${PROXY_PORT}\n\n[Install]\nWantedBy=sockets.target\n`);
    await writeFile(join(hostRoot(reconciler), 'etc/systemd/system/git-proxy.service'), `[Service]\nExecStart=/lib/systemd/systemd-socket-proxyd ${BRIDGE_ADDRESS}:${port}\n`);
    await inHost(['systemctl', 'daemon-reload']);
    await inHost(['systemctl', 'start', 'git-proxy.socket']);
    await provision('/etc/tend/ssh/id_ed25519', await readFile(reconciler.privateKeyPath, 'utf8'), 'root:tend', '0640');
    await provision('/etc/tend/git-credentials', `${GIT_USER}:${GIT_PASSWORD}\n`, 'root:tend', '0640');
    await provision('/etc/tend/secrets/api_token', `${API_TOKEN_SECRET}\n`, 'root:tend', '0640');
    const config = [
      'source:',
      `  url: http://127.0.0.1:${PROXY_PORT}/deploy.git`,
      '  credentials_file: /etc/tend/git-credentials',
      'secrets_dir: /etc/tend/secrets',
      'poll:',
      '  interval: 5s',
      'monitoring:',
      '  file_sd_dir: /var/lib/tend-file-sd',
      '',
    ].join('\n');
    await provision('/etc/tend/config.yml', config, 'root:tend', '0640');
    expect(await inHost(['runuser', '-u', 'tend', '--', 'tend', 'run', '--config', '/etc/tend/config.yml', '--check-config'])).toContain('config OK');

    await timed('systemctl start tend', () => inHost(['systemctl', 'start', 'tend.service']));
    const user = await inHost(['sh', '-c', 'stat -c %U "/proc/$(systemctl show -p MainPID --value tend.service)"']);
    expect(user.trim()).toBe('tend');

    let last: Awaited<ReturnType<typeof statusInHost>> | undefined;
    await timed('tend status: every service Synced', async () => {
      const deadline = Date.now() + 180_000;
      for (;;) {
        last = await statusInHost();
        const services = last.status?.services ?? [];
        if (last.code === 0 && last.status?.settled === true && services.length > 0 && services.every((one) => one.state === 'Synced')) return;
        if (Date.now() > deadline) {
          const journal = await execInHost(reconciler, ['journalctl', '-u', 'tend.service', '--no-pager', '-n', '80'], { allowFailure: true });
          throw new Error(`tend never reported every service Synced; last status (exit ${String(last.code)}):\n${last.output}\njournal:\n${journal.stdout}`);
        }
        await new Promise((done) => setTimeout(done, 1000));
      }
    });
    expect(last?.status?.services.map((one) => one.service).sort()).toEqual(['api', 'gateway', 'queue', 'reports']);
    expect(last?.status?.lastApplied).toBe(last?.status?.source.head);

    // The daemon's file_sd target file: api's hosts at its metrics port, readable by a Prometheus.
    const targets = JSON.parse(await inHost(['cat', '/var/lib/tend-file-sd/api.json'])) as { targets: string[]; labels: Record<string, string> }[];
    expect(targets.map((one) => one.targets[0])).toEqual(['10.78.0.11:9100', '10.78.0.12:9100']);
    expect(await inHost(['stat', '-c', '%U %a', '/var/lib/tend-file-sd/api.json'])).toBe('tend 644\n');
    expect((await stat(join(hostRoot(reconciler), 'var/lib/tend/journal.json'))).isFile()).toBe(true);
  }, 600_000);
});
