import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AptRepository, type DebPackage } from './apt-repository.js';
import type { DaemonStatus } from '../../src/status/index.js';
import { daemonConfigArgs, DaemonUnderTest, eventsNamed, GIT_PASSWORD, GIT_USER, remoteLog, RESYNC_NEVER, wipeTendState } from './daemon-support.js';
import { GitServer } from './harness/git-server.js';
import { BRIDGE_ADDRESS } from './harness/layout.js';
import { execInHost, type TestHost } from './harness/hosts.js';
import { useHosts } from './harness/use-hosts.js';
import { freePort } from '../support/free-port.js';
import { buildTend, runTend, type TendRun } from '../support/tend-cli.js';

/**
 * Issue 13, packages, end to end: real .debs (dpkg-deb) in a real apt repository (reprepro) signed by a
 * throw-away gpg key, served over HTTP on the harness bridge, installed by the real `tend apply` on two
 * real systemd hosts (web-1 = host-1 is the canary, web-2 = host-2). The deploy repo commits the
 * repository's public key; tend writes it as the keyring the deb822 source names in Signed-By=.
 */

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const PACKAGE = 'greeter';
const PORT = 8091;

interface StepJson {
  host: string;
  outcome: string;
  code: string;
  errorClass?: string;
  detail: string;
  startedAt: number;
  endedAt: number;
}
interface ApplyJson {
  ok: boolean;
  result?: { services: { service: string; result: string; code?: string; steps: StepJson[] }[] };
}

let hosts: TestHost[];
let apt: AptRepository;
let repoDir: string;
let secretsDir: string;

/** A tiny HTTP service: busybox httpd answering /version with the package's version. */
function greeter(version: string, postinst?: string): DebPackage {
  return {
    name: PACKAGE,
    version,
    files: {
      'usr/bin/greeter': `#!/bin/sh\nexec busybox httpd -f -p ${PORT} -h /usr/share/greeter/www\n`,
      'usr/share/greeter/www/version': `${version}\n`,
    },
    ...(postinst === undefined ? {} : { postinst }),
  };
}

function spec(version: string): string {
  return `service:
  name: greeter
  group: web
  description: "Says its version over HTTP; shipped as a deb from the team's apt repository"
  run:
    package: greeter
    version: "${version}"
  deploy:
    serial: 1
    min_healthy_time: 1s
    healthy_deadline: 15s
    progress_deadline: 30s
    probe:
      type: http
      port: ${PORT}
      path: /version
  limits:
    mem: 64M
    no_file: 1024
`;
}

async function setVersion(version: string): Promise<void> {
  await writeFile(join(repoDir, 'services', 'greeter', 'spec.yml'), spec(version));
}

async function apply(): Promise<{ run: TendRun; json: ApplyJson; steps: StepJson[]; result: string }> {
  const run = await runTend(['apply', '--yes', '--json', '--repo', repoDir, '--ssh-key', hosts[0]!.privateKeyPath, '--secrets-dir', secretsDir]);
  let json: ApplyJson;
  try {
    json = JSON.parse(run.stdout) as ApplyJson;
  } catch {
    throw new Error(`tend printed no JSON (exit ${run.code}):\n${run.stdout}\n${run.stderr}`);
  }
  const service = json.result?.services.find((one) => one.service === 'greeter');
  return { run, json, steps: service?.steps ?? [], result: service?.result ?? 'none' };
}

async function servedVersion(target: TestHost): Promise<string> {
  const response = await fetch(`http://${target.address}:${PORT}/version`, { signal: AbortSignal.timeout(5000) });
  return (await response.text()).trim();
}

/** dpkg's view on the host: `<selection> <status> <version>`, e.g. `hold installed 1.0`. */
async function dpkgState(target: TestHost): Promise<string> {
  const result = await execInHost(target, ['dpkg-query', '-W', '-f', '${Status} ${Version}', PACKAGE], { allowFailure: true });
  const [selection, , status, version] = result.stdout.trim().split(' ');
  return `${selection} ${status} ${version}`;
}

async function keptDebs(target: TestHost): Promise<string[]> {
  const result = await execInHost(target, ['sh', '-c', `ls -1 /var/lib/tend/debs/${PACKAGE}/ | grep '\\.deb$' || true`]);
  return result.stdout.trim().split('\n').filter((line) => line !== '').sort();
}

/** What an earlier run of this file (or a person) left: the package, its files, tend's apt files. */
async function wipePackages(target: TestHost): Promise<void> {
  await execInHost(target, ['sh', '-c', `apt-mark unhold ${PACKAGE} >/dev/null 2>&1; dpkg --purge ${PACKAGE} >/dev/null 2>&1; rm -rf /var/lib/tend/debs /etc/apt/sources.list.d/tend-*.sources /etc/apt/keyrings/tend-*.gpg; true`]);
}

beforeAll(async () => {
  [hosts, apt] = await Promise.all([useHosts(3), AptRepository.create(BRIDGE_ADDRESS), buildTend()]);
  const web = hosts.slice(0, 2);
  await Promise.all(web.map(async (target) => {
    await wipeTendState(target);
    await wipePackages(target);
  }));
  await apt.publish(greeter('1.0'));
  const uri = await apt.start();

  repoDir = await mkdtemp(join(tmpdir(), 'tend-e2e-packages-repo-'));
  secretsDir = await mkdtemp(join(tmpdir(), 'tend-e2e-secrets-'));
  const inventory = await readFile(join(ROOT, 'deploy-repo-example', 'inventory.yml'), 'utf8');
  await writeFile(join(repoDir, 'inventory.yml'), inventory.replace(/groups:[\s\S]*$/, 'groups:\n  web: [web-1, web-2]\n'));
  await mkdir(join(repoDir, 'apt'));
  await writeFile(join(repoDir, 'apt', 'team.gpg'), apt.publicKey);
  await writeFile(
    join(repoDir, 'tend.yml'),
    `apt_repositories:\n  - name: team\n    uri: ${uri}\n    suite: stable\n    components: [main]\n    signing_key: apt/team.gpg\n`,
  );
  await mkdir(join(repoDir, 'services', 'greeter'), { recursive: true });
  await setVersion('1.0');
}, 240_000);

afterAll(async () => {
  await apt?.stop();
});

describe('a service shipped as a deb from a signed apt repository', { timeout: 120_000 }, () => {
  it('installs the pinned version on every host, holds it, keeps its .deb, and the probe passes', async () => {
    const first = await apply();
    expect(first.run.code, first.run.stdout + first.run.stderr).toBe(0);
    expect(first.result).toBe('succeeded');
    for (const target of hosts.slice(0, 2)) {
      expect(await servedVersion(target)).toBe('1.0');
      expect(await dpkgState(target)).toBe('hold installed 1.0');
      expect(await keptDebs(target)).toEqual(['greeter_1.0_all.deb']);
    }
    const sources = await execInHost(hosts[0]!, ['cat', '/etc/apt/sources.list.d/tend-team.sources']);
    expect(sources.stdout).toContain('Signed-By: /etc/apt/keyrings/tend-team.gpg');
    expect(sources.stdout).not.toContain('Trusted');

    const plan = await runTend(['plan', '--repo', repoDir, '--ssh-key', hosts[0]!.privateKeyPath, '--secrets-dir', secretsDir]);
    expect(plan.code, plan.stdout + plan.stderr).toBe(0);
    expect(plan.stdout).toContain('No changes');
  });

  it('rolls a version bump out canary first: the plan shows 1.0 → 1.1, each host then serves 1.1, held', async () => {
    await apt.publish(greeter('1.1'));
    await setVersion('1.1');
    const plan = await runTend(['plan', '--repo', repoDir, '--ssh-key', hosts[0]!.privateKeyPath, '--secrets-dir', secretsDir]);
    expect(plan.stdout).toContain('greeter 1.0 → 1.1');

    const bump = await apply();
    expect(bump.run.code, bump.run.stdout + bump.run.stderr).toBe(0);
    expect(bump.steps.map((step) => step.host)).toEqual(['web-1', 'web-2']);
    // Canary first: the second host started only after the canary was healthy.
    expect(bump.steps[1]!.startedAt).toBeGreaterThanOrEqual(bump.steps[0]!.endedAt);
    for (const target of hosts.slice(0, 2)) {
      expect(await servedVersion(target)).toBe('1.1');
      expect(await dpkgState(target)).toBe('hold installed 1.1');
      expect(await keptDebs(target)).toEqual(['greeter_1.0_all.deb', 'greeter_1.1_all.deb']);
    }
  });

  it('fails a version missing from the repository as a change on the canary, with the running version untouched', async () => {
    await setVersion('1.2');
    const missing = await apply();
    expect(missing.run.code).not.toBe(0);
    expect(missing.result).toBe('failed-change');
    expect(missing.steps.map((step) => [step.host, step.code, step.errorClass])).toEqual([['web-1', 'E_PACKAGE_VERSION_MISSING', 'change']]);
    expect(missing.steps[0]!.detail).toContain("Version '1.2' for 'greeter' was not found");
    expect(await servedVersion(hosts[0]!)).toBe('1.1');
    expect(await dpkgState(hosts[0]!)).toBe('hold installed 1.1');
  });

  it('fails a package whose postinst fails as a change, and keeps it held', async () => {
    await apt.publish(greeter('1.3', '#!/bin/sh\necho "greeter 1.3: cannot migrate its state" >&2\nexit 1\n'));
    await setVersion('1.3');
    const broken = await apply();
    expect(broken.result).toBe('failed-change');
    expect(broken.steps.map((step) => [step.host, step.code, step.errorClass])).toEqual([['web-1', 'E_PACKAGE_SCRIPT_FAILED', 'change']]);
    // dpkg unpacked 1.3 and could not configure it: still tend's package, held, and reported as not installed.
    expect(await dpkgState(hosts[0]!)).toBe('hold half-configured 1.3');
    expect(await dpkgState(hosts[1]!)).toBe('hold installed 1.1');
  });

  it('refuses the repository when the committed signing key is not the one it is signed with: E_APT_SIGNATURE, a conflict, nothing installed', async () => {
    // Another throw-away key, as when the repository is re-signed and the deploy repo still has the old key.
    const other = await AptRepository.create(BRIDGE_ADDRESS);
    await writeFile(join(repoDir, 'apt', 'team.gpg'), other.publicKey);
    await setVersion('1.2');
    try {
      const refused = await apply();
      expect(refused.run.code).not.toBe(0);
      expect(refused.result).toBe('failed-conflict');
      // Not E_PACKAGE_VERSION_MISSING: apt never got as far as the missing 1.2, and never turned the check off.
      expect(refused.steps.map((step) => [step.host, step.code, step.errorClass])).toEqual([['web-1', 'E_APT_SIGNATURE', 'conflict']]);
      expect(await dpkgState(hosts[0]!)).toBe('hold half-configured 1.3');
      expect(await dpkgState(hosts[1]!)).toBe('hold installed 1.1');
    } finally {
      await writeFile(join(repoDir, 'apt', 'team.gpg'), apt.publicKey);
    }
  });

  it('fails as transient, blaming no version, while the repository is down', async () => {
    await setVersion('1.2');
    await apt.stop();
    const down = await apply();
    expect(down.result).toBe('failed-transient');
    expect(down.steps.map((step) => [step.host, step.code, step.errorClass])).toEqual([['web-1', 'E_APT_UNREACHABLE', 'transient']]);
    expect(await dpkgState(hosts[0]!)).toBe('hold half-configured 1.3');
    expect(await servedVersion(hosts[1]!)).toBe('1.1');
  });

  it('reinstalls 1.0 from the kept .deb on the revert, over the half-configured 1.3, with the repository still down', async () => {
    await setVersion('1.0');
    const revert = await apply();
    expect(revert.run.code, revert.run.stdout + revert.run.stderr).toBe(0);
    expect(revert.result).toBe('succeeded');
    for (const target of hosts.slice(0, 2)) {
      expect(await servedVersion(target)).toBe('1.0');
      expect(await dpkgState(target)).toBe('hold installed 1.0');
    }
  });

  it('refuses to overwrite a version installed by hand: conflict, surfaced, the package left as it is', async () => {
    const web2 = hosts[1]!;
    await execInHost(web2, ['sh', '-c', `apt-mark unhold ${PACKAGE} && dpkg -i /var/lib/tend/debs/${PACKAGE}/${PACKAGE}_1.1_all.deb`]);
    const refused = await apply();
    expect(refused.steps.map((step) => [step.host, step.code, step.errorClass])).toEqual([['web-2', 'E_PACKAGE_NOT_OURS', 'conflict']]);
    expect(refused.steps[0]!.detail).toContain('greeter 1.1 is installed, but not by tend (tend installed 1.0)');
    expect(await dpkgState(web2)).toBe('install installed 1.1');
  });
});

describe('the daemon reverts a crashing or missing package version, and only retries while the repository is down', { timeout: 240_000 }, () => {
  const REPO = 'deploy-packages';
  const MAX_ATTEMPTS = 2;
  let gitServer: GitServer | undefined;
  let daemon: DaemonUnderTest | undefined;
  const converged = (status: DaemonStatus): boolean => status.lastApplied !== undefined && status.lastApplied === status.source.head && status.inFlight === undefined;

  beforeAll(async () => {
    await Promise.all(hosts.slice(0, 2).map(async (target) => {
      await wipeTendState(target);
      await wipePackages(target);
    }));
    await apt.publish(greeter('2.0'));
    await apt.start();
    await setVersion('2.0');
    gitServer = await GitServer.start({ user: GIT_USER, password: GIT_PASSWORD });
    await gitServer.createRepo(REPO, repoDir, { message: 'greeter 2.0 from the team repository' });
    const stateDir = await mkdtemp(join(tmpdir(), 'tend-e2e-state-'));
    const port = await freePort();
    const args = await daemonConfigArgs(
      {
        repoUrl: gitServer.repoUrl(REPO),
        sshKey: hosts[0]!.privateKeyPath,
        secretsDir,
        stateDir,
        pollInterval: '1s',
        resync: RESYNC_NEVER,
        // A small budget with short waits, so the repository-down case gives up within seconds.
        retry: { maxAttempts: MAX_ATTEMPTS, baseDelay: '200ms', maxDelay: '1s' },
      },
      port,
    );
    daemon = await DaemonUnderTest.startWith(args, port, stateDir);
    await daemon.waitFor('greeter 2.0 applied', converged, 120_000);
  }, 180_000);

  afterAll(async () => {
    await daemon?.stop();
    await gitServer?.close();
  });

  it('one revert commit, and every host back on 2.0 from its kept .deb, healthy and held', async () => {
    const git = gitServer!;
    for (const target of hosts.slice(0, 2)) expect(await dpkgState(target)).toBe('hold installed 2.0');
    const crashing: DebPackage = { name: PACKAGE, version: '2.1', files: { 'usr/bin/greeter': '#!/bin/sh\necho "greeter 2.1: crashing on purpose" >&2\nexit 1\n' } };
    await apt.publish(crashing);
    const bad = await git.landCommit(REPO, { message: 'greeter 2.1', files: { 'services/greeter/spec.yml': spec('2.1') } });

    // The canary installs 2.1 from the repository; from then on the repository is down, so the rollback can
    // only come from the .deb kept on the host.
    const until = Date.now() + 90_000;
    while (!(await dpkgState(hosts[0]!)).endsWith('installed 2.1')) {
      if (Date.now() > until) throw new Error(`web-1 never installed 2.1: ${await dpkgState(hosts[0]!)}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    await apt.stop();

    await daemon!.waitFor('the revert applied', (status) => converged(status) && status.source.head !== bad, 150_000);
    const log = await remoteLog(git, REPO);
    const reverts = log.filter((commit) => commit.message.startsWith('Revert '));
    expect(reverts.map((commit) => commit.message.split('\n')[0])).toEqual(['Revert "greeter 2.1"']);
    expect(reverts[0]!.message).toContain(`This reverts commit ${bad}.`);
    for (const target of hosts.slice(0, 2)) {
      expect(await servedVersion(target)).toBe('2.0');
      expect(await dpkgState(target)).toBe('hold installed 2.0');
    }
  });

  it('a version missing from the repository: one revert commit; the repository down: bounded retries, no revert, said in status', async () => {
    const git = gitServer!;
    const revertsIn = async (): Promise<string[]> => (await remoteLog(git, REPO)).filter((commit) => commit.message.startsWith('Revert "')).map((commit) => commit.message.split('\n')[0]!);
    const before = await revertsIn();
    await apt.start();

    const previous = (await daemon!.status()).source.head;
    const missing = await git.landCommit(REPO, { message: 'greeter 2.5', files: { 'services/greeter/spec.yml': spec('2.5') } });
    await daemon!.waitFor('the revert of 2.5 applied', (status) => converged(status) && status.source.head !== missing && status.source.head !== previous, 120_000);
    expect(await revertsIn()).toEqual(['Revert "greeter 2.5"', ...before]);
    for (const target of hosts.slice(0, 2)) {
      expect(await servedVersion(target)).toBe('2.0');
      expect(await dpkgState(target)).toBe('hold installed 2.0');
    }

    // 2.6 is published but the repository is down, and no host keeps its .deb: nothing says the commit is wrong.
    await apt.publish(greeter('2.6'));
    await apt.stop();
    const unreachable = await git.landCommit(REPO, { message: 'greeter 2.6', files: { 'services/greeter/spec.yml': spec('2.6') } });
    const stalled = (status: DaemonStatus | undefined) => status?.services.find((one) => one.service === PACKAGE && one.code === 'E_RETRIES_EXHAUSTED' && one.desiredCommit === unreachable);
    await daemon!.waitFor('greeter 2.6 given up on', (status) => stalled(status) !== undefined, 120_000);
    const { json } = await daemon!.cliStatus();
    const greeterStatus = stalled(json);
    expect(greeterStatus, JSON.stringify(json?.services, null, 2)).toBeDefined();
    expect([greeterStatus!.state, greeterStatus!.errorClass]).toEqual(['Stalled', 'transient']);
    expect(greeterStatus!.message).toContain(`E_APT_UNREACHABLE; gave up after ${MAX_ATTEMPTS} attempts`);
    expect(json?.source.head).toBe(unreachable);
    expect(eventsNamed(daemon!.events(), 'rollout started', { commit: unreachable })).toHaveLength(MAX_ATTEMPTS);
    expect(await revertsIn()).toEqual(['Revert "greeter 2.5"', ...before]);
    for (const target of hosts.slice(0, 2)) {
      expect(await servedVersion(target)).toBe('2.0');
      expect(await dpkgState(target)).toBe('hold installed 2.0');
    }
  });
});
