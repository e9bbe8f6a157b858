import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The deploy repo the benchmarks roll out: `services` small HTTP services (busybox httpd behind a shell
 * script, like deploy-repo-example's api), every one on every host of one group, or spread over groups of a
 * few hosts each (`placement`). A release is a new `VERSION=` line, so its artifact, and only its artifact,
 * changes.
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
  /** Where the services run; every service on every host when undefined. */
  readonly placement?: FleetPlacement;
  /** How the services relate; independent when undefined. */
  readonly order?: FleetOrder;
}

/**
 * `independent`: no `after:` at all, so tend may roll every service out at once. `chained`: each service
 * comes `after:` the one before it (svc-02 after svc-01, …), so they roll out one after another.
 */
export type FleetOrder = 'independent' | 'chained';

/**
 * `all`: every service on every host (group `fleet`), services × hosts instances. `grouped`: the hosts cut
 * into groups of `groupSize` in name order (the last may be smaller), service i in group i mod the number
 * of groups, as a fleet of many small services is laid out: Dyploma's 2,500 instances of 150 services on
 * 2,000 hosts is 17 hosts a service.
 */
export type FleetPlacement = { readonly kind: 'all' } | { readonly kind: 'grouped'; readonly groupSize: number };

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

/** Groups of the fleet in inventory order, each with its hosts. */
export function fleetGroups(hosts: readonly FleetHost[], placement: FleetPlacement = { kind: 'all' }): { readonly name: string; readonly hosts: readonly FleetHost[] }[] {
  if (placement.kind === 'all') return [{ name: FLEET_GROUP, hosts }];
  const size = Math.max(1, Math.floor(placement.groupSize));
  const groups: { name: string; hosts: FleetHost[] }[] = [];
  for (let start = 0; start < hosts.length; start += size) {
    groups.push({ name: `group-${String(groups.length + 1).padStart(3, '0')}`, hosts: hosts.slice(start, start + size) });
  }
  return groups;
}

/** Service instances (service × host) the fleet places. */
export function fleetInstances(hosts: readonly FleetHost[], services: number, placement: FleetPlacement = { kind: 'all' }): number {
  const groups = fleetGroups(hosts, placement);
  let instances = 0;
  for (let index = 0; index < services; index += 1) instances += groups[index % groups.length]?.hosts.length ?? 0;
  return instances;
}

/**
 * Hosts that exist only in a repo, for figures that never connect: addresses in 10.0.0.0/8, and a pinned
 * ed25519 key that is well-formed (validate checks the blob) and different for every host.
 */
export function syntheticHosts(count: number): FleetHost[] {
  return Array.from({ length: count }, (_, index) => {
    const name = `host-${String(index + 1).padStart(5, '0')}`;
    const type = Buffer.from('ssh-ed25519');
    const key = createHash('sha256').update(name).digest();
    const blob = Buffer.concat([lengthPrefix(type.length), type, lengthPrefix(key.length), key]);
    return {
      name,
      address: `10.${(index >> 16) & 255}.${(index >> 8) & 255}.${index & 255}`,
      port: 22,
      user: 'deploy',
      hostKey: `ssh-ed25519 ${blob.toString('base64')}`,
    };
  });
}

function lengthPrefix(length: number): Buffer {
  const prefix = Buffer.alloc(4);
  prefix.writeUInt32BE(length);
  return prefix;
}

function specYaml(index: number, timing: FleetTiming, group: string, order: FleetOrder): string {
  const name = serviceName(index);
  const port = servicePort(index);
  const after = order === 'chained' && index > 0 ? `  after: [${serviceName(index - 1)}]\n` : '';
  return `service:
  name: ${name}
  group: ${group}
  description: "bench service ${index + 1}"
${after}  run:
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

function inventoryYaml(hosts: readonly FleetHost[], placement: FleetPlacement | undefined): string {
  const lines = ['hosts:'];
  for (const host of hosts) {
    lines.push(`  ${host.name}:`, `    address: ${host.address}`, `    port: ${host.port}`, `    user: ${host.user}`, `    host_key: ${host.hostKey}`);
  }
  lines.push('', 'groups:');
  for (const group of fleetGroups(hosts, placement)) lines.push(`  ${group.name}: [${group.hosts.map((host) => host.name).join(', ')}]`);
  lines.push('');
  return lines.join('\n');
}

/**
 * Gives every service new deploy settings; nothing on the hosts depends on them, so no host changes. The
 * hosts and placement must be those the repo was written with.
 */
export async function writeTiming(
  dir: string,
  services: number,
  timing: FleetTiming,
  hosts: readonly FleetHost[] = [],
  placement?: FleetPlacement,
  order: FleetOrder = 'independent',
): Promise<void> {
  const groups = fleetGroups(hosts, placement);
  for (let index = 0; index < services; index += 1) {
    const group = groups[index % groups.length]?.name ?? FLEET_GROUP;
    await writeFile(join(dir, 'services', serviceName(index), 'spec.yml'), specYaml(index, timing, group, order));
  }
}

/** Writes the repo into `dir` (created if needed) and returns it. */
export async function writeFleetRepo(dir: string, options: FleetOptions): Promise<string> {
  await mkdir(join(dir, 'services'), { recursive: true });
  await writeFile(join(dir, 'inventory.yml'), inventoryYaml(options.hosts, options.placement));
  if (options.concurrency !== undefined) await writeFile(join(dir, 'tend.yml'), `concurrency: ${options.concurrency}\n`);
  for (let index = 0; index < options.services; index += 1) {
    const name = serviceName(index);
    await mkdir(join(dir, 'services', name), { recursive: true });
    await writeFile(join(dir, 'services', name, name), serviceScript(name, options.version), { mode: 0o755 });
  }
  await writeTiming(dir, options.services, options.timing, options.hosts, options.placement, options.order);
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
