import type { RepoSpec } from '../spec/index.js';

/**
 * Prometheus `file_sd` target files from the spec: one file per service that declares a metrics_port, with a
 * target per host of its group. Pure; the CLI prints them and the daemon can write them (each with a temp
 * name, then rename, as Prometheus re-reads a file_sd file whenever it changes).
 */

/** One entry of a file_sd JSON array, in the shape Prometheus reads. */
export interface FileSdTarget {
  readonly targets: readonly string[];
  readonly labels: { readonly service: string; readonly group: string; readonly host: string };
}

export interface MonitoringTargetFile {
  readonly service: string;
  /** Relative path the file is written at: `file_sd/<service>.json`. */
  readonly path: string;
  /** Hosts in inventory order (sorted by name). */
  readonly targets: readonly FileSdTarget[];
}

/** `address:port`, with an IPv6 address in brackets as Prometheus expects. */
function targetAddress(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

/** The target files of every service with a metrics_port, sorted by service name; the others get none. */
export function monitoringTargets(spec: Pick<RepoSpec, 'inventory' | 'services'>): MonitoringTargetFile[] {
  const files: MonitoringTargetFile[] = [];
  for (const service of spec.services) {
    const port = service.metricsPort;
    if (port === undefined) continue;
    const members = spec.inventory.members.get(service.group) ?? new Set<string>();
    const targets = spec.inventory.hosts
      .filter((host) => members.has(host.name))
      .map((host) => ({ targets: [targetAddress(host.address, port)], labels: { service: service.name, group: service.group, host: host.name } }));
    files.push({ service: service.name, path: `file_sd/${service.name}.json`, targets });
  }
  return files;
}

/** A target file's bytes: the JSON array Prometheus reads, two-space indented, ending in a newline. */
export function monitoringTargetText(file: MonitoringTargetFile): string {
  return `${JSON.stringify(file.targets, null, 2)}\n`;
}
