import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';

import { daemonConfigFrom, defaultDaemonConfig, loadDaemonConfig } from '../../../src/daemon/daemon-config.js';
import type { DaemonConfig, DaemonConfigResult } from '../../../src/daemon/daemon-config.js';
import { formatIssue } from '../../../src/errors/index.js';
import type { Issue } from '../../../src/errors/index.js';

const EXAMPLE = new URL('../../../systemd/tend.yml', import.meta.url);
const SCHEMA = new URL('../../../schemas/daemon-config.schema.json', import.meta.url);

let dir: string;
let counter = 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tend-config-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function load(yaml: string): Promise<{ path: string; result: DaemonConfigResult }> {
  counter += 1;
  const path = join(dir, `config-${counter}.yml`);
  await writeFile(path, yaml);
  return { path, result: await loadDaemonConfig(path) };
}

async function loadOk(yaml: string): Promise<DaemonConfig> {
  const { result } = await load(yaml);
  if (!result.ok) throw new Error(`expected a valid config, got:\n${result.issues.map(formatIssue).join('\n')}`);
  return result.config;
}

async function loadIssues(yaml: string): Promise<{ path: string; issues: Issue[] }> {
  const { path, result } = await load(yaml);
  if (result.ok) throw new Error('expected issues, the config was accepted');
  return { path, issues: result.issues };
}

describe('loadDaemonConfig defaults', () => {
  it('fills every default when only the source is given', async () => {
    const config = await loadOk('source:\n  url: https://git.example.com/ops/deploy.git\n');
    expect(config).toStrictEqual({
      source: { kind: 'url', url: 'https://git.example.com/ops/deploy.git', credentialsFile: undefined },
      branch: 'main',
      stateDir: '/var/lib/tend',
      secretsDir: undefined,
      sshKey: '/etc/tend/ssh/id_ed25519',
      knownHosts: undefined,
      pollIntervalMs: 60_000,
      pollJitter: 0.1,
      resyncSchedule: '*/10 * * * *',
      listen: { host: '127.0.0.1', port: 9464 },
      webhookSecretFile: undefined,
      notifications: undefined,
      githost: undefined,
      healthyRefs: false,
      retry: { maxAttempts: 5, baseDelayMs: 1_000, maxDelayMs: 30_000 },
      shutdownGraceMs: 90_000,
      author: { name: 'tend', email: 'tend@localhost' },
      monitoring: undefined,
      ha: undefined,
    });
    const { source, ...rest } = config;
    expect(source.kind).toBe('url');
    expect(rest).toStrictEqual(defaultDaemonConfig);
  });

  it('reads every field that is written, durations in ms', async () => {
    const config = await loadOk(`
source:
  url: https://git.example.com/ops/deploy.git
  branch: release/2.x
  credentials_file: /etc/tend/git-credentials
state_dir: /srv/tend-state
secrets_dir: /etc/tend/secrets
ssh:
  key: /etc/tend/ssh/deploy
  known_hosts: /etc/tend/ssh/known_hosts
poll:
  interval: 2m30s
  jitter: 25%
resync:
  schedule: "@hourly"
listen: "[::1]:8080"
webhook:
  secret_file: /etc/tend/webhook-secret
retry:
  max_attempts: 20
  base_delay: 500ms
  max_delay: 1m
shutdown_grace: 45s
healthy_refs: true
author:
  name: Deploy Bot
  email: deploy@example.com
monitoring:
  file_sd_dir: /var/lib/tend-file-sd
`);
    expect(config).toStrictEqual({
      source: { kind: 'url', url: 'https://git.example.com/ops/deploy.git', credentialsFile: '/etc/tend/git-credentials' },
      branch: 'release/2.x',
      stateDir: '/srv/tend-state',
      secretsDir: '/etc/tend/secrets',
      sshKey: '/etc/tend/ssh/deploy',
      knownHosts: '/etc/tend/ssh/known_hosts',
      pollIntervalMs: 150_000,
      pollJitter: 0.25,
      resyncSchedule: '@hourly',
      listen: { host: '::1', port: 8080 },
      webhookSecretFile: '/etc/tend/webhook-secret',
      notifications: undefined,
      githost: undefined,
      healthyRefs: true,
      retry: { maxAttempts: 20, baseDelayMs: 500, maxDelayMs: 60_000 },
      shutdownGraceMs: 45_000,
      author: { name: 'Deploy Bot', email: 'deploy@example.com' },
      monitoring: { fileSdDir: '/var/lib/tend-file-sd' },
      ha: undefined,
    });
  });

  it('reads the githost block, the token file defaulting to githost_token in the secrets directory', async () => {
    const config = await loadOk('source:\n  url: https://git.example.com/ops/deploy.git\nsecrets_dir: /etc/tend/secrets/\ngithost:\n  provider: github\n  repository: ops/deploy\n');
    expect(config.githost).toEqual({ provider: 'github', apiUrl: 'https://api.github.com', repository: 'ops/deploy', tokenFile: '/etc/tend/secrets/githost_token', planForks: false, statusUrl: undefined });
  });

  it('reads a gitlab githost: gitlab.com\'s API by default, a project path with subgroups', async () => {
    const config = await loadOk('source:\n  url: https://gitlab.com/ops/infra/deploy.git\ngithost:\n  provider: gitlab\n  repository: ops/infra/deploy\n  token_file: /etc/tend/gitlab_token\n  plan_forks: true\n');
    expect(config.githost).toEqual({ provider: 'gitlab', apiUrl: 'https://gitlab.com/api/v4', repository: 'ops/infra/deploy', tokenFile: '/etc/tend/gitlab_token', planForks: true, statusUrl: undefined });
  });

  it('refuses a gitea githost without api_url, and any githost without a token file or secrets directory', async () => {
    const { issues } = await loadIssues('source:\n  url: https://git.example.com/ops/deploy.git\ngithost:\n  provider: gitea\n  repository: ops/deploy\n');
    expect(issues.map((issue) => `${issue.code} ${issue.message}`)).toEqual(['E_GITHOST_CONFIG githost: a gitea provider needs `api_url`', 'E_GITHOST_CONFIG githost: needs `token_file`, or a `secrets_dir` holding githost_token']);
  });

  it('reads a local path as the source', async () => {
    const config = await loadOk('source:\n  path: /srv/deploy\n  branch: prod\n');
    expect(config.source).toEqual({ kind: 'path', path: '/srv/deploy' });
    expect(config.branch).toBe('prod');
  });

  it('accepts plain http to a loopback address (a git server on this machine)', async () => {
    for (const url of ['http://127.0.0.1:8080/deploy.git', 'http://localhost/deploy.git', 'http://[::1]:3000/deploy.git']) {
      expect((await loadOk(`source:\n  url: "${url}"\n`)).source).toMatchObject({ kind: 'url', url });
    }
  });

  it('accepts port 0, which asks for a free port', async () => {
    expect((await loadOk('source:\n  path: /srv/deploy\nlisten: 127.0.0.1:0\n')).listen).toEqual({ host: '127.0.0.1', port: 0 });
  });
});

const SOURCE = 'source:\n  url: https://git.example.com/ops/deploy.git\n';

describe('loadDaemonConfig refuses', () => {
  it.each<[string, string, { line: number; col: number; code: string; message: RegExp; hint?: RegExp }]>([
    ['a URL with user and password', 'source:\n  url: https://bob:hunter2@git.example.com/ops/deploy.git\n', { line: 2, col: 8, code: 'E_GIT_URL_CREDENTIALS', message: /^source\.url: .*has credentials in it; refused/, hint: /credentials file/ }],
    ['a URL with a token as the user', 'source:\n  url: https://ghp_abc123@git.example.com/deploy.git\n', { line: 2, col: 8, code: 'E_GIT_URL_CREDENTIALS', message: /has credentials in it/ }],
    ['an ssh:// URL', 'source:\n  url: ssh://git@git.example.com/deploy.git\n', { line: 2, col: 8, code: 'E_GIT_URL', message: /smart HTTP\(S\) only/ }],
    ['something that is not a URL', 'source:\n  url: git.example.com/deploy\n', { line: 2, col: 8, code: 'E_GIT_URL', message: /not a valid URL/ }],
    ['plain http to another machine', 'source:\n  url: http://git.example.com/deploy.git\n', { line: 2, col: 8, code: 'E_GIT_URL', message: /plain http:\/\/ to git\.example\.com is refused/ }],
    ['both url and path', `${SOURCE}  path: /srv/deploy\n`, { line: 3, col: 3, code: 'E_SOURCE', message: /^source: has both `url` and `path`/ }],
    ['neither url nor path', 'source:\n  branch: main\n', { line: 1, col: 1, code: 'E_SOURCE', message: /^source: needs `url`/ }],
    ['no source at all', 'state_dir: /var/lib/tend\n', { line: 1, col: 1, code: 'E_SCHEMA', message: /missing required field `source`/ }],
    ['a source that is a string', 'source: https://git.example.com/deploy.git\n', { line: 1, col: 9, code: 'E_SCHEMA', message: /^source: must be a mapping/ }],
    ['credentials for a local path', 'source:\n  path: /srv/deploy\n  credentials_file: /etc/tend/creds\n', { line: 3, col: 3, code: 'E_SOURCE', message: /credentials_file: is only for a `url`/ }],
    ['a relative path', `${SOURCE}state_dir: var/lib/tend\n`, { line: 3, col: 12, code: 'E_SCHEMA', message: /^state_dir: must be an absolute path/ }],
    ['a branch that git refuses', `${SOURCE}  branch: ../main\n`, { line: 3, col: 11, code: 'E_SCHEMA', message: /^source\.branch: must be a branch name/ }],
    ['a duration without a unit', `${SOURCE}poll:\n  interval: 60\n`, { line: 4, col: 13, code: 'E_DURATION', message: /^poll\.interval: 60 has no unit/, hint: /ambiguous/ }],
    ['a duration that does not parse', `${SOURCE}shutdown_grace: soon\n`, { line: 3, col: 17, code: 'E_DURATION', message: /^shutdown_grace: `soon` is not a duration/ }],
    ['a poll interval under a second', `${SOURCE}poll:\n  interval: 500ms\n`, { line: 4, col: 13, code: 'E_DURATION', message: /^poll\.interval: must be at least 1s/ }],
    ['a jitter over 50%', `${SOURCE}poll:\n  jitter: 80%\n`, { line: 4, col: 11, code: 'E_SCHEMA', message: /^poll\.jitter: must be a percentage from 0% to 50%/ }],
    ['a jitter without %', `${SOURCE}poll:\n  jitter: "0.1"\n`, { line: 4, col: 11, code: 'E_SCHEMA', message: /^poll\.jitter: must be a percentage/ }],
    ['a cron field out of range', `${SOURCE}resync:\n  schedule: "61 * * * *"\n`, { line: 4, col: 13, code: 'E_CRON', message: /^resync\.schedule: minute 61 is out of range/ }],
    ['a cron schedule that never fires', `${SOURCE}resync:\n  schedule: "0 0 30 2 *"\n`, { line: 4, col: 13, code: 'E_CRON', message: /never fires/ }],
    ['a listen address without a port', `${SOURCE}listen: localhost\n`, { line: 3, col: 9, code: 'E_LISTEN', message: /^listen: `localhost` is not an address and port/, hint: /\[::1\]:9464/ }],
    ['an IPv6 listen address without brackets', `${SOURCE}listen: "::1:9464"\n`, { line: 3, col: 9, code: 'E_LISTEN', message: /is not an address and port/ }],
    ['a port above 65535', `${SOURCE}listen: 127.0.0.1:70000\n`, { line: 3, col: 9, code: 'E_LISTEN', message: /is not an address and port/ }],
    ['zero retry attempts', `${SOURCE}retry:\n  max_attempts: 0\n`, { line: 4, col: 17, code: 'E_SCHEMA', message: /^retry\.max_attempts: must be >= 1/ }],
    ['unbounded retries', `${SOURCE}retry:\n  max_attempts: 1000\n`, { line: 4, col: 17, code: 'E_SCHEMA', message: /^retry\.max_attempts: must be <= 20/ }],
    ['retry attempts as a word', `${SOURCE}retry:\n  max_attempts: forever\n`, { line: 4, col: 17, code: 'E_SCHEMA', message: /^retry\.max_attempts: must be an integer/ }],
    ['a max delay under the base delay', `${SOURCE}retry:\n  base_delay: 10s\n  max_delay: 5s\n`, { line: 5, col: 14, code: 'E_DURATION', message: /^retry\.max_delay: max_delay 5s is shorter than base_delay 10s/ }],
    ['a base delay of zero', `${SOURCE}retry:\n  base_delay: 0s\n`, { line: 4, col: 15, code: 'E_DURATION', message: /^retry\.base_delay: must be longer than 0/ }],
    ['an author email that is not one', `${SOURCE}author:\n  email: tend\n`, { line: 4, col: 10, code: 'E_SCHEMA', message: /^author\.email: must be an email address/ }],
    ['an empty author name', `${SOURCE}author:\n  name: ""\n`, { line: 4, col: 9, code: 'E_SCHEMA', message: /^author\.name: must not be empty/ }],
    ['a misspelt top-level key', `${SOURCE}stat_dir: /var/lib/tend\n`, { line: 3, col: 1, code: 'E_SCHEMA', message: /unknown field `stat_dir`/, hint: /Did you mean `state_dir`\?/ }],
    ['a misspelt nested key', `${SOURCE}retry:\n  max_atempts: 3\n`, { line: 4, col: 3, code: 'E_SCHEMA', message: /^retry: unknown field `max_atempts`/, hint: /Did you mean `max_attempts`\?/ }],
    ['an unknown key nothing resembles', `${SOURCE}ssh:\n  password: x\n`, { line: 4, col: 3, code: 'E_SCHEMA', message: /^ssh: unknown field `password`/, hint: /Known fields here: key, known_hosts/ }],
    ['a field left empty', `${SOURCE}state_dir:\n`, { line: 3, col: 11, code: 'E_SCHEMA', message: /^state_dir: is empty; it must be a string/ }],
    ['broken YAML', 'source:\n  url: [https://x\n', { line: 3, col: 1, code: 'E_YAML', message: /./ }],
    ['a key written twice', `${SOURCE}state_dir: /a\nstate_dir: /b\n`, { line: 4, col: 1, code: 'E_YAML_DUPLICATE_KEY', message: /./ }],
    ['an empty file', '', { line: 1, col: 1, code: 'E_EMPTY_FILE', message: /empty/ }],
  ])('%s, at file:line:col', async (_name, yaml, expected) => {
    const { path, issues } = await loadIssues(yaml);
    expect(issues.map((issue) => issue.code)).toContain(expected.code);
    const issue = issues.find((candidate) => candidate.code === expected.code);
    expect(issue).toMatchObject({ file: path, line: expected.line, col: expected.col });
    expect(issue?.message).toMatch(expected.message);
    if (expected.hint !== undefined) expect(issue?.hint).toMatch(expected.hint);
    expect(formatIssue(issue as Issue)).toMatch(new RegExp(`^${path.replaceAll('.', '\\.')}:${expected.line}:${expected.col}: `));
  });

  it('never echoes the password of a URL with credentials', async () => {
    const { issues } = await loadIssues('source:\n  url: https://bob:hunter2@git.example.com/ops/deploy.git\n');
    expect(JSON.stringify(issues)).not.toContain('hunter2');
  });

  it('reports every problem of a file at once, in file order', async () => {
    const { issues } = await loadIssues(`source:\n  url: https://bob:pw@git.example.com/x.git\n  brnch: main\npoll:\n  interval: 5\nlisten: nowhere\n`);
    expect(issues.map((issue) => [issue.line, issue.code])).toEqual([
      [2, 'E_GIT_URL_CREDENTIALS'],
      [3, 'E_SCHEMA'],
      [5, 'E_DURATION'],
      [6, 'E_LISTEN'],
    ]);
  });

  it('reports a config file that does not exist as E_MISSING_FILE with a hint', async () => {
    const path = join(dir, 'absent.yml');
    const result = await loadDaemonConfig(path);
    expect(result).toMatchObject({ ok: false, issues: [{ file: path, line: 1, col: 1, code: 'E_MISSING_FILE' }] });
    expect(result.ok ? '' : result.issues[0]?.hint).toContain('--repo-url');
  });

  it('reports a directory in place of the file as E_READ', async () => {
    expect(await loadDaemonConfig(dir)).toMatchObject({ ok: false, issues: [{ file: dir, code: 'E_READ' }] });
  });
});

describe('daemonConfigFrom (command-line flags, no file)', () => {
  it('fills the defaults around what was given, ignoring flags left undefined', () => {
    const result = daemonConfigFrom({ source: { url: 'https://git.example.com/deploy.git', branch: undefined }, state_dir: '/tmp/tend', poll: { interval: '5s' }, listen: undefined });
    expect(result).toStrictEqual({
      ok: true,
      config: { ...defaultDaemonConfig, source: { kind: 'url', url: 'https://git.example.com/deploy.git', credentialsFile: undefined }, stateDir: '/tmp/tend', pollIntervalMs: 5_000 },
    });
  });

  it('checks flags like the file: credentials in the URL are refused, named by field', () => {
    const result = daemonConfigFrom({ source: { url: 'https://bob:pw@git.example.com/deploy.git' } });
    expect(result).toMatchObject({ ok: false, issues: [{ file: 'command line', line: 1, col: 1, code: 'E_GIT_URL_CREDENTIALS' }] });
    expect(result.ok ? '' : result.issues[0]?.message).toMatch(/^source\.url: /);
  });

  it('refuses a relative path, which would depend on the working directory of a daemon', () => {
    const result = daemonConfigFrom({ source: { path: 'deploy' } }, '--repo-path');
    expect(result).toMatchObject({ ok: false, issues: [{ file: '--repo-path', code: 'E_SCHEMA', message: 'source.path: must be an absolute path (starting with /)' }] });
  });
});

type Schema = Record<string, unknown>;

function leaves(schema: Schema, prefix: string[] = []): [string[], Schema][] {
  const properties = schema['properties'] as Record<string, Schema> | undefined;
  if (properties === undefined) return [[prefix, schema]];
  return Object.entries(properties).flatMap(([name, child]) => leaves(child, [...prefix, name]));
}

describe('ha: several instances coordinated by etcd', () => {
  it('reads the etcd endpoints, prefix, credentials, lease TTL and identity', async () => {
    const config = await loadOk(`
source:
  url: https://git.example.com/ops/deploy.git
ha:
  etcd:
    endpoints: [https://etcd-1:2379, https://etcd-2:2379]
    prefix: /tend/prod
    credentials:
      ca_file: /etc/tend/etcd/ca.pem
      user: tend
      password_file: /etc/tend/etcd/password
  lease_ttl: 30s
  identity: tend-1
`);
    expect(config.ha).toStrictEqual({
      endpoints: ['https://etcd-1:2379', 'https://etcd-2:2379'],
      prefix: '/tend/prod',
      credentials: { caFile: '/etc/tend/etcd/ca.pem', certFile: undefined, keyFile: undefined, user: 'tend', passwordFile: '/etc/tend/etcd/password' },
      leaseTtlMs: 30_000,
      identity: 'tend-1',
    });
  });

  it('defaults the prefix to /tend and the lease TTL to 15s', async () => {
    const config = await loadOk('source:\n  url: https://git.example.com/ops/deploy.git\nha:\n  etcd:\n    endpoints: [http://127.0.0.1:2379]\n');
    expect(config.ha).toMatchObject({ prefix: '/tend', leaseTtlMs: 15_000, credentials: undefined, identity: undefined });
  });

  it('refuses a lease TTL that is not whole seconds, or shorter than 3s', async () => {
    const base = 'source:\n  url: https://git.example.com/ops/deploy.git\nha:\n  etcd:\n    endpoints: [http://127.0.0.1:2379]\n';
    expect((await loadIssues(`${base}  lease_ttl: 2500ms\n`)).issues.map((one) => [one.code, one.message])).toEqual([['E_DURATION', 'ha.lease_ttl: must be at least 3s']]);
    expect((await loadIssues(`${base}  lease_ttl: 3500ms\n`)).issues.map((one) => [one.code, one.message])).toEqual([['E_DURATION', 'ha.lease_ttl: 3s500ms is not whole seconds']]);
  });

  it('refuses an ha block without endpoints, and a password without a user', async () => {
    const { issues } = await loadIssues('source:\n  url: https://git.example.com/ops/deploy.git\nha:\n  etcd:\n    credentials:\n      password_file: /etc/tend/etcd/password\n');
    expect(issues.map((one) => one.code)).toEqual(['E_SCHEMA', 'E_SCHEMA']);
    expect(issues.map((one) => one.message).join('\n')).toMatch(/endpoints[\s\S]*user|user[\s\S]*endpoints/);
  });
});

describe('the example systemd/tend.yml and the schema', () => {
  it('the example loads to exactly the defaults (every value written in it is the default)', async () => {
    const result = await loadDaemonConfig(new URL(EXAMPLE).pathname);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const { source, ...rest } = result.config;
    expect(source).toEqual({ kind: 'url', url: 'https://git.example.com/ops/deploy.git', credentialsFile: undefined });
    expect(rest).toStrictEqual(defaultDaemonConfig);
  });

  it('every field of the schema appears in the example, set or commented out', async () => {
    const text = await readFile(EXAMPLE, 'utf8');
    const schema = JSON.parse(await readFile(SCHEMA, 'utf8')) as Schema;
    const missing = leaves(schema).filter(([path]) => !new RegExp(`^\\s*(?:#\\s*)?${path.at(-1) ?? ''}:`, 'm').test(text));
    expect(missing.map(([path]) => path.join('.'))).toEqual([]);
  });

  it('every field states the default the example writes, or that it has none', async () => {
    const example = parse(await readFile(EXAMPLE, 'utf8')) as Record<string, unknown>;
    const schema = JSON.parse(await readFile(SCHEMA, 'utf8')) as Schema;
    const wrong: string[] = [];
    for (const [path, field] of leaves(schema)) {
      if (path[0] === 'source' && (path[1] === 'url' || path[1] === 'path')) continue;
      const description = String(field['description'] ?? '');
      let value: unknown = example;
      for (const segment of path) value = (value as Record<string, unknown> | undefined)?.[segment];
      const stated = value === undefined ? 'default is none' : typeof value === 'number' ? `Default ${value}.` : `Default \`${String(value)}\`.`;
      // Inside an optional block the example leaves out (notifications), a field states its own default.
      const block = path.length > 1 ? (schema['properties'] as Record<string, Schema>)[path[0] ?? ''] : undefined;
      const inAbsentBlock = value === undefined && example[path[0] ?? ''] === undefined && String(block?.['description'] ?? '').includes('default is none');
      if (inAbsentBlock && /Default `[^`]+`\.|Required in this block|default is none/.test(description)) continue;
      if (!description.includes(stated)) wrong.push(`${path.join('.')}: expected "${stated}" in "${description}"`);
    }
    expect(wrong).toEqual([]);
  });

  it('every object refuses unknown fields and every field is described in a sentence', async () => {
    const schema = JSON.parse(await readFile(SCHEMA, 'utf8')) as Schema;
    const objects: [string, Schema][] = [['(root)', schema], ...Object.entries(schema['properties'] as Record<string, Schema>).filter(([, s]) => s['type'] === 'object')];
    expect(objects.filter(([, s]) => s['additionalProperties'] !== false).map(([name]) => name)).toEqual([]);
    const all = [...objects, ...leaves(schema).map(([path, s]): [string, Schema] => [path.join('.'), s])];
    expect(all.filter(([, s]) => !/\.$/.test(String(s['description'] ?? ''))).map(([name]) => name)).toEqual([]);
  });
});
