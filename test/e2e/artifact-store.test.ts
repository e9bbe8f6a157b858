import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BRIDGE_ADDRESS } from './harness/layout.js';
import { execInHost, type TestHost } from './harness/hosts.js';
import { useHosts } from './harness/use-hosts.js';
import { unitProperty, wipeTendState } from './daemon-support.js';
import { buildTend, runTend, type TendRun } from '../support/tend-cli.js';

/**
 * Issue 13, artifacts from a store, end to end: a real HTTP store on the harness bridge (10.78.0.1) serving
 * a binary (each host downloads it: fetch: host, busybox wget on the test hosts) and a tarball behind a
 * bearer token (tend downloads it once and stages it over SSH: fetch: tend), the real `tend apply` and two
 * real systemd hosts. A version bump rolls out; a wrong sha256 is refused on the host before the running
 * service is touched (class change); a store that is down is transient.
 */

const TOKEN = 'store-token-canary-e2e-3b7d';
const RELEASES = '/var/lib/tend/releases';

interface StepJson {
  host: string;
  outcome: string;
  code: string;
  errorClass?: string;
  detail: string;
}
interface ServiceJson {
  service: string;
  result: string;
  steps: StepJson[];
}
interface ApplyJson {
  ok: boolean;
  result?: { services: ServiceJson[] };
}

let hosts: TestHost[];
let store: Server;
let storeUrl: string;
let scratch: string;
let repoDir: string;
let secretsDir: string;
/** Every request the store answered: path, who asked, and whether it carried the token. */
const requests: { path: string; from: string; authorized: boolean }[] = [];
/** What the store serves, by path. */
const published = new Map<string, Buffer>();

const sha = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/** The program both services run: busybox httpd answering /health and /version on $PORT. */
function program(name: string, version: string): Buffer {
  return Buffer.from(`#!/bin/sh
VERSION=${version}
set -eu
www=$(mktemp -d /tmp/www.XXXXXX)
chmod 755 "$www"
printf 'ok\\n' > "$www/health"
printf '%s\\n' "$VERSION" > "$www/version"
echo "${name} $VERSION listening on $PORT"
exec busybox httpd -f -p "$PORT" -h "$www"
`);
}

/** A binary release at /store-bin-<version>. */
function publishBinary(version: string): { url: string; sha256: string } {
  const bytes = program('store-bin', version);
  published.set(`/store-bin-${version}`, bytes);
  return { url: `${storeUrl}/store-bin-${version}`, sha256: sha(bytes) };
}

/** A tarball release with the program at bin/store-tar, behind the token. */
async function publishTarball(version: string): Promise<{ url: string; sha256: string }> {
  const tree = join(scratch, `tree-${version}`);
  await mkdir(join(tree, 'bin'), { recursive: true });
  await writeFile(join(tree, 'bin', 'store-tar'), program('store-tar', version), { mode: 0o755 });
  const path = join(scratch, `store-tar-${version}.tar.gz`);
  execFileSync('tar', ['-czf', path, '-C', tree, 'bin']);
  const bytes = await readFile(path);
  published.set(`/private/store-tar-${version}.tar.gz`, bytes);
  return { url: `${storeUrl}/private/store-tar-${version}.tar.gz`, sha256: sha(bytes) };
}

function spec(name: string, port: number, run: string[]): string {
  return [
    'service:',
    `  name: ${name}`,
    '  group: web',
    `  description: "${name}: delivered from an artifact store"`,
    '  run:',
    ...run.map((line) => `    ${line}`),
    '  deploy:',
    '    serial: 1',
    `    probe: { type: http, port: ${port}, path: /health, interval: 250ms }`,
    '    min_healthy_time: 1s',
    '    healthy_deadline: 10s',
    '    progress_deadline: 20s',
    '  limits: { mem: 64M, no_file: 1024 }',
    '  environments: |',
    `    PORT=${port}`,
    '',
  ].join('\n');
}

async function writeSpecs(bin: { url: string; sha256: string }, tar: { url: string; sha256: string }): Promise<void> {
  await writeFile(join(repoDir, 'services', 'store-bin', 'spec.yml'), spec('store-bin', 8090, [`url: ${bin.url}`, `sha256: ${bin.sha256}`, 'allow_http: true', 'fetch: host']));
  await writeFile(
    join(repoDir, 'services', 'store-tar', 'spec.yml'),
    spec('store-tar', 8091, [`url: ${tar.url}`, `sha256: ${tar.sha256}`, 'file: bin/store-tar', 'allow_http: true', 'fetch: tend', 'credentials: { bearer: store_token }']),
  );
}

async function apply(): Promise<{ run: TendRun; json: ApplyJson }> {
  const run = await runTend(['apply', '--yes', '--json', '--repo', repoDir, '--ssh-key', hosts[0]!.privateKeyPath, '--secrets-dir', secretsDir]);
  // Secrets never leave tend's process: not in what it prints, on success or failure.
  expect(run.stdout + run.stderr).not.toContain(TOKEN);
  try {
    return { run, json: JSON.parse(run.stdout) as ApplyJson };
  } catch {
    throw new Error(`tend printed no JSON (exit ${run.code}):\n${run.stdout}\n${run.stderr}`);
  }
}

function serviceOf(json: ApplyJson, name: string): ServiceJson {
  const found = json.result?.services.find((one) => one.service === name);
  if (found === undefined) throw new Error(`no result for ${name} in ${JSON.stringify(json)}`);
  return found;
}

async function versionOn(target: TestHost, port: number): Promise<string> {
  const response = await fetch(`http://${target.address}:${port}/version`, { signal: AbortSignal.timeout(5000) });
  return (await response.text()).trim();
}

async function releasesOn(target: TestHost, service: string): Promise<string[]> {
  const listed = await execInHost(target, ['sh', '-c', `ls -1 ${RELEASES}/${service} 2>/dev/null || true`]);
  return listed.stdout.split('\n').filter((name) => /^[0-9a-f]{64}$/.test(name)).sort();
}

async function currentOn(target: TestHost, service: string): Promise<string> {
  return (await execInHost(target, ['readlink', `${RELEASES}/${service}/current`])).stdout.trim();
}

beforeAll(async () => {
  // Three, as the other files use: asking for two would stop host-3 and make the next file boot it again.
  const [all] = await Promise.all([useHosts(3), buildTend()]);
  hosts = all.slice(0, 2);
  await Promise.all(hosts.map((target) => wipeTendState(target)));
  scratch = await mkdtemp(join(tmpdir(), 'tend-e2e-store-'));
  store = createServer((request, response) => {
    const path = request.url ?? '/';
    const authorized = request.headers.authorization === `Bearer ${TOKEN}`;
    requests.push({ path, from: request.socket.remoteAddress ?? '', authorized });
    const bytes = published.get(path);
    if (path.startsWith('/private/') && !authorized) return void response.writeHead(401).end();
    if (bytes === undefined) return void response.writeHead(404).end('no such file\n');
    response.end(bytes);
  });
  await new Promise<void>((resolve) => store.listen(0, BRIDGE_ADDRESS, resolve));
  storeUrl = `http://${BRIDGE_ADDRESS}:${(store.address() as AddressInfo).port}`;

  repoDir = join(scratch, 'repo');
  await mkdir(join(repoDir, 'services', 'store-bin'), { recursive: true });
  await mkdir(join(repoDir, 'services', 'store-tar'), { recursive: true });
  const inventory = [
    'hosts:',
    ...hosts.flatMap((target, index) => [`  web-${index + 1}:`, `    address: ${target.address}`, `    port: ${target.port}`, `    user: ${target.user}`, `    host_key: ${target.hostKey}`]),
    'groups:',
    '  web: [web-1, web-2]',
    '',
  ].join('\n');
  await writeFile(join(repoDir, 'inventory.yml'), inventory);
  secretsDir = join(scratch, 'secrets');
  await mkdir(secretsDir);
  await writeFile(join(secretsDir, 'store_token'), `${TOKEN}\n`, { mode: 0o600 });
});

afterAll(async () => {
  store?.closeAllConnections();
  await new Promise<void>((resolve) => (store === undefined ? resolve() : store.close(() => resolve())));
  if (hosts !== undefined) await Promise.all(hosts.map((target) => wipeTendState(target)));
});

describe('artifacts from a store', () => {
  it('deploys a binary each host downloads and a private tarball tend downloads once, then rolls a version bump out', async () => {
    await writeSpecs(publishBinary('1.0.0'), await publishTarball('1.0.0'));
    const first = await apply();
    expect(first.run.code, first.run.stderr).toBe(0);
    expect(first.json.result?.services.map((one) => [one.service, one.result])).toEqual([
      ['store-bin', 'succeeded'],
      ['store-tar', 'succeeded'],
    ]);
    for (const target of hosts) {
      expect(await versionOn(target, 8090)).toBe('1.0.0');
      expect(await versionOn(target, 8091)).toBe('1.0.0');
    }
    // fetch: host: each host asked the store itself; fetch: tend: tend asked once, with the token, for both hosts.
    expect(requests.filter((one) => one.path === '/store-bin-1.0.0').map((one) => one.from).sort()).toEqual(hosts.map((target) => target.address).sort());
    expect(requests.filter((one) => one.path === '/private/store-tar-1.0.0.tar.gz')).toEqual([{ path: '/private/store-tar-1.0.0.tar.gz', from: BRIDGE_ADDRESS, authorized: true }]);

    const bin = publishBinary('1.0.1');
    const tar = await publishTarball('1.0.1');
    await writeSpecs(bin, tar);
    const bump = await apply();
    expect(bump.run.code, bump.run.stderr).toBe(0);
    for (const target of hosts) {
      expect(await versionOn(target, 8090)).toBe('1.0.1');
      expect(await versionOn(target, 8091)).toBe('1.0.1');
      // The last releases are kept, so a rollback needs no store.
      expect(await releasesOn(target, 'store-bin')).toEqual([publishBinary('1.0.0').sha256, bin.sha256].sort());
      expect(await releasesOn(target, 'store-tar')).toHaveLength(2);
      // The token went to the store in tend's request only: never to a host, so never into its journal (sudo logs argv there).
      const journal = await execInHost(target, ['journalctl', '--no-pager', '-o', 'cat']);
      expect(journal.stdout).not.toContain(TOKEN);
    }
  });

  it('refuses a wrong sha256 on the host, before the running service is touched, as the change\'s fault', async () => {
    const web1 = hosts[0]!;
    const before = { invocation: await unitProperty(web1, 'store-bin.service', 'InvocationID'), current: await currentOn(web1, 'store-bin') };
    const next = publishBinary('1.0.2');
    const wrong = 'e'.repeat(64);
    await writeSpecs({ url: next.url, sha256: wrong }, await publishTarball('1.0.1'));

    const { run, json } = await apply();
    expect(run.code, run.stderr).toBe(3);
    const result = serviceOf(json, 'store-bin');
    expect(result.result).toBe('failed-change');
    expect(result.steps.map((step) => [step.host, step.outcome, step.code, step.errorClass])).toEqual([['web-1', 'failed', 'E_ARTIFACT_HASH_MISMATCH', 'change']]);
    expect(result.steps[0]?.detail).toContain(next.sha256);
    expect(await unitProperty(web1, 'store-bin.service', 'InvocationID')).toBe(before.invocation);
    expect(await currentOn(web1, 'store-bin')).toBe(before.current);
    expect(await releasesOn(web1, 'store-bin')).not.toContain(wrong);
    expect(await versionOn(web1, 8090)).toBe('1.0.1');
  });

  it('takes a store that is down as transient, after bounded retries, and touches nothing running', async () => {
    const web1 = hosts[0]!;
    const before = await unitProperty(web1, 'store-bin.service', 'InvocationID');
    await writeSpecs(publishBinary('1.0.2'), await publishTarball('1.0.1'));
    store.closeAllConnections();
    await new Promise<void>((resolve) => store.close(() => resolve()));
    const asked = requests.length;

    const { run, json } = await apply();
    expect(run.code, run.stderr).toBe(3);
    const result = serviceOf(json, 'store-bin');
    expect(result.result).toBe('failed-transient');
    expect(result.steps.map((step) => [step.host, step.code, step.errorClass])).toEqual([['web-1', 'E_ARTIFACT_STORE_UNAVAILABLE', 'transient']]);
    expect(requests).toHaveLength(asked);
    expect(await unitProperty(web1, 'store-bin.service', 'InvocationID')).toBe(before);
    expect(await versionOn(web1, 8090)).toBe('1.0.1');
  });
});
