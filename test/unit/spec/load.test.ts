import { createHash } from 'node:crypto';

import { describe, expect, it } from 'vitest';

import { InternalError } from '../../../src/errors/index.js';
import { currentArtifactPath } from '../../../src/render/host-layout.js';
import { loadRepo } from '../../../src/spec/index.js';
import type { RepoReader, ServiceSpec } from '../../../src/spec/index.js';
import { API_ARTIFACT, ARTICLE_SPEC, BASE_INVENTORY, SPEC_PATH, baseRepo, repoWith } from './fixture-repo.js';
import { loadFiles, loadIssues, loadValid, serviceNamed } from './load-files.js';
import { defaultUnit } from '../render/fixtures.js';

function replaced(original: string, replacement: string, text: string = ARTICLE_SPEC): string {
  if (!text.includes(original)) throw new Error(`no ${JSON.stringify(original)} to replace`);
  return text.replace(original, replacement);
}

/** A second service in group web (or another group), built from the article spec. */
function otherService(name: string, lines: { group?: string; port?: number; extra?: string } = {}): Record<string, string> {
  const spec = replaced('      port: 8080\n', `      port: ${lines.port ?? 9090}\n`, replaced('  group: web\n', `  group: ${lines.group ?? 'web'}\n`, replaced('  name: api\n', `  name: ${name}\n`)));
  return { [`services/${name}/spec.yml`]: spec + (lines.extra ?? ''), [`services/${name}/${name}`]: API_ARTIFACT };
}

describe('the Kinescope article spec, pasted unchanged', () => {
  it('validates, with no_file 10_000 read as 10000 and mem 1G as 1 GiB', async () => {
    const { repo, warnings } = await loadValid(baseRepo());
    const api = serviceNamed(repo, 'api');
    expect(api.limits.noFile).toBe(10000);
    expect(api.limits.memBytes).toBe(1024 ** 3);
    expect(warnings).toEqual([]);
  });

  it('gets every default of an omitted field', async () => {
    const { repo } = await loadValid(baseRepo());
    const api = serviceNamed(repo, 'api');
    const sha256 = createHash('sha256').update(API_ARTIFACT).digest('hex');
    expect(api).toEqual<ServiceSpec>({
      name: 'api',
      group: 'web',
      description: 'Kinescope API',
      run: { kind: 'artifact', path: 'services/api/api', fileName: 'api', sha256, argv: [currentArtifactPath('api', 'api')] },
      deploy: {
        serial: { kind: 'count', count: 1 },
        canary: 1,
        maxFailedHosts: 0,
        probe: { type: 'http', port: 8080, path: '/health', expectStatus: 200, expectBody: undefined },
        timing: { interval: 1_000, timeout: 2_000, minHealthyTime: 5_000, healthyDeadline: 60_000, progressDeadline: 180_000 },
        window: undefined,
        autoRollback: true,
      },
      after: [],
      limits: { memBytes: 1024 ** 3, noFile: 10_000, cpuPercent: undefined },
      ports: [8080],
      metricsPort: undefined,
      resources: { cpu: 2 },
      environment: [
        { key: 'LISTEN', parts: [{ kind: 'text', text: ':8080' }], source: { file: SPEC_PATH, line: 17, col: 5 } },
        { key: 'DB_PASSWORD', parts: [{ kind: 'secret', name: 'db_password' }], source: { file: SPEC_PATH, line: 18, col: 5 } },
      ],
      hostDependent: false,
      unit: defaultUnit('api'),
      timers: [],
      source: { file: SPEC_PATH, line: 1, col: 1 },
    });
  });

  it('reads the inventory with defaults, sorted hosts and groups, and host key comments dropped', async () => {
    const { repo } = await loadValid(baseRepo());
    expect(repo.inventory.hosts.map((host) => [host.name, host.port, host.user])).toEqual([
      ['db-1', 22, 'root'],
      ['web-1', 22, 'deploy'],
      ['web-2', 22, 'deploy'],
    ]);
    expect(repo.inventory.hosts[1]?.hostKey).toBe('ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILxCCF+oNWvrnWIOKRlEbeiGWeIBTLF93v/KkpyT2coF');
    expect(repo.inventory.hosts[1]?.source).toEqual({ file: 'inventory.yml', line: 2, col: 3 });
    expect([...repo.inventory.groups.entries()]).toEqual([
      ['db', ['db-1']],
      ['web', ['web-1', 'web-2']],
    ]);
  });

  it("keeps each group's hosts as a set too, built once per load, holding the same hosts as its list", async () => {
    const { repo } = await loadValid(baseRepo());
    expect([...repo.inventory.members.entries()]).toEqual([...repo.inventory.groups.entries()].map(([group, hosts]) => [group, new Set(hosts)]));
  });

  it('uses the settings defaults without tend.yml and reads tend.yml when present', async () => {
    expect((await loadValid(baseRepo())).repo.settings).toEqual({ prune: { enabled: false, maxFraction: 0.5 }, concurrency: 16, parallelServices: 4, keepReleases: 3, aptRepositories: [] });
    const { repo } = await loadValid(repoWith({ 'tend.yml': 'prune: { enabled: true, max_fraction: 0.25 }\nconcurrency: 4\nparallel_services: 2\nkeep_releases: 5\n' }));
    expect(repo.settings).toEqual({ prune: { enabled: true, maxFraction: 0.25 }, concurrency: 4, parallelServices: 2, keepReleases: 5, aptRepositories: [] });
  });
});

describe('extensions and their defaults', () => {
  const cases: readonly [string, string, (service: ServiceSpec) => unknown, unknown][] = [
    ['serial as a percentage', replaced('    serial: 1\n', '    serial: "25%"\n'), (s) => s.deploy.serial, { kind: 'percent', percent: 25 }],
    ['serial as a count', replaced('    serial: 1\n', '    serial: 3\n'), (s) => s.deploy.serial, { kind: 'count', count: 3 }],
    ['no canary', replaced('    serial: 1\n', '    serial: 1\n    canary: 0\n    max_failed_hosts: 2\n'), (s) => [s.deploy.canary, s.deploy.maxFailedHosts], [0, 2]],
    ['auto_rollback off', replaced('    serial: 1\n', '    serial: 1\n    auto_rollback: false\n'), (s) => s.deploy.autoRollback, false],
    ['a deploy window', replaced('    serial: 1\n', '    serial: 1\n    window: "0 9-17 * * 1-5"\n'), (s) => s.deploy.window, '0 9-17 * * 1-5'],
    ['probe timings', replaced('      path: /health\n', '      path: /health\n      interval: 500ms\n      timeout: 1s\n'), (s) => [s.deploy.timing.interval, s.deploy.timing.timeout], [500, 1000]],
    ['deadlines', replaced('    serial: 1\n', '    serial: 1\n    min_healthy_time: 10s\n    healthy_deadline: 2m\n    progress_deadline: 1h30m\n'), (s) => s.deploy.timing, { interval: 1000, timeout: 2000, minHealthyTime: 10_000, healthyDeadline: 120_000, progressDeadline: 5_400_000 }],
    ['http probe expectations', replaced('      path: /health\n', '      path: /health\n      expect_status: 204\n      expect_body: ok\n'), (s) => s.deploy.probe, { type: 'http', port: 8080, path: '/health', expectStatus: 204, expectBody: 'ok' }],
    ['http probe default path', replaced('      path: /health\n', ''), (s) => s.deploy.probe, { type: 'http', port: 8080, path: '/', expectStatus: 200, expectBody: undefined }],
    ['tcp probe', replaced('      type: http\n      port: 8080\n      path: /health\n', '      type: tcp\n      port: 8080\n'), (s) => s.deploy.probe, { type: 'tcp', port: 8080 }],
    ['exec probe with a command string', replaced('      type: http\n      port: 8080\n      path: /health\n', '      type: exec\n      command: /usr/local/bin/check --quick\n'), (s) => [s.deploy.probe, s.ports], [{ type: 'exec', argv: ['/usr/local/bin/check', '--quick'] }, []]],
    ['no probe', replaced('    probe:\n      type: http\n      port: 8080\n      path: /health\n', ''), (s) => [s.deploy.probe, s.ports], [undefined, []]],
    ['cpu quota', replaced('    mem: 1G\n', '    mem: 1G\n    cpu: 150%\n'), (s) => s.limits.cpuPercent, 150],
    ['mem in K', replaced('    mem: 1G\n', '    mem: 1024K\n'), (s) => s.limits.memBytes, 1024 * 1024],
    ['mem as bytes', replaced('    mem: 1G\n', '    mem: 268435456\n'), (s) => s.limits.memBytes, 268_435_456],
    ['default mem and no_file', replaced('  limits:\n    mem: 1G\n    no_file: 10_000\n', ''), (s) => s.limits, { memBytes: 512 * 1024 ** 2, noFile: 65536, cpuPercent: undefined }],
    ['ports: probe port plus run.ports, sorted and unique', `${ARTICLE_SPEC}  run:\n    ports: [9100, 8080, 7000]\n`, (s) => s.ports, [7000, 8080, 9100]],
    ['metrics_port: kept, and counted as a port the service listens on', `${ARTICLE_SPEC}  metrics_port: 9100\n`, (s) => [s.metricsPort, s.ports], [9100, [8080, 9100]]],
    ['after', `${ARTICLE_SPEC}  after: [db]\n`, (s) => s.after, ['db']],
    ['description default', replaced('  description: Kinescope API\n', ''), (s) => s.description, ''],
    ['resources kept as written', replaced('    cpu: 2\n', '    cpu: 2\n    disks: [{ size: 10G, tier: ssd }]\n'), (s) => s.resources, { cpu: 2, disks: [{ size: '10G', tier: 'ssd' }] }],
    ['a package with a version', `${ARTICLE_SPEC}  run:\n    package: nginx\n    version: "1.22.1-9"\n`, (s) => s.run, { kind: 'package', package: 'nginx', version: '1.22.1-9', argv: ['/usr/bin/api'] }],
    ['a package with its command', `${ARTICLE_SPEC}  run:\n    package: nginx\n    command: /usr/sbin/nginx -g daemon\n`, (s) => s.run.argv, ['/usr/sbin/nginx', '-g', 'daemon']],
    ['artifact arguments follow the artifact path', `${ARTICLE_SPEC}  run:\n    command: ["--port", "8080"]\n`, (s) => s.run.argv, [currentArtifactPath('api', 'api'), '--port', '8080']],
    ['a timer with its OnCalendar', `${ARTICLE_SPEC}  timers:\n    - name: cleanup\n      schedule: "30 3 * * *"\n      command: ["/bin/sh", "-c", "echo hi"]\n`, (s) => s.timers, [{ name: 'cleanup', schedule: '30 3 * * *', onCalendar: '*-*-* 03:30:00', argv: ['/bin/sh', '-c', 'echo hi'], description: '' }]],
  ];

  it.each(cases)('%s', async (_, spec, pick, expected) => {
    const { repo } = await loadValid(repoWith({ [SPEC_PATH]: spec, ...(spec.includes('after: [db]') ? otherService('db', { group: 'db' }) : {}) }));
    expect(pick(serviceNamed(repo, 'api'))).toEqual(expected);
  });

  it('runs a named artifact from a subfolder and checks its sha256, in any case', async () => {
    const script = '#!/bin/sh\necho server\n';
    const sha256 = createHash('sha256').update(script).digest('hex');
    const { repo } = await loadValid(
      repoWith({
        [SPEC_PATH]: `${ARTICLE_SPEC}  run:\n    artifact: bin/server.sh\n    sha256: ${sha256.toUpperCase()}\n`,
        'services/api/bin/server.sh': script,
        'services/api/api': null,
      }),
    );
    expect(serviceNamed(repo, 'api').run).toEqual({ kind: 'artifact', path: 'services/api/bin/server.sh', fileName: 'server.sh', sha256, argv: [currentArtifactPath('api', 'server.sh')] });
  });

  it('parses the environments block: comments, blank lines, quotes, # and = inside values', async () => {
    const block = '  environments: |\n    # database\n\n    A="quoted value"\n    B=\'single\'\n    C=a=b#not-a-comment\n    D=\n    E = spaced \n    F=pre-{{ token }}-post\n';
    const { repo } = await loadValid(repoWith({ [SPEC_PATH]: replaced('  environments: |\n    LISTEN=:8080\n    DB_PASSWORD={{ db_password }}\n', block) }));
    const env = serviceNamed(repo, 'api').environment.map((variable) => [variable.key, variable.parts, variable.source.line]);
    expect(env).toEqual([
      ['A', [{ kind: 'text', text: 'quoted value' }], 19],
      ['B', [{ kind: 'text', text: 'single' }], 20],
      ['C', [{ kind: 'text', text: 'a=b#not-a-comment' }], 21],
      ['D', [], 22],
      ['E', [{ kind: 'text', text: 'spaced' }], 23],
      ['F', [{ kind: 'text', text: 'pre-' }, { kind: 'secret', name: 'token' }, { kind: 'text', text: '-post' }], 24],
    ]);
  });

  it('allows PATH when the spec lists it in allow_env', async () => {
    const spec = `${replaced('    LISTEN=:8080\n', '    PATH=/opt/api/bin:/usr/bin\n')}  allow_env: [PATH]\n`;
    const { repo } = await loadValid(repoWith({ [SPEC_PATH]: spec }));
    expect(serviceNamed(repo, 'api').environment[0]?.key).toBe('PATH');
  });

  it('still refuses LD_PRELOAD with allow_env, which only takes PATH', async () => {
    const issues = await loadIssues(repoWith({ [SPEC_PATH]: `${ARTICLE_SPEC}  allow_env: [LD_PRELOAD]\n` }));
    expect(issues).toContainEqual(expect.objectContaining({ code: 'E_SCHEMA', line: 19 }));
  });
});

describe('schema errors', () => {
  it('names the field and its range at the exact node', async () => {
    const issues = await loadIssues(repoWith({ [SPEC_PATH]: replaced('      port: 8080\n', '      port: 70000\n') }));
    expect(issues).toEqual([expect.objectContaining({ code: 'E_SCHEMA', file: SPEC_PATH, line: 9, col: 13, message: 'service.deploy.probe.port: must be an integer from 1 to 65535' })]);
  });

  it('suggests the field a typo meant, at the key', async () => {
    const issues = await loadIssues(repoWith({ [SPEC_PATH]: replaced('    serial: 1\n', '    serail: 1\n') }));
    expect(issues).toEqual([expect.objectContaining({ code: 'E_SCHEMA', line: 6, col: 5, message: 'service.deploy: unknown field `serail`', hint: 'Did you mean `serial`?' })]);
  });

  it('says which field a probe type needs and which it does not use', async () => {
    const issues = await loadIssues(repoWith({ [SPEC_PATH]: replaced('      type: http\n', '      type: exec\n') }));
    expect(issues.map((issue) => [issue.line, issue.message])).toEqual([
      [7, 'service.deploy.probe: missing required field `command`'],
      [9, 'service.deploy.probe.port: is not used by exec probes; list the port under run.ports if the service listens on it'],
      [10, 'service.deploy.probe.path: is only used by http probes'],
    ]);
  });

  it('refuses artifact and package together', async () => {
    const issues = await loadIssues(repoWith({ [SPEC_PATH]: `${ARTICLE_SPEC}  run:\n    artifact: api\n    package: nginx\n` }));
    expect(issues).toEqual([expect.objectContaining({ line: 20, col: 5, message: 'service.run.artifact: cannot be combined with package: set either artifact or package' })]);
  });

  it('refuses a missing service.group with the field description as hint', async () => {
    const issues = await loadIssues(repoWith({ [SPEC_PATH]: replaced('  group: web\n', '') }));
    expect(issues).toEqual([expect.objectContaining({ code: 'E_SCHEMA', line: 1, col: 1, message: 'service: missing required field `group`' })]);
    expect(issues[0]?.hint).toMatch(/inventory group/);
  });

  it('reports the serial alternatives when neither fits', async () => {
    const issues = await loadIssues(repoWith({ [SPEC_PATH]: replaced('    serial: 1\n', '    serial: 0\n') }));
    expect(issues).toEqual([expect.objectContaining({ line: 6, col: 13, message: expect.stringContaining('percentage') })]);
  });
});

describe('cross-file rules, each at the offending node', () => {
  it('E_NAME_MISMATCH: the folder must be named like the service', async () => {
    const issues = await loadIssues({ 'inventory.yml': BASE_INVENTORY, 'services/web/spec.yml': ARTICLE_SPEC, 'services/web/api': API_ARTIFACT });
    expect(issues).toEqual([expect.objectContaining({ code: 'E_NAME_MISMATCH', file: 'services/web/spec.yml', line: 2, col: 9, hint: 'Rename the folder to services/api, or set name: web.' })]);
  });

  it('E_DUPLICATE_SERVICE: two specs declaring one name, pointing at the first', async () => {
    const issues = await loadIssues(repoWith({ 'services/api2/spec.yml': ARTICLE_SPEC, 'services/api2/api': API_ARTIFACT }));
    expect(issues).toContainEqual(expect.objectContaining({ code: 'E_DUPLICATE_SERVICE', file: 'services/api2/spec.yml', line: 2, col: 9, message: 'service `api` is already declared in services/api/spec.yml:2:9' }));
  });

  it('E_UNKNOWN_GROUP: with a suggestion and the list of groups', async () => {
    const issues = await loadIssues(repoWith({ [SPEC_PATH]: replaced('  group: web\n', '  group: webs\n') }));
    expect(issues).toEqual([expect.objectContaining({ code: 'E_UNKNOWN_GROUP', line: 3, col: 10, hint: 'Did you mean `web`? Groups in inventory.yml: db, web.' })]);
  });

  it('E_UNKNOWN_AFTER: with a suggestion', async () => {
    const issues = await loadIssues(repoWith({ [SPEC_PATH]: `${ARTICLE_SPEC}  after: [dbb]\n`, ...otherService('db', { group: 'db' }) }));
    expect(issues).toEqual([expect.objectContaining({ code: 'E_UNKNOWN_AFTER', line: 19, col: 11, hint: 'Did you mean `db`?' })]);
  });

  it('does not call an after: entry unknown when it names a service whose spec is broken', async () => {
    const broken = otherService('db', { group: 'db', extra: '  bogus: 1\n' });
    const issues = await loadIssues(repoWith({ [SPEC_PATH]: `${ARTICLE_SPEC}  after: [db]\n`, ...broken }));
    expect(issues.map((issue) => issue.code)).toEqual(['E_SCHEMA']);
  });

  it('E_AFTER_CYCLE: names the whole cycle once', async () => {
    const issues = await loadIssues(
      repoWith({
        [SPEC_PATH]: `${ARTICLE_SPEC}  after: [worker]\n`,
        ...otherService('worker', { port: 9001, extra: '  after: [cache]\n' }),
        ...otherService('cache', { port: 9002, extra: '  after: [api]\n' }),
      }),
    );
    expect(issues).toEqual([expect.objectContaining({ code: 'E_AFTER_CYCLE', file: SPEC_PATH, line: 19, col: 11, message: 'service.after: api -> worker -> cache -> api is a cycle, so none of them could ever roll out' })]);
  });

  it('E_AFTER_CYCLE: a service waiting for itself', async () => {
    const issues = await loadIssues(repoWith({ [SPEC_PATH]: `${ARTICLE_SPEC}  after: [api]\n` }));
    expect(issues).toEqual([expect.objectContaining({ code: 'E_AFTER_CYCLE', line: 19, col: 11 })]);
  });

  it('E_PORT_CLASH: names both services and the hosts they share', async () => {
    const issues = await loadIssues(repoWith({ ...otherService('worker', { port: 9001, extra: '  run:\n    ports: [8080]\n' }) }));
    expect(issues).toEqual([
      expect.objectContaining({
        code: 'E_PORT_CLASH',
        file: 'services/worker/spec.yml',
        line: 20,
        col: 13,
        message: 'port 8080 on hosts web-1, web-2 is claimed by both api (services/api/spec.yml:9:13) and worker',
      }),
    ]);
  });

  it('allows one port for two services whose groups share no host', async () => {
    await loadValid(repoWith({ ...otherService('db', { group: 'db', port: 8080 }) }));
  });

  it('E_PORT_CLASH: a host in two groups', async () => {
    const inventory = BASE_INVENTORY.replace('  db: [db-1]', '  db: [db-1, web-2]');
    const issues = await loadIssues(repoWith({ 'inventory.yml': inventory, ...otherService('db', { group: 'db', port: 8080 }) }));
    expect(issues).toEqual([expect.objectContaining({ code: 'E_PORT_CLASH', message: expect.stringContaining('on host web-2 is claimed by both api') })]);
  });

  it('E_UNIT_CLASH: a timer unit named like another service', async () => {
    const timer = '  timers:\n    - name: cleanup\n      schedule: "@daily"\n      command: /bin/true\n';
    const issues = await loadIssues(repoWith({ [SPEC_PATH]: ARTICLE_SPEC + timer, ...otherService('api-cleanup', { port: 9001 }) }));
    expect(issues).toEqual([expect.objectContaining({ code: 'E_UNIT_CLASH', file: SPEC_PATH, line: 20, col: 13 })]);
  });

  it('E_DUPLICATE_TIMER', async () => {
    const timer = '    - name: cleanup\n      schedule: "@daily"\n      command: /bin/true\n';
    const issues = await loadIssues(repoWith({ [SPEC_PATH]: `${ARTICLE_SPEC}  timers:\n${timer}${timer}` }));
    expect(issues).toEqual([expect.objectContaining({ code: 'E_DUPLICATE_TIMER', line: 23, col: 13 })]);
  });

  it('W_EMPTY_GROUP: a warning, not an error', async () => {
    const { warnings } = await loadValid(repoWith({ 'inventory.yml': `${BASE_INVENTORY}  spare: []\n`, ...otherService('idle', { group: 'spare', port: 9001 }) }));
    expect(warnings).toEqual([expect.objectContaining({ code: 'W_EMPTY_GROUP', file: 'services/idle/spec.yml', line: 3, col: 10 })]);
  });
});

describe('probe timing: min_healthy_time < healthy_deadline < progress_deadline', () => {
  it.each([
    ['min_healthy_time against the default healthy_deadline', '    min_healthy_time: 2m\n', 6, 'service.deploy.min_healthy_time: min_healthy_time (2m) must be shorter than healthy_deadline (1m, the default)'],
    ['healthy_deadline against the default progress_deadline', '    healthy_deadline: 10m\n', 6, 'service.deploy.healthy_deadline: healthy_deadline (10m) must be shorter than progress_deadline (3m, the default)'],
    ['both written: blamed on the later one', '    min_healthy_time: 1m\n    healthy_deadline: 30s\n', 7, 'service.deploy.healthy_deadline: min_healthy_time (1m) must be shorter than healthy_deadline (30s)'],
    ['equal values', '    healthy_deadline: 3m\n', 6, 'service.deploy.healthy_deadline: healthy_deadline (3m) must be shorter than progress_deadline (3m, the default)'],
    ['progress_deadline too short', '    progress_deadline: 30s\n', 6, 'service.deploy.progress_deadline: healthy_deadline (1m, the default) must be shorter than progress_deadline (30s)'],
  ])('%s', async (_, lines, line, message) => {
    const issues = await loadIssues(repoWith({ [SPEC_PATH]: replaced('  deploy:\n', `  deploy:\n${lines}`) }));
    expect(issues).toEqual([expect.objectContaining({ code: 'E_PROBE_TIMING', line, message })]);
  });
});

describe('durations, sizes, cron and artifacts', () => {
  it.each([
    ['a bare number', '    min_healthy_time: 5\n', 'E_DURATION', /has no unit/],
    ['a fraction', '    min_healthy_time: 1.5s\n', 'E_DURATION', /is not a duration/],
    ['a window that never fires', '    window: "0 0 30 2 *"\n', 'E_CRON', /never fires/],
    ['a window with seconds', '    window: "0 0 0 * * *"\n', 'E_CRON', /seconds field/],
  ])('%s', async (_, lines, code, message) => {
    const issues = await loadIssues(repoWith({ [SPEC_PATH]: replaced('  deploy:\n', `  deploy:\n${lines}`) }));
    expect(issues).toEqual([expect.objectContaining({ code, line: 6, message: expect.stringMatching(message) })]);
  });

  it('refuses a probe interval of 0s', async () => {
    const issues = await loadIssues(repoWith({ [SPEC_PATH]: replaced('      path: /health\n', '      path: /health\n      interval: 0s\n') }));
    expect(issues).toEqual([expect.objectContaining({ code: 'E_DURATION', line: 11, col: 17, message: 'service.deploy.probe.interval: must be longer than 0' })]);
  });

  it.each([['1GB'], ['1g'], ['0'], ['1.5G']])('refuses mem %s', async (mem) => {
    const issues = await loadIssues(repoWith({ [SPEC_PATH]: replaced('    mem: 1G\n', `    mem: ${mem}\n`) }));
    expect(issues).toEqual([expect.objectContaining({ code: 'E_SIZE', line: 12, col: 10 })]);
  });

  it('E_CRON_UNSUPPORTED: a timer restricting day of month and day of week', async () => {
    const timer = '  timers:\n    - name: report\n      schedule: "0 6 1 * mon"\n      command: /bin/true\n';
    const issues = await loadIssues(repoWith({ [SPEC_PATH]: ARTICLE_SPEC + timer }));
    expect(issues).toEqual([expect.objectContaining({ code: 'E_CRON_UNSUPPORTED', line: 21, col: 17 })]);
  });

  it('E_ARTIFACT_MISSING: explains the one-binary convention when run is omitted', async () => {
    const issues = await loadIssues(repoWith({ 'services/api/api': null }));
    expect(issues).toEqual([expect.objectContaining({ code: 'E_ARTIFACT_MISSING', file: SPEC_PATH, message: 'the artifact services/api/api does not exist' })]);
    expect(issues[0]?.hint).toMatch(/named like the service/);
  });

  it('E_ARTIFACT_MISSING: a named artifact, at run.artifact', async () => {
    const issues = await loadIssues(repoWith({ [SPEC_PATH]: `${ARTICLE_SPEC}  run:\n    artifact: bin/server\n` }));
    expect(issues).toEqual([expect.objectContaining({ code: 'E_ARTIFACT_MISSING', line: 20, col: 15 })]);
  });
});

describe('the whole commit is validated, every issue collected and sorted', () => {
  it('reports problems of several files in one run', async () => {
    const issues = await loadIssues(
      repoWith({
        'inventory.yml': BASE_INVENTORY.replace('port: 22', 'port: 0'),
        'tend.yml': 'concurrency: 0\n',
        [SPEC_PATH]: replaced('    mem: 1G\n', '    mem: lots\n'),
        ...otherService('worker', { port: 9001, extra: '  after: [nothing]\n' }),
      }),
    );
    expect(issues.map((issue) => [issue.file, issue.code])).toEqual([
      ['inventory.yml', 'E_SCHEMA'],
      ['services/api/spec.yml', 'E_SIZE'],
      ['services/worker/spec.yml', 'E_UNKNOWN_AFTER'],
      ['tend.yml', 'E_SCHEMA'],
    ]);
  });

  it('E_MISSING_FILE: inventory.yml, with a hint for inventory.yaml', async () => {
    const issues = await loadIssues(repoWith({ 'inventory.yml': null, 'inventory.yaml': BASE_INVENTORY }));
    expect(issues).toEqual([expect.objectContaining({ code: 'E_MISSING_FILE', file: 'inventory.yml', hint: 'Rename inventory.yaml to inventory.yml.' })]);
  });

  it('E_MISSING_FILE: a service folder without spec.yml', async () => {
    const issues = await loadIssues(repoWith({ 'services/worker/worker': API_ARTIFACT }));
    expect(issues).toEqual([expect.objectContaining({ code: 'E_MISSING_FILE', file: 'services/worker/spec.yml' })]);
  });

  it('accepts a repo without services', async () => {
    const { repo } = await loadValid({ 'inventory.yml': BASE_INVENTORY });
    expect(repo.services).toEqual([]);
  });

  it('turns a reader failure into E_READ instead of throwing', async () => {
    const reader: RepoReader = {
      list: async (path) => (path === '' ? [{ name: 'inventory.yml', type: 'file' }] : []),
      size: async () => 10,
      readFile: async () => {
        throw new Error('EACCES: permission denied');
      },
      readLink: async () => '',
    };
    const result = await loadRepo(reader);
    expect(result).toEqual({ ok: false, issues: [expect.objectContaining({ code: 'E_READ', file: 'inventory.yml', message: 'cannot read inventory.yml: EACCES: permission denied' })] });
  });

  it('throws a tend bug as InternalError', async () => {
    const reader = { list: async () => null } as unknown as RepoReader;
    await expect(loadRepo(reader)).rejects.toBeInstanceOf(InternalError);
  });

  it('leaves Object.prototype alone whatever the YAML says', async () => {
    await loadFiles(repoWith({ [SPEC_PATH]: replaced('    cpu: 2\n', '    __proto__: { polluted: true }\n') }));
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });
});
