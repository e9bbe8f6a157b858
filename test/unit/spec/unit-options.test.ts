import { describe, expect, it } from 'vitest';

import type { SpecIssueCode } from '../../../src/spec/index.js';
import { ARTICLE_SPEC, BASE_INVENTORY, HOST_KEYS, SPEC_PATH, repoWith } from './fixture-repo.js';
import { loadIssues, loadValid, serviceNamed } from './load-files.js';

/** The article spec with a `unit:` block of these lines (each indented under unit). */
function specWithUnit(lines: readonly string[]): string {
  return `${ARTICLE_SPEC}  unit:\n${lines.map((line) => `    ${line}\n`).join('')}`;
}

/** The 1-based line of the first line of the spec that contains `text`. */
function lineOf(spec: string, text: string): number {
  const index = spec.split('\n').findIndex((line) => line.includes(text));
  if (index < 0) throw new Error(`no ${text} in the spec`);
  return index + 1;
}

async function unitOf(lines: readonly string[]) {
  const { repo } = await loadValid(repoWith({ [SPEC_PATH]: specWithUnit(lines) }));
  return serviceNamed(repo, 'api').unit;
}

/** Each refused spec gives exactly one issue, with its own code, on the line that holds `at`. */
async function expectRefused(lines: readonly string[], code: SpecIssueCode, at: string): Promise<string> {
  const spec = specWithUnit(lines);
  const issues = await loadIssues(repoWith({ [SPEC_PATH]: spec }));
  expect(issues).toEqual([expect.objectContaining({ code, file: SPEC_PATH, line: lineOf(spec, at) })]);
  expect(issues[0]?.col).toBeGreaterThanOrEqual(5);
  return issues[0]?.message ?? '';
}

describe('service.unit defaults', () => {
  it('runs a spec without unit: as a dynamic user with the service\'s own state directory', async () => {
    const { repo } = await loadValid(repoWith({}));
    expect(serviceNamed(repo, 'api').unit).toEqual({
      user: undefined,
      group: undefined,
      directories: { state: ['api'], cache: [], logs: [], runtime: [], configuration: [] },
      readWritePaths: [],
      capabilities: [],
      workingDirectory: undefined,
      type: 'exec',
      killSignal: undefined,
      timeoutStop: undefined,
      directives: [],
    });
  });

  it('reads every field, with lists sorted and deduplicated and directives in name order', async () => {
    const unit = await unitOf([
      'user: www-data',
      'group: www-data',
      'directories: { state: [web, api, web], cache: [api], logs: [api], runtime: [api], configuration: [api/conf.d] }',
      'read_write_paths: [/srv/b, /srv/a]',
      'capabilities: [CAP_NET_RAW, CAP_NET_BIND_SERVICE]',
      'working_directory: /var/lib/api',
      'type: notify',
      'kill_signal: SIGINT',
      'timeout_stop: 1m30s',
      'directives: { Nice: 5, LimitNPROC: infinity, UMask: "0027", TimeoutStartSec: 2m }',
    ]);
    expect(unit).toEqual({
      user: 'www-data',
      group: 'www-data',
      directories: { state: ['api', 'web'], cache: ['api'], logs: ['api'], runtime: ['api'], configuration: ['api/conf.d'] },
      readWritePaths: ['/srv/a', '/srv/b'],
      capabilities: ['CAP_NET_BIND_SERVICE', 'CAP_NET_RAW'],
      workingDirectory: '/var/lib/api',
      type: 'notify',
      killSignal: 'SIGINT',
      timeoutStop: 90_000,
      directives: [
        ['LimitNPROC', 'infinity'],
        ['Nice', '5'],
        ['TimeoutStartSec', '2m'],
        ['UMask', '0027'],
      ],
    });
  });
});

describe('service.unit refuses hostile values with their own code at the value', () => {
  it.each([
    ['a user with a newline', ['user: "www\\nExecStartPre=/bin/sh"'], 'user:'],
    ['a user with a blank', ['user: "www data"'], 'user:'],
    ['root as the user', ['user: root'], 'user:'],
    ['an uppercase group', ['user: www-data', 'group: Staff'], '    group:'],
  ] as const)('refuses %s as E_UNIT_USER', async (_, lines, at) => {
    await expectRefused(lines, 'E_UNIT_USER', at);
  });

  it('refuses a group without a user', async () => {
    await expectRefused(['group: www-data'], 'E_UNIT_USER', '    group:');
  });

  it.each([
    ['an absolute state directory', 'directories: { state: [/var/lib/x] }'],
    ['a .. segment', 'directories: { cache: [a/../../etc] }'],
    ['a lone ..', 'directories: { logs: [".."] }'],
    ['a newline', 'directories: { runtime: ["a\\nb"] }'],
    ['a blank that would split the list', 'directories: { state: ["a b"] }'],
    ['a specifier', 'directories: { state: ["a%n"] }'],
    ['an empty segment', 'directories: { configuration: ["a//b"] }'],
  ])('refuses a directory with %s as E_UNIT_DIRECTORY', async (_, line) => {
    await expectRefused([line], 'E_UNIT_DIRECTORY', 'directories:');
  });

  it.each([
    ['a relative path', 'srv/data'],
    ['a .. segment', '/srv/../etc'],
    ['a . segment', '/srv/./data'],
    ['the root itself', '/'],
    ['a trailing slash', '/srv/data/'],
    ['a newline', '/srv/data\\nReadWritePaths=/'],
    ['a blank', '/srv/my data'],
    ['a quote', '/srv/"x"'],
    ['a specifier', '/srv/%h'],
  ])('refuses a read-write path with %s as E_UNIT_PATH', async (_, path) => {
    await expectRefused(['read_write_paths:', `  - "${path.replaceAll('"', '\\"')}"`], 'E_UNIT_PATH', '  - ');
  });

  it('refuses a relative working directory as E_UNIT_PATH', async () => {
    await expectRefused(['working_directory: var/lib/api'], 'E_UNIT_PATH', 'working_directory:');
  });

  it.each([
    ['CAP_NET_BIND_SERVIC', 'CAP_NET_BIND_SERVICE'],
    ['net_bind_service', 'CAP_NET_BIND_SERVICE'],
    ['CAP_SYS_ADMINS', 'CAP_SYS_ADMIN'],
  ])('refuses the capability %s as E_UNIT_CAPABILITY, suggesting %s', async (name, suggestion) => {
    const spec = specWithUnit(['capabilities:', `  - ${name}`]);
    const issues = await loadIssues(repoWith({ [SPEC_PATH]: spec }));
    expect(issues).toEqual([expect.objectContaining({ code: 'E_UNIT_CAPABILITY', line: lineOf(spec, `  - ${name}`), col: 9 })]);
    expect(issues[0]?.hint).toContain(suggestion);
  });

  it('refuses a capability with a newline as E_UNIT_CAPABILITY', async () => {
    await expectRefused(['capabilities: ["CAP_CHOWN\\nUser=root"]'], 'E_UNIT_CAPABILITY', 'capabilities:');
  });

  it.each([
    ['an unknown directive', 'ExecStartPre: /bin/sh', 'Allowed:'],
    ['a typo of an allowed one', 'Nicee: 5', 'Did you mean Nice?'],
    ['one tend renders from limits', 'LimitNOFILE: 100', 'limits.no_file'],
    ['Environment, which would bypass the env file', 'Environment: A=1', 'environments'],
    ['a privilege', 'User: root', 'unit.user'],
    ['a sandbox setting', 'ProtectSystem: "no"', 'Allowed:'],
  ])('refuses %s as E_UNIT_DIRECTIVE at its key', async (_, entry, hint) => {
    const spec = specWithUnit(['directives:', `  ${entry}`]);
    const issues = await loadIssues(repoWith({ [SPEC_PATH]: spec }));
    expect(issues).toEqual([expect.objectContaining({ code: 'E_UNIT_DIRECTIVE', line: lineOf(spec, `  ${entry}`), col: 7 })]);
    expect(issues[0]?.hint).toContain(hint);
  });

  it('refuses a directive name with a newline as E_UNIT_DIRECTIVE', async () => {
    await expectRefused(['directives: { "Nice\\nUser": "0" }'], 'E_UNIT_DIRECTIVE', 'directives:');
  });

  it.each([
    ['Nice out of range', 'Nice: 20'],
    ['Nice that is not a number', 'Nice: low'],
    ['OOMScoreAdjust out of range', 'OOMScoreAdjust: -1001'],
    ['an unquoted UMask, which YAML reads as a number', 'UMask: 0027'],
    ['a UMask with a newline', 'UMask: "0027\\nUser=root"'],
    ['a limit with soft:hard', 'LimitNPROC: "10:20"'],
    ['a bare number as a duration', 'TimeoutStartSec: 30'],
    ['realtime IO, which RestrictRealtime forbids anyway', 'IOSchedulingClass: realtime'],
    ['KillMode none', 'KillMode: none'],
  ])('refuses %s as E_UNIT_DIRECTIVE_VALUE', async (_, entry) => {
    await expectRefused(['directives:', `  ${entry}`], 'E_UNIT_DIRECTIVE_VALUE', `  ${entry}`);
  });

  it.each([
    ['kill_signal: SIGSTOP', 'kill_signal:'],
    ['kill_signal: "SIGTERM\\nUser=root"', 'kill_signal:'],
    ['type: oneshot', 'type: oneshot'],
  ])('refuses %s as E_UNIT_DIRECTIVE_VALUE', async (line, at) => {
    await expectRefused([line], 'E_UNIT_DIRECTIVE_VALUE', at);
  });

  it('refuses a stop timeout without a unit as E_DURATION', async () => {
    await expectRefused(['timeout_stop: 30'], 'E_DURATION', 'timeout_stop:');
  });

  it('reports every bad field of one block, not only the first', async () => {
    const issues = await loadIssues(repoWith({ [SPEC_PATH]: specWithUnit(['user: root', 'capabilities: [CAP_NOPE]', 'directives: { Bogus: 1 }']) }));
    expect(issues.map((issue) => issue.code).sort()).toEqual(['E_UNIT_CAPABILITY', 'E_UNIT_DIRECTIVE', 'E_UNIT_USER']);
  });
});

const SPEC_WITH_HOST_VALUES = ARTICLE_SPEC.replace('    LISTEN=:8080\n', '    LISTEN=:8080\n    ZONE={{ host.vars.zone }}\n    WHERE={{ host.name }}/{{ host.vars.rack }}\n');

function inventoryWithVars(web1: string, web2: string): string {
  return BASE_INVENTORY.replace(/ {2}web-1: .*\n/, `  web-1: { address: 10.78.0.11, user: deploy, host_key: "${HOST_KEYS.web1}"${web1} }\n`).replace(
    / {2}web-2: .*\n/,
    `  web-2: { address: 10.78.0.12, user: deploy, host_key: "${HOST_KEYS.web2}"${web2} }\n`,
  );
}

describe('host vars', () => {
  it('reads each host\'s vars and the env parts that refer to them', async () => {
    const { repo } = await loadValid(
      repoWith({ 'inventory.yml': inventoryWithVars(', vars: { zone: eu-1, rack: "12" }', ', vars: { zone: eu-2, rack: "7" }'), [SPEC_PATH]: SPEC_WITH_HOST_VALUES }),
    );
    expect(repo.inventory.hosts.find((host) => host.name === 'web-2')?.vars).toEqual(new Map([['zone', 'eu-2'], ['rack', '7']]));
    const api = serviceNamed(repo, 'api');
    expect(api.hostDependent).toBe(true);
    expect(api.environment.find((variable) => variable.key === 'WHERE')?.parts).toEqual([{ kind: 'host-name' }, { kind: 'text', text: '/' }, { kind: 'host-var', name: 'rack' }]);
  });

  it('refuses a var no host of the group has, at the env line, naming the hosts that lack it', async () => {
    const issues = await loadIssues(repoWith({ 'inventory.yml': inventoryWithVars(', vars: { zone: eu-1, rack: "12" }', ', vars: { rack: "7" }'), [SPEC_PATH]: SPEC_WITH_HOST_VALUES }));
    expect(issues).toEqual([
      expect.objectContaining({ code: 'E_HOST_VAR_MISSING', file: SPEC_PATH, line: lineOf(SPEC_WITH_HOST_VALUES, 'ZONE='), col: 5, message: expect.stringContaining('not set on host web-2 of group web') }),
    ]);
  });

  it('names every host that lacks a var', async () => {
    const issues = await loadIssues(repoWith({ 'inventory.yml': inventoryWithVars(', vars: { zone: eu-1 }', ', vars: { zone: eu-2 }'), [SPEC_PATH]: SPEC_WITH_HOST_VALUES }));
    expect(issues).toEqual([expect.objectContaining({ code: 'E_HOST_VAR_MISSING', line: lineOf(SPEC_WITH_HOST_VALUES, 'WHERE='), message: expect.stringContaining('hosts web-1, web-2') })]);
  });

  it.each([
    ['a var name with a capital', 'Zone: a', 'E_HOST_VAR'],
    ['a var name with a dash', 'my-zone: a', 'E_HOST_VAR'],
    ['a value with a newline', 'zone: "a\\nLD_PRELOAD=/x"', 'E_HOST_VAR'],
    ['a value that is not a string', 'zone: 3', 'E_SCHEMA'],
  ] as const)('refuses %s in inventory.yml', async (_, entry, code) => {
    const issues = await loadIssues(repoWith({ 'inventory.yml': inventoryWithVars(`, vars: { ${entry} }`, '') }));
    expect(issues).toEqual([expect.objectContaining({ code, file: 'inventory.yml', line: 2 })]);
  });

  it.each([
    ['{{ host.address }}', 'a host field other than name and vars'],
    ['{{ host.vars.Zone }}', 'a var name that no inventory could declare'],
    ['{{ host.vars }}', 'vars without a name'],
  ])('refuses %s (%s) as E_ENV_SECRET', async (reference) => {
    const spec = ARTICLE_SPEC.replace('    LISTEN=:8080\n', `    LISTEN=:8080\n    ZONE=${reference}\n`);
    const issues = await loadIssues(repoWith({ [SPEC_PATH]: spec }));
    expect(issues).toEqual([expect.objectContaining({ code: 'E_ENV_SECRET', line: lineOf(spec, 'ZONE='), col: 10, message: expect.stringContaining('host reference') })]);
  });
});
