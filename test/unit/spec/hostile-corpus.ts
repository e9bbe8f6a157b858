import { API_ARTIFACT, ARTICLE_SPEC, BASE_INVENTORY, HOST_KEYS, SPEC_PATH, repoWith, repoWithService } from './fixture-repo.js';
import type { RepoFile, RepoFiles } from './fixture-repo.js';

/**
 * Hostile deploy repos: each is a whole small repo (the valid base repo plus one hostile change) and the
 * issue it must produce: code, file, and where known the exact line and column. Data only, so the same
 * table drives the loader tests (hostile.test.ts) and the real CLI binary (`tend validate`).
 *
 * Every case must end as issues with positions: no throw, no hang, no stack trace.
 */
export interface HostileCase {
  readonly name: string;
  readonly files: RepoFiles;
  readonly code: string;
  readonly file: string;
  readonly line?: number;
  readonly col?: number;
}

/** The base spec with one exact piece of text replaced (the original must occur, so cases cannot rot). */
function specReplacing(original: string, replacement: string): string {
  if (!ARTICLE_SPEC.includes(original)) throw new Error(`the article spec has no ${JSON.stringify(original)}`);
  return ARTICLE_SPEC.replace(original, replacement);
}

function withSpec(spec: RepoFile): RepoFiles {
  return repoWith({ [SPEC_PATH]: spec });
}

function withInventory(original: string, replacement: string): RepoFiles {
  if (!BASE_INVENTORY.includes(original)) throw new Error(`the inventory has no ${JSON.stringify(original)}`);
  return repoWith({ 'inventory.yml': BASE_INVENTORY.replace(original, replacement) });
}

const bytes = (...parts: (string | readonly number[])[]): Uint8Array =>
  new Uint8Array(parts.flatMap((part) => (typeof part === 'string' ? [...new TextEncoder().encode(part)] : [...part])));

/** Lines 19 and on of a spec: the article spec ends at line 18. */
const TIMER = `  timers:
    - name: cleanup
      schedule: "30 3 * * *"
      command: ["/bin/true"]
      description: Remove old files
`;

function timerReplacing(original: string, replacement: string): string {
  if (!TIMER.includes(original)) throw new Error(`the timer has no ${JSON.stringify(original)}`);
  return ARTICLE_SPEC + TIMER.replace(original, replacement);
}

const badNames: readonly [string, string][] = [
  ['a path that climbs out', '../x'],
  ['a path with a slash', 'a/b'],
  ['an option-like name', '-rf'],
  ['an at sign', 'foo@bar'],
  ['uppercase', 'Api'],
  ['a leading digit', '1api'],
  ['a unit suffix', 'api.service'],
  ['a space', '"api x"'],
  ['an empty string', '""'],
  ['49 characters', `a${'b'.repeat(48)}`],
  ['a number', '123'],
];

const reservedNames = ['sshd', 'ssh', 'systemd-journald', 'systemd-networkd', 'dbus', 'cron', 'getty', 'tend', 'tend-agent', 'networking', 'user', 'init', 'sudo', 'reboot', 'multi-user'];

const badEnvKeys: readonly [string, string][] = [
  ['a leading digit', '1LISTEN=:8080'],
  ['a dash', 'LIS-TEN=:8080'],
  ['an export prefix', 'export LISTEN=:8080'],
  ['LD_PRELOAD', 'LD_PRELOAD=/tmp/evil.so'],
  ['LD_LIBRARY_PATH', 'LD_LIBRARY_PATH=/tmp'],
  ['LD_AUDIT', 'LD_AUDIT=/tmp/audit.so'],
  ['PATH without allow_env', 'PATH=/tmp/bin:/usr/bin'],
  ['a dot', 'A.B=1'],
];

const badSecrets: readonly [string, string, number][] = [
  ['an unclosed {{', 'DB_PASSWORD={{ db_password', 17],
  ['a name with a dash and capitals', 'DB_PASSWORD={{ Db-Password }}', 17],
  ['an empty name', 'DB_PASSWORD={{}}', 17],
  ['a second {{ left open', 'DB_PASSWORD=x{{ a }}{{', 25],
  ['a name with a space', 'DB_PASSWORD={{ db password }}', 17],
];

const ALIAS_BOMB = `  resources:
    a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]
    b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
    c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
    d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
    e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
    f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
    g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]
    h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]
    i: [*h, *h, *h, *h, *h, *h, *h, *h, *h]
`;

const TOO_LARGE = `${ARTICLE_SPEC}${`# ${'x'.repeat(98)}\n`.repeat(2622)}`;

export const hostileCases: readonly HostileCase[] = [
  // --- service names that could escape a path, pass as an option, or shadow a system unit ---
  ...badNames.map(([label, name]): HostileCase => ({
    name: `service name: ${label} (${name})`,
    files: withSpec(specReplacing('  name: api\n', `  name: ${name}\n`)),
    code: 'E_SCHEMA',
    file: SPEC_PATH,
    line: 2,
    col: 9,
  })),
  ...reservedNames.map(
    (name): HostileCase => ({
      name: `reserved service name ${name}`,
      files: repoWithService(name, specReplacing('  name: api\n', `  name: ${name}\n`)),
      code: 'E_RESERVED_NAME',
      file: `services/${name}/spec.yml`,
      line: 2,
      col: 9,
    }),
  ),

  // --- control characters and line breaks that would reach a unit or env file ---
  { name: 'description with an escaped newline', files: withSpec(specReplacing('  description: Kinescope API\n', '  description: "Kinescope\\nExecStartPre=/bin/rm -rf /"\n')), code: 'E_SCHEMA', file: SPEC_PATH, line: 4, col: 16 },
  { name: 'description with an escaped carriage return', files: withSpec(specReplacing('  description: Kinescope API\n', '  description: "Kinescope\\rAPI"\n')), code: 'E_SCHEMA', file: SPEC_PATH, line: 4, col: 16 },
  { name: 'description with an escaped U+2028 line separator', files: withSpec(specReplacing('  description: Kinescope API\n', '  description: "Kinescope\\u2028API"\n')), code: 'E_SCHEMA', file: SPEC_PATH, line: 4, col: 16 },
  { name: 'description with a raw BEL byte in the file', files: withSpec(specReplacing('  description: Kinescope API\n', '  description: Kinescope\u0007API\n')), code: 'E_CONTROL_CHAR', file: SPEC_PATH, line: 4, col: 25 },
  { name: 'description with a raw ESC (terminal escape) in the file', files: withSpec(specReplacing('  description: Kinescope API\n', '  description: "\u001b[2J"\n')), code: 'E_CONTROL_CHAR', file: SPEC_PATH, line: 4, col: 17 },
  { name: 'description as a multi-line block', files: withSpec(specReplacing('  description: Kinescope API\n', '  description: |\n    one\n    two\n')), code: 'E_SCHEMA', file: SPEC_PATH, line: 4, col: 16 },
  { name: 'probe path with a newline', files: withSpec(specReplacing('      path: /health\n', '      path: "/health\\nHost: evil"\n')), code: 'E_SCHEMA', file: SPEC_PATH, line: 10, col: 13 },
  { name: 'metrics_port out of range', files: withSpec(`${ARTICLE_SPEC}  metrics_port: 65536\n`), code: 'E_SCHEMA', file: SPEC_PATH, line: 19, col: 17 },
  { name: 'run.command argument with a newline', files: withSpec(`${ARTICLE_SPEC}  run:\n    command: ["--port", "8080\\nExecStartPre=/bin/rm"]\n`), code: 'E_SCHEMA', file: SPEC_PATH, line: 20, col: 25 },
  { name: 'run.command argument with a NUL escape', files: withSpec(`${ARTICLE_SPEC}  run:\n    command: ["--port", "80\\080"]\n`), code: 'E_SCHEMA', file: SPEC_PATH, line: 20, col: 25 },
  { name: 'run.command string with a newline', files: withSpec(`${ARTICLE_SPEC}  run:\n    command: "--port\\n8080"\n`), code: 'E_SCHEMA', file: SPEC_PATH, line: 20, col: 14 },
  { name: 'run.command string with shell quotes', files: withSpec(`${ARTICLE_SPEC}  run:\n    command: "--name 'a b'"\n`), code: 'E_SCHEMA', file: SPEC_PATH, line: 20, col: 14 },
  { name: 'exec probe command with a newline', files: withSpec(specReplacing('      type: http\n      port: 8080\n      path: /health\n', '      type: exec\n      command: ["/bin/check", "a\\nb"]\n\n')), code: 'E_SCHEMA', file: SPEC_PATH, line: 9, col: 31 },
  { name: 'timer description with a newline', files: withSpec(timerReplacing('      description: Remove old files\n', '      description: "Remove\\n[Service]"\n')), code: 'E_SCHEMA', file: SPEC_PATH, line: 23, col: 20 },
  { name: 'timer command argument with a newline', files: withSpec(timerReplacing('      command: ["/bin/true"]\n', '      command: ["/bin/sh", "-c", "echo\\nrm"]\n')), code: 'E_SCHEMA', file: SPEC_PATH, line: 22, col: 34 },
  { name: 'timer schedule with a newline', files: withSpec(timerReplacing('      schedule: "30 3 * * *"\n', '      schedule: "30 3 * * *\\nOnBootSec=1"\n')), code: 'E_SCHEMA', file: SPEC_PATH, line: 21, col: 17 },
  { name: 'timer name with a path', files: withSpec(timerReplacing('    - name: cleanup\n', '    - name: ../x\n')), code: 'E_SCHEMA', file: SPEC_PATH, line: 20, col: 13 },
  { name: 'env value with a raw tab', files: withSpec(specReplacing('    LISTEN=:8080\n', '    LISTEN=:80\t80\n')), code: 'E_ENV_VALUE', file: SPEC_PATH, line: 17, col: 15 },
  { name: 'env value with an escaped BEL in a quoted block', files: withSpec(specReplacing('  environments: |\n    LISTEN=:8080\n    DB_PASSWORD={{ db_password }}\n', '  environments: "FOO=a\\u0007b"\n\n\n')), code: 'E_ENV_VALUE', file: SPEC_PATH, line: 16, col: 23 },
  { name: 'env value with an escaped carriage return', files: withSpec(specReplacing('  environments: |\n    LISTEN=:8080\n    DB_PASSWORD={{ db_password }}\n', '  environments: "FOO=a\\rb"\n\n\n')), code: 'E_ENV_VALUE', file: SPEC_PATH, line: 16, col: 23 },

  // --- environment keys and secret references ---
  ...badEnvKeys.map(
    ([label, line]): HostileCase => ({
      name: `env key: ${label}`,
      files: withSpec(specReplacing('    LISTEN=:8080\n', `    ${line}\n`)),
      code: 'E_ENV_KEY',
      file: SPEC_PATH,
      line: 17,
      col: 5,
    }),
  ),
  { name: 'env line without =', files: withSpec(specReplacing('    LISTEN=:8080\n', '    LISTEN\n')), code: 'E_ENV_LINE', file: SPEC_PATH, line: 17, col: 5 },
  { name: 'env key set twice', files: withSpec(specReplacing('    DB_PASSWORD={{ db_password }}\n', '    LISTEN=:9090\n')), code: 'E_ENV_DUPLICATE', file: SPEC_PATH, line: 18, col: 5 },
  ...badSecrets.map(
    ([label, line, col]): HostileCase => ({
      name: `secret reference: ${label}`,
      files: withSpec(specReplacing('    DB_PASSWORD={{ db_password }}\n', `    ${line}\n`)),
      code: 'E_ENV_SECRET',
      file: SPEC_PATH,
      line: 18,
      col,
    }),
  ),

  // --- YAML features tend refuses ---
  { name: 'duplicate key', files: withSpec(specReplacing('  group: web\n', '  group: web\n  group: db\n')), code: 'E_YAML_DUPLICATE_KEY', file: SPEC_PATH, line: 4, col: 3 },
  { name: 'keys 1 and "1" that collide as object keys', files: withSpec(specReplacing('    cpu: 2\n', '    1: a\n    "1": b\n')), code: 'E_YAML_DUPLICATE_KEY', file: SPEC_PATH, line: 16, col: 5 },
  { name: 'billion-laughs alias bomb', files: withSpec(specReplacing('  resources:\n    cpu: 2\n', ALIAS_BOMB)), code: 'E_YAML_ALIAS', file: SPEC_PATH, line: 15, col: 8 },
  { name: 'a single harmless anchor', files: withSpec(specReplacing('  group: web\n', '  group: &g web\n')), code: 'E_YAML_ALIAS', file: SPEC_PATH, line: 3, col: 10 },
  { name: 'a merge key with an alias', files: withSpec(specReplacing('    cpu: 2\n', '    base: &base { cpu: 2 }\n    more:\n      <<: *base\n')), code: 'E_YAML_ALIAS', file: SPEC_PATH, line: 15, col: 11 },
  { name: 'tag !!js/function', files: withSpec(specReplacing('  description: Kinescope API\n', '  description: !!js/function "function () { return 1 }"\n')), code: 'E_YAML_TAG', file: SPEC_PATH, line: 4, col: 16 },
  { name: 'custom tag !foo', files: withSpec(specReplacing('  description: Kinescope API\n', '  description: !foo Kinescope API\n')), code: 'E_YAML_TAG', file: SPEC_PATH, line: 4, col: 16 },
  { name: 'tag !!binary', files: withSpec(specReplacing('    cpu: 2\n', '    cpu: !!binary aGVsbG8=\n')), code: 'E_YAML_TAG', file: SPEC_PATH, line: 15, col: 10 },
  { name: 'tag !!python/object', files: withSpec(specReplacing('    cpu: 2\n', '    cpu: !!python/object:os.system [ls]\n')), code: 'E_YAML_TAG', file: SPEC_PATH, line: 15, col: 10 },
  { name: 'a %YAML 1.1 directive', files: withSpec(`%YAML 1.1\n---\n${ARTICLE_SPEC}`), code: 'E_YAML_DIRECTIVE', file: SPEC_PATH, line: 1, col: 1 },
  { name: 'a %TAG directive', files: withSpec(`%TAG !e! tag:example.com,2000:\n---\n${ARTICLE_SPEC}`), code: 'E_YAML_DIRECTIVE', file: SPEC_PATH, line: 1, col: 1 },
  { name: 'a key that is a list', files: withSpec(specReplacing('    cpu: 2\n', '    ? [a, b]\n    : c\n')), code: 'E_YAML_KEY', file: SPEC_PATH, line: 15, col: 7 },
  { name: '__proto__ key', files: withSpec(specReplacing('    cpu: 2\n', '    __proto__: { polluted: true }\n')), code: 'E_FORBIDDEN_KEY', file: SPEC_PATH, line: 15, col: 5 },
  { name: 'constructor key', files: withSpec(specReplacing('    cpu: 2\n', '    constructor: { prototype: { polluted: true } }\n')), code: 'E_FORBIDDEN_KEY', file: SPEC_PATH, line: 15, col: 5 },
  { name: 'prototype key', files: withSpec(specReplacing('    cpu: 2\n', '    prototype: 1\n')), code: 'E_FORBIDDEN_KEY', file: SPEC_PATH, line: 15, col: 5 },
  { name: 'quoted "__proto__" key at the top of the inventory', files: repoWith({ 'inventory.yml': `${BASE_INVENTORY}"__proto__": { isAdmin: true }\n` }), code: 'E_FORBIDDEN_KEY', file: 'inventory.yml', line: 8, col: 1 },
  { name: 'a host named constructor', files: withInventory('  db-1: {', '  constructor: {'), code: 'E_FORBIDDEN_KEY', file: 'inventory.yml', line: 4, col: 3 },
  { name: 'collections nested 5000 deep', files: withSpec(specReplacing('  resources:\n    cpu: 2\n', `  resources: ${'['.repeat(5000)}${']'.repeat(5000)}\n\n`)), code: 'E_YAML_DEPTH', file: SPEC_PATH, line: 14 },
  { name: 'block sequences nested 20000 deep', files: withSpec(specReplacing('  resources:\n    cpu: 2\n', `  resources:\n    ${'- '.repeat(20000)}x\n`)), code: 'E_YAML_DEPTH', file: SPEC_PATH, line: 15 },
  { name: 'an unclosed quote', files: withSpec(specReplacing('  description: Kinescope API\n', '  description: "Kinescope API\n')), code: 'E_YAML', file: SPEC_PATH },
  { name: 'tab indentation', files: withSpec(specReplacing('  group: web\n', '\tgroup: web\n')), code: 'E_YAML', file: SPEC_PATH, line: 3, col: 1 },
  { name: 'several documents in one file', files: withSpec(`${ARTICLE_SPEC}---\nservice: { name: evil, group: web }\n`), code: 'E_YAML_MULTIPLE_DOCUMENTS', file: SPEC_PATH, line: 19, col: 1 },
  { name: 'a second, empty document', files: withSpec(`${ARTICLE_SPEC}---\n`), code: 'E_YAML_MULTIPLE_DOCUMENTS', file: SPEC_PATH, line: 19, col: 1 },
  { name: 'YAML 1.1 yes is not a boolean', files: withSpec(specReplacing('    serial: 1\n', '    serial: 1\n    auto_rollback: yes\n')), code: 'E_SCHEMA', file: SPEC_PATH, line: 7, col: 20 },
  { name: 'YAML 1.1 key y is not true (an unknown field)', files: withSpec(`${ARTICLE_SPEC}  y: 1\n`), code: 'E_SCHEMA', file: SPEC_PATH, line: 19, col: 3 },
  { name: 'no_file as .inf', files: withSpec(specReplacing('    no_file: 10_000\n', '    no_file: .inf\n')), code: 'E_SCHEMA', file: SPEC_PATH, line: 13, col: 14 },
  { name: 'no_file past 2^64', files: withSpec(specReplacing('    no_file: 10_000\n', '    no_file: 99_999_999_999_999_999_999\n')), code: 'E_SCHEMA', file: SPEC_PATH, line: 13, col: 14 },
  { name: 'no_file with a double underscore stays a string', files: withSpec(specReplacing('    no_file: 10_000\n', '    no_file: 10__000\n')), code: 'E_SCHEMA', file: SPEC_PATH, line: 13, col: 14 },
  { name: 'the whole spec is a list', files: withSpec('- service: api\n'), code: 'E_SCHEMA', file: SPEC_PATH, line: 1, col: 1 },
  { name: 'service: with nothing under it', files: withSpec('service:\n'), code: 'E_SCHEMA', file: SPEC_PATH, line: 1, col: 9 },

  // --- files that are not what they claim to be ---
  { name: 'spec over 256 KiB', files: withSpec(TOO_LARGE), code: 'E_FILE_TOO_LARGE', file: SPEC_PATH, line: 1, col: 1 },
  { name: 'empty spec', files: withSpec(''), code: 'E_EMPTY_FILE', file: SPEC_PATH, line: 1, col: 1 },
  { name: 'spec with only comments', files: withSpec('# service:\n#   name: api\n'), code: 'E_EMPTY_FILE', file: SPEC_PATH, line: 1, col: 1 },
  { name: 'spec with only a document marker', files: withSpec('---\n'), code: 'E_EMPTY_FILE', file: SPEC_PATH, line: 1, col: 1 },
  { name: 'empty inventory', files: repoWith({ 'inventory.yml': '\n\n' }), code: 'E_EMPTY_FILE', file: 'inventory.yml', line: 1, col: 1 },
  { name: 'empty tend.yml', files: repoWith({ 'tend.yml': '' }), code: 'E_EMPTY_FILE', file: 'tend.yml', line: 1, col: 1 },
  { name: 'NUL byte in the spec', files: withSpec(specReplacing('  description: Kinescope API\n', '  description: Kines\u0000cope API\n')), code: 'E_BINARY_FILE', file: SPEC_PATH, line: 4, col: 21 },
  { name: 'spec saved as UTF-16', files: withSpec(new Uint8Array([0xff, 0xfe, ...[...ARTICLE_SPEC].flatMap((char) => [char.charCodeAt(0), 0])])), code: 'E_BINARY_FILE', file: SPEC_PATH, line: 1 },
  { name: 'an ELF binary as the inventory', files: repoWith({ 'inventory.yml': bytes([0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x01, 0x00]) }), code: 'E_BINARY_FILE', file: 'inventory.yml', line: 1, col: 8 },
  { name: 'Latin-1 byte in the spec', files: withSpec(bytes(`${ARTICLE_SPEC.split('Kinescope API')[0] ?? ''}caf`, [0xe9], ` API${ARTICLE_SPEC.split('Kinescope API')[1] ?? ''}`)), code: 'E_ENCODING', file: SPEC_PATH, line: 4, col: 19 },
  { name: 'overlong UTF-8 for /', files: withSpec(bytes('service:\n  name: a', [0xc0, 0xaf], 'b\n')), code: 'E_ENCODING', file: SPEC_PATH, line: 2, col: 10 },
  { name: 'UTF-8 encoded surrogate', files: withSpec(bytes('service:\n  name: ', [0xed, 0xa0, 0x80], '\n')), code: 'E_ENCODING', file: SPEC_PATH, line: 2, col: 9 },
  { name: 'truncated UTF-8 sequence at the end', files: withSpec(bytes(ARTICLE_SPEC, [0xe2, 0x82])), code: 'E_ENCODING', file: SPEC_PATH, line: 19, col: 1 },

  // --- symlinks ---
  { name: 'spec.yml is a symlink', files: repoWith({ [SPEC_PATH]: { symlink: '../../inventory.yml' } }), code: 'E_SYMLINK', file: SPEC_PATH, line: 1, col: 1 },
  { name: 'inventory.yml is a symlink out of the repo', files: repoWith({ 'inventory.yml': { symlink: '/etc/passwd' } }), code: 'E_SYMLINK', file: 'inventory.yml', line: 1, col: 1 },
  { name: 'tend.yml is a symlink', files: repoWith({ 'tend.yml': { symlink: 'inventory.yml' } }), code: 'E_SYMLINK', file: 'tend.yml', line: 1, col: 1 },
  { name: 'the artifact is a symlink to /etc/shadow', files: repoWith({ 'services/api/api': { symlink: '/etc/shadow' } }), code: 'E_SYMLINK', file: 'services/api/api', line: 1, col: 1 },
  { name: 'the artifact is a symlink inside the repo', files: repoWith({ 'services/api/api': { symlink: '../../inventory.yml' } }), code: 'E_SYMLINK', file: SPEC_PATH, line: 2, col: 3 },
  { name: 'an unused symlink leaving the repo', files: repoWith({ 'services/api/data': { symlink: '../../../../etc' } }), code: 'E_SYMLINK', file: 'services/api/data', line: 1, col: 1 },
  { name: 'a service folder that is a symlink', files: repoWith({ 'services/web': { symlink: '/etc' } }), code: 'E_SYMLINK', file: 'services/web', line: 1, col: 1 },
  { name: 'services/ is a symlink', files: { 'inventory.yml': BASE_INVENTORY, services: { symlink: '/etc' } }, code: 'E_SYMLINK', file: 'services', line: 1, col: 1 },

  // --- artifacts ---
  { name: 'artifact path climbing out of the service folder', files: withSpec(`${ARTICLE_SPEC}  run:\n    artifact: ../../inventory.yml\n`), code: 'E_ARTIFACT_PATH', file: SPEC_PATH, line: 20, col: 15 },
  { name: 'absolute artifact path', files: withSpec(`${ARTICLE_SPEC}  run:\n    artifact: /etc/passwd\n`), code: 'E_SCHEMA', file: SPEC_PATH, line: 20, col: 15 },
  { name: 'artifact sha256 that does not match', files: withSpec(`${ARTICLE_SPEC}  run:\n    sha256: ${'f'.repeat(64)}\n`), code: 'E_ARTIFACT_HASH', file: SPEC_PATH, line: 20, col: 13 },
  { name: 'an all-digit sha256 that YAML reads as a number', files: withSpec(`${ARTICLE_SPEC}  run:\n    sha256: ${'1'.repeat(64)}\n`), code: 'E_RUN_SHA256', file: SPEC_PATH, line: 20, col: 13 },
  { name: 'artifact that is a directory', files: repoWith({ 'services/api/api': null, 'services/api/api/x': API_ARTIFACT }), code: 'E_NOT_A_FILE', file: SPEC_PATH, line: 2, col: 3 },

  // --- inventory values that would reach an ssh command line ---
  { name: 'address that is an ssh option', files: withInventory('address: 10.78.0.11', 'address: "-oProxyCommand=sh"'), code: 'E_SCHEMA', file: 'inventory.yml', line: 2, col: 21 },
  { name: 'address with a shell metacharacter', files: withInventory('address: 10.78.0.11', 'address: "10.78.0.11;reboot"'), code: 'E_SCHEMA', file: 'inventory.yml', line: 2, col: 21 },
  { name: 'user with a shell command', files: withInventory('user: deploy, host_key: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILx', 'user: "root;id", host_key: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILx'), code: 'E_SCHEMA', file: 'inventory.yml', line: 2, col: 49 },
  { name: 'host name with a path', files: withInventory('  db-1: {', '  ../db: {'), code: 'E_SCHEMA', file: 'inventory.yml', line: 4, col: 3 },
  { name: 'host key of another type than it claims', files: withInventory(HOST_KEYS.web1, HOST_KEYS.rsa.replace('ssh-rsa', 'ssh-ed25519')), code: 'E_HOST_KEY', file: 'inventory.yml', line: 2, col: 67 },
  { name: 'host key cut short', files: withInventory(HOST_KEYS.web1, 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILxCCF'), code: 'E_HOST_KEY', file: 'inventory.yml', line: 2, col: 67 },
  { name: 'host key with a newline', files: withInventory(`"${HOST_KEYS.web1}"`, `"${HOST_KEYS.web1}\\nevil"`), code: 'E_SCHEMA', file: 'inventory.yml', line: 2, col: 67 },
  { name: 'host key of an unsupported type', files: withInventory(HOST_KEYS.web1, 'ssh-dss AAAAB3NzaC1kc3MAAACBAP'), code: 'E_SCHEMA', file: 'inventory.yml', line: 2, col: 67 },
  { name: 'group member that is not a host', files: withInventory('  web: [web-1, web-2]', '  web: [web-1, web-3]'), code: 'E_UNKNOWN_HOST', file: 'inventory.yml', line: 6, col: 16 },
];
