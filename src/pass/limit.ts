import { compareText } from '../plan/compare-text.js';
import { closestMatch } from '../spec/index.js';
import type { RepoSpec } from '../spec/model.js';

/**
 * `tend plan|apply [SERVICE...] [--limit HOST|GROUP,...]`, as Ansible's `--limit`: which placements a run
 * may look at and touch. Pure: names in, sets out; the CLI turns unknown names into a usage error.
 */

/** The reason every placement left out is reported with, in text and JSON alike. */
export const NOT_IN_LIMIT = 'not in --limit';

export interface Limit {
  /** Services named on the command line; undefined: every service. */
  readonly services: ReadonlySet<string> | undefined;
  /** Hosts named by --limit, groups expanded; undefined: every host. */
  readonly hosts: ReadonlySet<string> | undefined;
}

export interface UnknownName {
  readonly kind: 'service' | 'host or group';
  readonly name: string;
  /** The closest known name, for a did-you-mean; undefined when none is close. */
  readonly meant: string | undefined;
}

export type LimitResult = { readonly ok: true; readonly limit: Limit } | { readonly ok: false; readonly unknown: readonly UnknownName[] };

/** Services that were named, and the placements of all services that the limit leaves out. */
export interface SkippedService {
  readonly service: string;
  /** Sorted; every host of the service's group the run leaves alone. */
  readonly hosts: readonly string[];
  readonly reason: typeof NOT_IN_LIMIT;
}

/** `web-1,web,,batch-1` -> the names, empty entries dropped (a trailing comma is not a name). */
export function splitLimit(text: string): string[] {
  return text.split(',').map((name) => name.trim()).filter((name) => name !== '');
}

/**
 * Resolves the named services and the --limit entries against the repo. A --limit entry may be a host or a
 * group (expanded to its hosts; a name that is both means both). Every unknown name is returned at once,
 * so one run names every typo.
 */
export function resolveLimit(repo: RepoSpec, services: readonly string[], limit: readonly string[] | undefined): LimitResult {
  const serviceNames = repo.services.map((service) => service.name);
  const knownServices = new Set(serviceNames);
  const hostNames = repo.inventory.hosts.map((host) => host.name);
  const knownHosts = new Set(hostNames);
  const unknown: UnknownName[] = [];
  for (const name of services) {
    if (!knownServices.has(name)) unknown.push({ kind: 'service', name, meant: closestMatch(name, serviceNames) });
  }
  let hosts: Set<string> | undefined;
  if (limit !== undefined) {
    hosts = new Set();
    for (const name of limit) {
      const members = repo.inventory.groups.get(name);
      if (!knownHosts.has(name) && members === undefined) {
        unknown.push({ kind: 'host or group', name, meant: closestMatch(name, [...hostNames, ...repo.inventory.groups.keys()]) });
        continue;
      }
      if (knownHosts.has(name)) hosts.add(name);
      for (const member of members ?? []) hosts.add(member);
    }
  }
  if (unknown.length > 0) return { ok: false, unknown };
  return { ok: true, limit: { services: services.length === 0 ? undefined : new Set(services), hosts } };
}

/** Whether the limit lets the run look at and touch this service on this host. */
export function withinLimit(limit: Limit, service: string, host: string): boolean {
  return (limit.services === undefined || limit.services.has(service)) && (limit.hosts === undefined || limit.hosts.has(host));
}

/** Every placement of the repo the limit leaves out, per service in the repo's order: untouched, and said so. */
export function skippedByLimit(repo: RepoSpec, limit: Limit): SkippedService[] {
  if (limit.services === undefined && limit.hosts === undefined) return [];
  const skipped: SkippedService[] = [];
  for (const service of repo.services) {
    const placed = repo.inventory.groups.get(service.group) ?? [];
    const hosts = [...new Set(placed)].filter((host) => !withinLimit(limit, service.name, host)).sort(compareText);
    if (hosts.length > 0) skipped.push({ service: service.name, hosts, reason: NOT_IN_LIMIT });
  }
  return skipped;
}

/** The one line a usage error gives per unknown name: `unknown host or group "web1" (did you mean web-1?)`. */
export function describeUnknownNames(unknown: readonly UnknownName[]): string {
  return unknown.map(({ kind, name, meant }) => `unknown ${kind} "${name}"${meant === undefined ? '' : ` (did you mean ${meant}?)`}`).join('; ');
}
