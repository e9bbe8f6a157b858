import { describe, expect, it } from 'vitest';
import { TendError } from '../../../src/errors/index.js';
import {
  assertResolved,
  maskedSecrets,
  OWNERSHIP_MARKER,
  renderHost,
  renderService,
  resolvedSecrets,
  type RenderedService,
} from '../../../src/render/index.js';
import type { RepoSpec, ServiceSpec } from '../../../src/spec/model.js';
import { articleService, env, host, secret, service, text, timer } from './fixtures.js';

const secrets = resolvedSecrets(new Map([['db_password', 's3cr3t "pw" $x']]));

function render(spec: ServiceSpec, onHost: readonly string[] = [spec.name]): RenderedService<'resolved'> {
  return renderService({ service: spec, host, servicesOnHost: new Set(onHost), secrets });
}

function content(rendered: RenderedService, path: string): string {
  const found = rendered.files.find((f) => f.path === path);
  if (found === undefined) throw new Error(`no ${path} in ${rendered.files.map((f) => f.path).join(', ')}`);
  return found.content;
}

function lines(rendered: RenderedService, path: string): string[] {
  return content(rendered, path).split('\n');
}

describe("the Kinescope article's service", () => {
  const rendered = render(articleService());

  it('renders its limits as systemd settings', () => {
    const unit = lines(rendered, '/etc/systemd/system/api.service');
    expect(unit).toContain('LimitNOFILE=10000');
    expect(unit).toContain('MemoryMax=1G');
    expect(unit.some((l) => l.startsWith('CPUQuota='))).toBe(false);
  });

  it('runs the current release of its artifact with its env file', () => {
    const unit = lines(rendered, '/etc/systemd/system/api.service');
    expect(unit).toContain('ExecStart=/var/lib/tend/releases/api/current/api');
    expect(unit).toContain('EnvironmentFile=/etc/tend/env/api.env');
    expect(unit).toContain('Restart=on-failure');
    expect(unit).toContain('WantedBy=multi-user.target');
  });

  it('writes exactly one unit and one env file, sorted by path, with their modes', () => {
    expect(rendered.files.map((f) => [f.path, f.kind, f.mode])).toEqual([
      ['/etc/systemd/system/api.service', 'unit', 0o644],
      ['/etc/tend/env/api.env', 'env', 0o600],
    ]);
  });

  it('renders the whole unit canonically', () => {
    expect(content(rendered, '/etc/systemd/system/api.service')).toBe(
      [
        OWNERSHIP_MARKER,
        '# tend-service: api',
        '',
        '[Unit]',
        'Description=Kinescope API',
        'After=network-online.target',
        'Wants=network-online.target',
        '',
        '[Service]',
        'Type=exec',
        'ExecStart=/var/lib/tend/releases/api/current/api',
        'EnvironmentFile=/etc/tend/env/api.env',
        'Restart=on-failure',
        'RestartSec=2s',
        'MemoryMax=1G',
        'LimitNOFILE=10000',
        'DynamicUser=yes',
        'User=api',
        'StateDirectory=api',
        'UMask=0077',
        'NoNewPrivileges=yes',
        'RestrictSUIDSGID=yes',
        'CapabilityBoundingSet=',
        'ProtectSystem=strict',
        'ProtectHome=yes',
        'PrivateTmp=yes',
        'PrivateDevices=yes',
        'ProtectKernelTunables=yes',
        'ProtectKernelModules=yes',
        'ProtectKernelLogs=yes',
        'ProtectControlGroups=yes',
        'RestrictNamespaces=yes',
        'RestrictRealtime=yes',
        'LockPersonality=yes',
        'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK',
        'SystemCallArchitectures=native',
        'SystemCallFilter=@system-service',
        '',
        '[Install]',
        'WantedBy=multi-user.target',
        '',
      ].join('\n'),
    );
  });

  it('puts the resolved secret in the env file, quoted, keys sorted', () => {
    expect(content(rendered, '/etc/tend/env/api.env')).toBe(
      [OWNERSHIP_MARKER, '# tend-service: api', 'DB_PASSWORD="s3cr3t \\"pw\\" \\$x"', 'LISTEN=":8080"', ''].join('\n'),
    );
  });
});

describe('canonical output', () => {
  it('gives the same bytes and hashes for the same spec', () => {
    const spec = service({ timers: [timer()] });
    expect(render(spec)).toEqual(render(structuredClone(spec)));
  });

  it('starts every file with the ownership marker and ends it with exactly one newline', () => {
    for (const file of render(service({ timers: [timer()] })).files) {
      expect(file.content.split('\n')[0]).toBe(OWNERSHIP_MARKER);
      expect(file.content.endsWith('\n')).toBe(true);
      expect(file.content.endsWith('\n\n')).toBe(false);
      expect(file.content).not.toContain('\r');
    }
  });

  it('does not change when env lines or after: entries are reordered', () => {
    const a = service({ environment: [env('A', 1, text('1')), env('B', 2, text('2'))], after: ['db', 'cache'] });
    const b = service({ environment: [env('B', 2, text('2')), env('A', 1, text('1'))], after: ['cache', 'db'] });
    expect(render(a, ['api', 'db', 'cache'])).toEqual(render(b, ['api', 'db', 'cache']));
  });

  it('keeps the last of a repeated env key, as systemd would read the unsorted file', () => {
    const spec = service({ environment: [env('A', 1, text('first')), env('A', 2, text('second'))] });
    expect(lines(render(spec), '/etc/tend/env/api.env')).toEqual([OWNERSHIP_MARKER, '# tend-service: api', 'A="second"', '']);
  });

  it('records the sha256 of each content', () => {
    const file = render(articleService()).files[0];
    expect(file?.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(render(service({ description: 'other' })).files[0]?.sha256).not.toBe(file?.sha256);
  });
});

describe('unit settings', () => {
  it('orders after the after: services on this host only', () => {
    const unit = lines(render(service({ after: ['db', 'queue', 'cache'] }), ['api', 'cache', 'db']), '/etc/systemd/system/api.service');
    expect(unit).toContain('After=network-online.target cache.service db.service');
    expect(unit).toContain('Wants=network-online.target cache.service db.service');
  });

  it('renders CPUQuota= when the spec sets cpu', () => {
    const unit = lines(render(service({ limits: { memBytes: 512 * 1024 ** 2, noFile: 4096, cpuPercent: 50 } })), '/etc/systemd/system/api.service');
    expect(unit).toEqual(expect.arrayContaining(['CPUQuota=50%', 'MemoryMax=512M', 'LimitNOFILE=4096']));
  });

  it('quotes the command line and escapes specifiers in the description', () => {
    const spec = service({
      description: '100% "fine"',
      run: { kind: 'package', package: 'app', version: '1.2', argv: ['/usr/bin/app', '--greeting', 'hello world', '$HOME'] },
    });
    const unit = lines(render(spec), '/etc/systemd/system/api.service');
    expect(unit).toContain('Description=100%% "fine"');
    expect(unit).toContain('ExecStart=/usr/bin/app --greeting "hello world" "$$HOME"');
  });

  it('grants only CAP_NET_BIND_SERVICE, and only for a port below 1024', () => {
    const low = lines(render(service({ ports: [80, 8080] })), '/etc/systemd/system/api.service');
    expect(low).toEqual(expect.arrayContaining(['CapabilityBoundingSet=CAP_NET_BIND_SERVICE', 'AmbientCapabilities=CAP_NET_BIND_SERVICE']));
    const high = lines(render(service({ ports: [8080] })), '/etc/systemd/system/api.service');
    expect(high).toContain('CapabilityBoundingSet=');
    expect(high.some((l) => l.startsWith('AmbientCapabilities='))).toBe(false);
  });

  it('falls back to the service name for an empty description', () => {
    expect(lines(render(service({ description: '  ' })), '/etc/systemd/system/api.service')).toContain('Description=api');
  });

  it.each(['9lives', 'has.dot', 'a'.repeat(32), 'bad/name', 'sshd'])('refuses service name %j, which validation refuses, as its own bug', (name) => {
    expect(() => render(service({ name }))).toThrow(expect.objectContaining({ code: 'E_INTERNAL', errorClass: 'internal' }));
  });
});

describe('timers', () => {
  const rendered = render(service({ timers: [timer()] }));

  it('renders a timer and its oneshot service next to the service', () => {
    expect(rendered.files.map((f) => [f.path, f.kind])).toEqual([
      ['/etc/systemd/system/api-cleanup.service', 'timer-service'],
      ['/etc/systemd/system/api-cleanup.timer', 'timer'],
      ['/etc/systemd/system/api.service', 'unit'],
      ['/etc/tend/env/api.env', 'env'],
    ]);
  });

  it('schedules with OnCalendar= and catches up missed runs', () => {
    const unit = lines(rendered, '/etc/systemd/system/api-cleanup.timer');
    expect(unit).toEqual(
      expect.arrayContaining(['[Timer]', 'OnCalendar=*-*-* *:00/5:00', 'Persistent=true', 'Unit=api-cleanup.service', 'WantedBy=timers.target']),
    );
  });

  it("runs the timer's argv once, with the service's env file, user and sandbox", () => {
    const unit = lines(rendered, '/etc/systemd/system/api-cleanup.service');
    expect(unit).toEqual(
      expect.arrayContaining([
        'Type=oneshot',
        'ExecStart=/var/lib/tend/releases/api/current/api cleanup --older-than=7d',
        'EnvironmentFile=/etc/tend/env/api.env',
        'User=api',
        'DynamicUser=yes',
        'StateDirectory=api',
        'ProtectSystem=strict',
        'MemoryMax=1G',
      ]),
    );
    expect(unit.some((l) => l.startsWith('Restart='))).toBe(false);
    expect(unit).not.toContain('[Install]');
  });

  it('refuses a timer name that validation refuses, as its own bug', () => {
    expect(() => render(service({ timers: [timer({ name: 'a b' })] }))).toThrow(expect.objectContaining({ code: 'E_INTERNAL' }));
  });
});

describe('secrets', () => {
  it('masks secrets for display and says so on the result', () => {
    const masked = renderService({ service: articleService(), host, servicesOnHost: new Set(['api']), secrets: maskedSecrets });
    expect(masked.secrets).toBe('masked');
    expect(content(masked, '/etc/tend/env/api.env')).toContain('DB_PASSWORD="<secret:db_password>"');
    expect(() => assertResolved(masked)).toThrow(TendError);
  });

  it('says a resolved render is resolved', () => {
    const rendered = render(articleService());
    expect(rendered.secrets).toBe('resolved');
    expect(() => assertResolved(rendered)).not.toThrow();
  });

  it('keeps text around a secret inside one value', () => {
    const spec = service({ environment: [env('DSN', 5, text('postgres://app:'), secret('db_password'), text('@db/app'))] });
    expect(lines(render(spec), '/etc/tend/env/api.env')).toContain('DSN="postgres://app:s3cr3t \\"pw\\" \\$x@db/app"');
  });

  it('fails with E_SECRET_MISSING naming the secret and its spec line, never a value', () => {
    const spec = service({ environment: [env('TOKEN', 7, secret('api_token'))] });
    let error: unknown;
    try {
      render(spec);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(TendError);
    expect(error).toMatchObject({ code: 'E_SECRET_MISSING', errorClass: 'invalid', where: { file: 'services/api/spec.yml', line: 7 } });
    expect((error as TendError).message).toContain('api_token');
    expect((error as TendError).message).not.toContain('s3cr3t');
    expect((error as TendError).hint).toContain('TEND_SECRETS_DIR');
  });

  it('refuses a secret value with a newline instead of writing a second variable', () => {
    const evil = resolvedSecrets(new Map([['db_password', 'x\nLD_PRELOAD=/tmp/evil.so']]));
    expect(() => renderService({ service: articleService(), host, servicesOnHost: new Set(['api']), secrets: evil })).toThrow(TendError);
  });
});

describe('renderHost', () => {
  const db = service({ name: 'db', group: 'batch', after: [], environment: [] });
  const web = service({ name: 'web', group: 'web', after: ['db'], environment: [] });
  const repo: RepoSpec = {
    inventory: {
      hosts: [host],
      groups: new Map([['web', ['web-1']], ['batch', ['web-1', 'batch-1']]]),
      members: new Map([['web', new Set(['web-1'])], ['batch', new Set(['web-1', 'batch-1'])]]),
    },
    services: [db, web],
    settings: { prune: { enabled: false, maxFraction: 0.5 }, concurrency: 4, parallelServices: 4, keepReleases: 3, aptRepositories: [] },
  };

  it('renders the services whose group holds the host and orders them on it', () => {
    const rendered = renderHost(repo, host, maskedSecrets);
    expect(rendered.map((r) => r.service)).toEqual(['db', 'web']);
    expect(rendered[1]?.files[0]?.content).toContain('After=network-online.target db.service\n');
  });

  it('shares one render between hosts that agree on their after: services, and gives a host where one runs its own After=', () => {
    const web2 = { ...host, name: 'web-2' };
    const web3 = { ...host, name: 'web-3' };
    const fleet: RepoSpec = {
      ...repo,
      inventory: {
        hosts: [host, web2, web3],
        groups: new Map([['web', ['web-1', 'web-2', 'web-3']], ['batch', ['web-1']]]),
        members: new Map([['web', new Set(['web-1', 'web-2', 'web-3'])], ['batch', new Set(['web-1'])]]),
      },
    };
    const [onWeb1, onWeb2, onWeb3] = [host, web2, web3].map((one) => renderHost(fleet, one, maskedSecrets).find((r) => r.service === 'web'));
    expect([onWeb1?.host, onWeb2?.host, onWeb3?.host]).toEqual(['web-1', 'web-2', 'web-3']);
    expect(onWeb1?.files[0]?.content).toContain('After=network-online.target db.service\n');
    expect(onWeb2?.files[0]?.content).toContain('After=network-online.target\n');
    expect(onWeb3?.files).toBe(onWeb2?.files);
    expect(onWeb1?.files).not.toBe(onWeb2?.files);
    // Another resolver is another render: masked placeholders never stand in for resolved values.
    const resolved = renderHost(fleet, web3, secrets).find((r) => r.service === 'web');
    expect(resolved?.secrets).toBe('resolved');
    expect(resolved?.files).not.toBe(onWeb3?.files);
  });

  it('refuses two services that would write the same unit', () => {
    const clash = service({ name: 'web-cleanup', group: 'web', environment: [] });
    const withTimer = { ...web, timers: [timer()] };
    expect(() => renderHost({ ...repo, services: [db, withTimer, clash] }, host, maskedSecrets)).toThrow(/both render/);
  });
});
