import type { DeploySpec, EnvPart, EnvVar, HostSpec, ServiceSpec, SourceRef, TimerSpec, UnitOptions } from '../../../src/spec/model.js';
import { currentArtifactPath } from '../../../src/render/host-layout.js';

/** Hand-built validated models, as the loader will produce them, until the loader exists. */
export function at(file: string, line: number): SourceRef {
  return { file, line, col: 3 };
}

export const host: HostSpec = {
  name: 'web-1',
  address: '10.78.0.11',
  port: 22,
  user: 'deploy',
  hostKey: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIC2Nae5bmv8IzCDOvN92kgSO1v7WO6IELtYX3zV1JeSX',
  vars: new Map(),
  source: at('inventory.yml', 2),
};

/** The `unit:` options of a spec without a `unit:` block: a dynamic user and the service's own state directory. */
export function defaultUnit(service: string): UnitOptions {
  return {
    user: undefined,
    group: undefined,
    directories: { state: [service], cache: [], logs: [], runtime: [], configuration: [] },
    readWritePaths: [],
    capabilities: [],
    workingDirectory: undefined,
    type: 'exec',
    killSignal: undefined,
    timeoutStop: undefined,
    directives: [],
  };
}

const deploy: DeploySpec = {
  serial: { kind: 'count', count: 1 },
  canary: 1,
  maxFailedHosts: 0,
  probe: { type: 'http', port: 8080, path: '/health', expectStatus: 200, expectBody: undefined },
  timing: { interval: 1000, timeout: 2000, minHealthyTime: 2000, healthyDeadline: 30_000, progressDeadline: 60_000 },
  window: undefined,
  autoRollback: true,
};

export function text(value: string): EnvPart {
  return { kind: 'text', text: value };
}

export function secret(name: string): EnvPart {
  return { kind: 'secret', name };
}

export function env(key: string, line: number, ...parts: EnvPart[]): EnvVar {
  return { key, parts, source: at('services/api/spec.yml', line) };
}

/**
 * The Kinescope article's service, as its spec.yml reads:
 *   service: { name: api, group: web, description: ..., deploy: { serial: 1, probe: { type: http,
 *   port: 8080, path: /health } }, limits: { mem: 1G, no_file: 10_000 }, resources: ...,
 *   environments: | LISTEN=:8080 \n DB_PASSWORD={{ db_password }} }
 * with the loader's defaults: the artifact is services/api/api.
 */
export function articleService(): ServiceSpec {
  return {
    name: 'api',
    group: 'web',
    description: 'Kinescope API',
    run: {
      kind: 'artifact',
      path: 'services/api/api',
      fileName: 'api',
      sha256: 'a'.repeat(64),
      argv: [currentArtifactPath('api', 'api')],
    },
    deploy,
    after: [],
    limits: { memBytes: 1024 ** 3, noFile: 10_000, cpuPercent: undefined },
    ports: [8080],
    metricsPort: undefined,
    resources: { cpu: 2 },
    environment: [env('LISTEN', 12, text(':8080')), env('DB_PASSWORD', 13, secret('db_password'))],
    hostDependent: false,
    unit: defaultUnit('api'),
    timers: [],
    source: at('services/api/spec.yml', 1),
  };
}

export function timer(overrides: Partial<TimerSpec> = {}): TimerSpec {
  return {
    name: 'cleanup',
    schedule: '*/5 * * * *',
    onCalendar: '*-*-* *:00/5:00',
    argv: [currentArtifactPath('api', 'api'), 'cleanup', '--older-than=7d'],
    description: 'Remove old uploads',
    ...overrides,
  };
}

export function service(overrides: Partial<ServiceSpec> = {}): ServiceSpec {
  return { ...articleService(), unit: defaultUnit(overrides.name ?? 'api'), ...overrides };
}
