import { describe, expect, it } from 'vitest';
import { InternalError } from '../../../src/errors/index.js';
import { maskedSecrets, renderHost, renderService, type RenderedService } from '../../../src/render/index.js';
import type { HostSpec, RepoSpec, ServiceSpec, UnitOptions } from '../../../src/spec/model.js';
import { defaultUnit, env, host, service, text, timer } from './fixtures.js';

function unitOptions(overrides: Partial<UnitOptions>): UnitOptions {
  return { ...defaultUnit('api'), ...overrides };
}

function serviceLines(spec: ServiceSpec, path = `/etc/systemd/system/${spec.name}.service`, on: HostSpec = host): string[] {
  const rendered = renderService({ service: spec, host: on, servicesOnHost: new Set([spec.name]), secrets: maskedSecrets });
  return fileOf(rendered, path).split('\n');
}

function fileOf(rendered: RenderedService, path: string): string {
  const found = rendered.files.find((file) => file.path === path);
  if (found === undefined) throw new Error(`no ${path}`);
  return found.content;
}

/** The [Service] section's setting names, in order. */
function settingNames(lines: readonly string[]): string[] {
  const start = lines.indexOf('[Service]');
  const end = lines.indexOf('', start);
  return lines.slice(start + 1, end).map((line) => line.slice(0, line.indexOf('=')));
}

describe('the user a unit runs as', () => {
  it('is a dynamic user named after the service without unit.user', () => {
    const lines = serviceLines(service({ ports: [8080] }));
    expect(lines).toContain('DynamicUser=yes');
    expect(lines).toContain('User=api');
  });

  it('is the fixed account of unit.user, without DynamicUser=, and its group when given', () => {
    const lines = serviceLines(service({ unit: unitOptions({ user: 'www-data', group: 'www-data' }) }));
    expect(lines.some((line) => line.startsWith('DynamicUser='))).toBe(false);
    expect(lines).toContain('User=www-data');
    expect(lines).toContain('Group=www-data');
  });

  it("is the same for the service's timer jobs, so a job reads what the service writes", () => {
    const spec = service({ unit: unitOptions({ user: 'www-data' }), timers: [timer()] });
    const job = serviceLines(spec, '/etc/systemd/system/api-cleanup.service');
    expect(job).toContain('User=www-data');
    expect(job).toContain('StateDirectory=api');
  });
});

describe('directories, paths and capabilities', () => {
  it('renders each directory kind as one space-separated setting, and read-write paths after them', () => {
    const lines = serviceLines(
      service({
        unit: unitOptions({
          directories: { state: ['api', 'api/uploads'], cache: ['api'], logs: ['api'], runtime: ['api'], configuration: ['api'] },
          readWritePaths: ['/srv/a', '/srv/b'],
          workingDirectory: '/var/lib/api',
        }),
      }),
    );
    expect(lines).toEqual(
      expect.arrayContaining(['StateDirectory=api api/uploads', 'CacheDirectory=api', 'LogsDirectory=api', 'RuntimeDirectory=api', 'ConfigurationDirectory=api', 'ReadWritePaths=/srv/a /srv/b', 'WorkingDirectory=/var/lib/api']),
    );
    expect(lines).toContain('ProtectSystem=strict');
  });

  it('renders no StateDirectory= when the spec lists no state directory', () => {
    const lines = serviceLines(service({ unit: unitOptions({ directories: { state: [], cache: [], logs: [], runtime: [], configuration: [] } }) }));
    expect(lines.some((line) => line.startsWith('StateDirectory='))).toBe(false);
  });

  it('keeps the declared capabilities ambient and in the bounding set, with CAP_NET_BIND_SERVICE added once for a low port', () => {
    const lines = serviceLines(service({ ports: [80], unit: unitOptions({ capabilities: ['CAP_NET_BIND_SERVICE', 'CAP_NET_RAW'] }) }));
    expect(lines).toContain('CapabilityBoundingSet=CAP_NET_BIND_SERVICE CAP_NET_RAW');
    expect(lines).toContain('AmbientCapabilities=CAP_NET_BIND_SERVICE CAP_NET_RAW');
  });

  it('drops every capability when none is declared and no port is below 1024', () => {
    const lines = serviceLines(service({ ports: [8080] }));
    expect(lines).toContain('CapabilityBoundingSet=');
    expect(lines.some((line) => line.startsWith('AmbientCapabilities='))).toBe(false);
  });

  it('refuses to render a directory the loader should have refused', () => {
    const spec = service({ unit: unitOptions({ directories: { state: ['a b'], cache: [], logs: [], runtime: [], configuration: [] } }) });
    expect(() => serviceLines(spec)).toThrow(InternalError);
  });
});

describe('type, stop settings and directives', () => {
  const spec = service({
    unit: unitOptions({
      type: 'notify',
      killSignal: 'SIGINT',
      timeoutStop: 90_000,
      directives: [
        ['KillMode', 'mixed'],
        ['Nice', '5'],
        ['RestartSec', '5s'],
        ['UMask', '0027'],
      ],
    }),
    timers: [timer()],
  });

  it('renders Type=, KillSignal= and TimeoutStopSec= (in milliseconds) from the spec', () => {
    const lines = serviceLines(spec);
    expect(lines).toEqual(expect.arrayContaining(['Type=notify', 'KillSignal=SIGINT', 'TimeoutStopSec=1m30s']));
  });

  it("replaces tend's own line for a directive tend also writes, and appends the others in name order: one line per setting", () => {
    const lines = serviceLines(spec);
    const names = settingNames(lines);
    expect(new Set(names).size).toBe(names.length);
    expect(lines).toContain('UMask=0027');
    expect(lines).toContain('RestartSec=5s');
    expect(names.indexOf('UMask')).toBeLessThan(names.indexOf('NoNewPrivileges'));
    expect(names.slice(-2)).toEqual(['KillMode', 'Nice']);
  });

  it("gives a timer's job the directives but not those about the service's start and stop", () => {
    const job = serviceLines(spec, '/etc/systemd/system/api-cleanup.service');
    expect(job).toContain('Type=oneshot');
    expect(job).toContain('Nice=5');
    expect(job).toContain('UMask=0027');
    expect(job.some((line) => /^(KillMode|RestartSec|KillSignal|TimeoutStopSec)=/.test(line))).toBe(false);
  });
});

describe('per-host env values', () => {
  const zoned: ServiceSpec = service({
    name: 'web',
    group: 'web',
    environment: [env('ZONE', 3, text('zone-'), { kind: 'host-var', name: 'zone' }), env('HOST', 4, { kind: 'host-name' })],
    hostDependent: true,
  });
  const plain: ServiceSpec = service({ name: 'plain', group: 'web', environment: [env('A', 3, text('1'))] });
  const web1: HostSpec = { ...host, vars: new Map([['zone', 'a']]) };
  const web2: HostSpec = { ...host, name: 'web-2', vars: new Map([['zone', 'b']]) };
  const repo: RepoSpec = {
    inventory: { hosts: [web1, web2], groups: new Map([['web', ['web-1', 'web-2']]]), members: new Map([['web', new Set(['web-1', 'web-2'])]]) },
    services: [plain, zoned],
    settings: { prune: { enabled: false, maxFraction: 0.5 }, concurrency: 4, parallelServices: 4, keepReleases: 3, aptRepositories: [] },
  };

  it("writes each host's own values into its env file", () => {
    const [one, two] = [web1, web2].map((on) => fileOf(renderHost(repo, on, maskedSecrets).find((r) => r.service === 'web') as RenderedService, '/etc/tend/env/web.env'));
    expect(one).toContain('ZONE="zone-a"\n');
    expect(one).toContain('HOST="web-1"\n');
    expect(two).toContain('ZONE="zone-b"\n');
    expect(two).toContain('HOST="web-2"\n');
  });

  it('still shares one render between hosts for a service that uses no host value', () => {
    const [one, two] = [web1, web2].map((on) => renderHost(repo, on, maskedSecrets).find((r) => r.service === 'plain'));
    expect(one?.files).toBe(two?.files);
  });

  it('refuses to render for a host without a var the loader should have required', () => {
    const bare: HostSpec = { ...host, name: 'web-3', vars: new Map() };
    expect(() => renderService({ service: zoned, host: bare, servicesOnHost: new Set(['web']), secrets: maskedSecrets })).toThrow(InternalError);
  });
});
