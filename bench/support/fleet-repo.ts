import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The deploy repo the benchmarks roll out: `services` small HTTP services (busybox httpd behind a shell
 * script, like deploy-repo-example's api) on every host of one group. A release is a new `VERSION=` line,
 * so its artifact, and only its artifact, changes.
 */

export interface FleetHost {
  readonly name: string;
  readonly address: string;
  readonly port: number;
  readonly user: string;
  /** `ssh-ed25519 AAAA…`, pinned in the inventory. */
  readonly hostKey: string;
}

export interface FleetTiming {
  /** `deploy.serial`: hosts per batch. */
  readonly serial: number;
  /** `deploy.probe.interval`, e.g. `1s`. */
  readonly interval: string;
  /** `deploy.min_healthy_time`, e.g. `5s`; `0s` makes the first passing probe enough. */
  readonly minHealthyTime: string;
}

export interface FleetOptions {
  readonly hosts: readonly FleetHost[];
  readonly services: number;
  readonly timing: FleetTiming;
  /** The version every service starts at. */
  readonly version: string;
  /** `concurrency` of tend.yml; tend's default when undefined. */
  readonly concurrency?: number;
}

export const FLEET_GROUP = 'fleet';
const FIRST_PORT = 9101;

export function serviceName(index: number): string {
  return `svc-${String(index + 1).padStart(2, '0')}`;
}

export function servicePort(index: number): number {
  return FIRST_PORT + index;
}

/** The artifact of a service at a version: the bytes tend uploads and Ansible copies. */
export function serviceScript(name: string, version: string): string {
  return `#!/bin/sh
# bench service ${name}: answers /health ("ok") and /version over HTTP on $PORT.
VERSION=${version}

set -eu
port="\${PORT:?${name}: PORT is not set}"
www="$(mktemp -d "\${TMPDIR:-/tmp}/${name}-www.XXXXXX")"
chmod 755 "$www"
printf 'ok\\n' >"$www/health"
printf '%s\\n' "$VERSION" >"$www/version"

echo "${name} $VERSION listening on port $port"
exec busybox httpd -f -p "$port" -h "$www"
`;
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function specYaml(index: number, timing: FleetTiming): string {
  const name = serviceName(index);
  const port = servicePort(index);
  return `service:
  name: ${name}
  group: ${FLEET_GROUP}
  description: "bench service ${index + 1}"
  run:
    artifact: ${name}
    ports: [${port}]
  deploy:
    serial: ${timing.serial}
    canary: 0
    probe:
      type: http
      port: ${port}
      path: /health
      interval: ${timing.interval}
    min_healthy_time: ${timing.minHealthyTime}
  limits:
    mem: 64M
    no_file: 1024
  environments: |
    PORT=${port}
`;
}

function inventoryYaml(hosts: readonly FleetHost[]): string {
  const lines = ['hosts:'];
  for (const host of hosts) {
    lines.push(`  ${host.name}:`, `    address: ${host.address}`, `    port: ${host.port}`, `    user: ${host.user}`, `    host_key: ${host.hostKey}`);
  }
  lines.push('', 'groups:', `  ${FLEET_GROUP}: [${hosts.map((host) => host.name).join(', ')}]`, '');
  return lines.join('\n');
}

/** Gives every service new deploy settings; nothing on the hosts depends on them, so no host changes. */
export async function writeTiming(dir: string, services: number, timing: FleetTiming): Promise<void> {
  for (let index = 0; index < services; index += 1) {
    await writeFile(join(dir, 'services', serviceName(index), 'spec.yml'), specYaml(index, timing));
  }
}

/** Writes the repo into `dir` (created if needed) and returns it. */
export async function writeFleetRepo(dir: string, options: FleetOptions): Promise<string> {
  await mkdir(join(dir, 'services'), { recursive: true });
  await writeFile(join(dir, 'inventory.yml'), inventoryYaml(options.hosts));
  if (options.concurrency !== undefined) await writeFile(join(dir, 'tend.yml'), `concurrency: ${options.concurrency}\n`);
  for (let index = 0; index < options.services; index += 1) {
    const name = serviceName(index);
    await mkdir(join(dir, 'services', name), { recursive: true });
    await writeFile(join(dir, 'services', name, name), serviceScript(name, options.version), { mode: 0o755 });
  }
  await writeTiming(dir, options.services, options.timing);
  return dir;
}

export async function newFleetRepo(options: FleetOptions): Promise<string> {
  return writeFleetRepo(await mkdtemp(join(tmpdir(), 'tend-bench-fleet-')), options);
}

/** A new release of one service: only its artifact's VERSION line changes. */
export async function releaseService(dir: string, index: number, version: string): Promise<void> {
  const name = serviceName(index);
  await writeFile(join(dir, 'services', name, name), serviceScript(name, version), { mode: 0o755 });
}
