import type { ObservedHost, ObservedService, UnitProperties } from '../../../src/hosts/observed.js';
import type { DesiredFile, DesiredPlacement, DesiredState } from '../../../src/plan/model.js';
import type { DeploySpec, ServiceSpec } from '../../../src/spec/model.js';
import { defaultUnit } from '../render/fixtures.js';

/** A sha256-looking hex string that is different for every label, so fixtures read as names. */
export function hash(label: string): string {
  let hex = '';
  for (const char of label) hex += char.charCodeAt(0).toString(16).padStart(2, '0');
  return hex.padEnd(64, '0').slice(0, 64);
}

export function aService(name: string, overrides: { after?: string[]; deploy?: Partial<DeploySpec> } = {}): ServiceSpec {
  return {
    name,
    group: 'web',
    description: `${name} service`,
    run: { kind: 'artifact', path: `services/${name}/app`, fileName: 'app', sha256: hash(`${name}-v1`), argv: ['app'] },
    deploy: {
      serial: { kind: 'count', count: 1 },
      canary: 1,
      maxFailedHosts: 0,
      probe: { type: 'tcp', port: 8080 },
      timing: { interval: 1_000, timeout: 1_000, minHealthyTime: 10_000, healthyDeadline: 60_000, progressDeadline: 300_000 },
      window: undefined,
      autoRollback: true,
      ...overrides.deploy,
    },
    after: overrides.after ?? [],
    limits: { memBytes: 256 * 1024 * 1024, noFile: 1024, cpuPercent: undefined },
    ports: [8080],
    metricsPort: undefined,
    resources: undefined,
    environment: [],
    hostDependent: false,
    unit: defaultUnit(name),
    timers: [],
    source: { file: `services/${name}/spec.yml`, line: 1, col: 1 },
  };
}

export function unitFile(service: string, version = 'v1'): DesiredFile {
  return { path: `/etc/systemd/system/${service}.service`, sha256: hash(`${service}-unit-${version}`), mode: 0o644, kind: 'unit' };
}

export function envFile(service: string, version = 'v1'): DesiredFile {
  return { path: `/etc/tend/env/${service}.env`, sha256: hash(`${service}-env-${version}`), mode: 0o600, kind: 'env' };
}

export function timerFile(service: string, timer: string, version = 'v1'): DesiredFile {
  return { path: `/etc/systemd/system/${service}-${timer}.timer`, sha256: hash(`${service}-${timer}-${version}`), mode: 0o644, kind: 'timer' };
}

export function aPlacement(service: string, host: string, overrides: Partial<DesiredPlacement> = {}): DesiredPlacement {
  return { service, host, files: [unitFile(service), envFile(service)], release: hash(`${service}-release-1`), ...overrides };
}

export function aDesiredState(services: ServiceSpec[], placements: DesiredPlacement[]): DesiredState {
  return { services, placements };
}

export function runningUnit(overrides: Partial<UnitProperties> = {}): UnitProperties {
  return {
    activeState: 'active',
    subState: 'running',
    invocationId: 'inv-1',
    nRestarts: 0,
    needDaemonReload: false,
    mainPid: 1234,
    unitFileState: 'enabled',
    ...overrides,
  };
}

/** What a host reports when it already runs exactly the given placement. */
export function convergedService(placement: DesiredPlacement, overrides: Partial<ObservedService> = {}): ObservedService {
  return {
    service: placement.service,
    files: new Map(placement.files.map((file) => [file.path, file.sha256])),
    currentRelease: placement.release,
    releases: placement.release === undefined ? [] : [placement.release],
    unit: runningUnit(),
    ...overrides,
  };
}

export function aHost(host: string, services: ObservedService[] = [], foreignUnits: string[] = []): ObservedHost {
  return { host, reachable: true, services: new Map(services.map((service) => [service.service, service])), foreignUnits };
}

export function anUnreachableHost(host: string): ObservedHost {
  return { host, reachable: false, code: 'E_HOST_UNREACHABLE', errorClass: 'transient', message: `${host}:22 connection refused` };
}

/** Every placement observed exactly as desired, one host entry per host. */
export function convergedFleet(placements: DesiredPlacement[]): ObservedHost[] {
  const hosts = [...new Set(placements.map((placement) => placement.host))].sort();
  return hosts.map((host) => aHost(host, placements.filter((placement) => placement.host === host).map((placement) => convergedService(placement))));
}

export function hostNames(count: number): string[] {
  return Array.from({ length: count }, (_, index) => `host-${String(index + 1).padStart(2, '0')}`);
}
