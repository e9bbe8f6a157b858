import type { Issue } from '../errors/index.js';
import { closestMatch } from './did-you-mean.js';
import { specIssue } from './issue-codes.js';
import type { ServiceType, UnitDirectories, UnitOptions } from './model.js';
import { formatDuration, parseDuration } from './units.js';
import { childPointer, type Pointer, type YamlFile } from './yaml-document.js';

/**
 * The spec's `unit:` block -> `UnitOptions`: who the service runs as, what it may write, which
 * capabilities it keeps, and a few [Service] settings. Every value ends up in a unit file, where a newline
 * starts a new setting, a blank splits a list and `%` is a specifier, so each field has a narrow grammar
 * checked here (the schema only checks shapes) and refused with its own code at the node's position.
 */

export interface RawUnitDirectories {
  readonly state?: readonly string[];
  readonly cache?: readonly string[];
  readonly logs?: readonly string[];
  readonly runtime?: readonly string[];
  readonly configuration?: readonly string[];
}

export interface RawUnit {
  readonly user?: string;
  readonly group?: string;
  readonly directories?: RawUnitDirectories;
  readonly read_write_paths?: readonly string[];
  readonly capabilities?: readonly string[];
  readonly working_directory?: string;
  readonly type?: ServiceType;
  readonly kill_signal?: string;
  readonly timeout_stop?: string | number;
  readonly directives?: Readonly<Record<string, string | number>>;
}

/** Debian's (and systemd's portable) user and group names; at most 32 characters, as useradd allows. */
const ACCOUNT_NAME = /^[a-z_][a-z0-9_-]{0,31}$/;
/** Accounts that are root, or whose files are the system's: running a service as them undoes the sandbox. */
const PRIVILEGED_ACCOUNTS: ReadonlySet<string> = new Set(['root']);

/** One segment of a directory name systemd creates: no blanks, quotes, `%` or `/` tricks. */
const NAME_SEGMENT = /^[A-Za-z0-9_.-]+$/;
/** One segment of an absolute path tend writes into a unit: the same, plus `@`, `+`, `:` and `,`. */
const PATH_SEGMENT = /^[A-Za-z0-9_.@+:,-]+$/;

/** capabilities(7), as of Linux 6.x; systemd 252 knows every one. */
export const CAPABILITIES: readonly string[] = [
  'CAP_AUDIT_CONTROL', 'CAP_AUDIT_READ', 'CAP_AUDIT_WRITE', 'CAP_BLOCK_SUSPEND', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE',
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_IPC_LOCK', 'CAP_IPC_OWNER',
  'CAP_KILL', 'CAP_LEASE', 'CAP_LINUX_IMMUTABLE', 'CAP_MAC_ADMIN', 'CAP_MAC_OVERRIDE', 'CAP_MKNOD', 'CAP_NET_ADMIN',
  'CAP_NET_BIND_SERVICE', 'CAP_NET_BROADCAST', 'CAP_NET_RAW', 'CAP_PERFMON', 'CAP_SETFCAP', 'CAP_SETGID', 'CAP_SETPCAP',
  'CAP_SETUID', 'CAP_SYS_ADMIN', 'CAP_SYS_BOOT', 'CAP_SYS_CHROOT', 'CAP_SYS_MODULE', 'CAP_SYS_NICE', 'CAP_SYS_PACCT',
  'CAP_SYS_PTRACE', 'CAP_SYS_RAWIO', 'CAP_SYS_RESOURCE', 'CAP_SYS_TIME', 'CAP_SYS_TTY_CONFIG', 'CAP_SYSLOG', 'CAP_WAKE_ALARM',
];
const CAPABILITY_SET: ReadonlySet<string> = new Set(CAPABILITIES);

/** The signals a service may be stopped with (KillSignal=); SIGKILL leaves it no chance to clean up, but some want that. */
export const KILL_SIGNALS: readonly string[] = ['SIGTERM', 'SIGINT', 'SIGQUIT', 'SIGHUP', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH', 'SIGKILL'];

export const SERVICE_TYPES: readonly ServiceType[] = ['exec', 'simple', 'notify', 'forking'];

/** A directive's value as rendered, or why it is refused (completing "must be ..."). */
type DirectiveCheck = (value: string) => { readonly ok: true; readonly value: string } | { readonly ok: false; readonly expected: string };

function integerIn(min: number, max: number): DirectiveCheck {
  return (value) => {
    const number = /^-?\d{1,10}$/.test(value) ? Number(value) : Number.NaN;
    return number >= min && number <= max ? { ok: true, value: String(number) } : { ok: false, expected: `a whole number from ${min} to ${max}` };
  };
}

function oneOf(...words: readonly string[]): DirectiveCheck {
  return (value) => (words.includes(value) ? { ok: true, value } : { ok: false, expected: `one of ${words.join(', ')}` });
}

/** A resource limit: a count, or `infinity`. systemd's soft:hard form is left out: one number is what people mean. */
const rlimit: DirectiveCheck = (value) =>
  value === 'infinity' ? { ok: true, value } : /^\d{1,18}$/.test(value) && Number.isSafeInteger(Number(value)) ? { ok: true, value: String(Number(value)) } : { ok: false, expected: 'a whole number or `infinity`' };

/** A duration in tend's spelling (5s, 1m30s), rendered in its shortest spelling, which systemd reads alike. */
const timeSpan: DirectiveCheck = (value) => {
  const ms = parseDuration(value);
  return ms === undefined || ms === 0 ? { ok: false, expected: 'a duration with a unit longer than 0, for example 30s or 2m' } : { ok: true, value: formatDuration(ms) };
};

/**
 * The extra [Service] settings a spec may write, each with the grammar of its value. Kept small on
 * purpose: settings that grant privileges (User=, Capability*=), weaken the sandbox (Protect*=,
 * ReadWritePaths=), run other programs (ExecStartPre=) or set the environment (Environment=, which would
 * bypass the env file's rules and secrets) are not here; the ones tend renders from other fields
 * (LimitNOFILE=, MemoryMax=, Restart=, ...) are refused with a pointer to their field.
 */
export const ALLOWED_DIRECTIVES: ReadonlyMap<string, DirectiveCheck> = new Map([
  ['LimitNPROC', rlimit],
  ['LimitCORE', rlimit],
  ['LimitMEMLOCK', rlimit],
  ['LimitSTACK', rlimit],
  ['Nice', integerIn(-20, 19)],
  ['OOMScoreAdjust', integerIn(-1000, 1000)],
  ['IOSchedulingClass', oneOf('best-effort', 'idle')],
  ['IOSchedulingPriority', integerIn(0, 7)],
  ['KillMode', oneOf('control-group', 'mixed', 'process')],
  ['TasksMax', (value) => (/^\d{1,9}$/.test(value) && Number(value) > 0) || value === 'infinity' ? { ok: true, value: value === 'infinity' ? value : String(Number(value)) } : { ok: false, expected: 'a whole number above 0 or `infinity`' }],
  ['TimeoutStartSec', timeSpan],
  ['RestartSec', timeSpan],
  ['UMask', (value) => (/^0[0-7]{3}$/.test(value) ? { ok: true, value } : { ok: false, expected: 'four octal digits starting with 0, quoted, for example "0027"' })],
  ['SyslogIdentifier', (value) => (/^[A-Za-z0-9_.-]{1,64}$/.test(value) ? { ok: true, value } : { ok: false, expected: 'letters, digits, _, . and -, at most 64' })],
]);

/** Settings tend renders from a field of its own: naming the field beats a bare "not allowed". */
const RENDERED_FROM: ReadonlyMap<string, string> = new Map([
  ['LimitNOFILE', 'limits.no_file'],
  ['MemoryMax', 'limits.mem'],
  ['CPUQuota', 'limits.cpu'],
  ['User', 'unit.user'],
  ['Group', 'unit.group'],
  ['DynamicUser', 'unit.user'],
  ['Type', 'unit.type'],
  ['KillSignal', 'unit.kill_signal'],
  ['TimeoutStopSec', 'unit.timeout_stop'],
  ['WorkingDirectory', 'unit.working_directory'],
  ['ReadWritePaths', 'unit.read_write_paths'],
  ['AmbientCapabilities', 'unit.capabilities'],
  ['CapabilityBoundingSet', 'unit.capabilities'],
  ['StateDirectory', 'unit.directories.state'],
  ['CacheDirectory', 'unit.directories.cache'],
  ['LogsDirectory', 'unit.directories.logs'],
  ['RuntimeDirectory', 'unit.directories.runtime'],
  ['ConfigurationDirectory', 'unit.directories.configuration'],
  ['Environment', 'environments'],
  ['EnvironmentFile', 'environments'],
  ['ExecStart', 'run.command'],
]);

const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

function describeControl(value: string): string | undefined {
  const control = CONTROL.exec(value);
  if (control === null) return undefined;
  return `contains the control character U+${(control[0].codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;
}

/** Why a directory name is refused, or undefined when it is a plain relative name. */
export function directoryNameProblem(name: string): string | undefined {
  const control = describeControl(name);
  if (control !== undefined) return control;
  if (name.startsWith('/')) return 'is absolute; it is relative to the directory\'s root';
  const segments = name.split('/');
  if (segments.some((segment) => segment === '..' || segment === '.')) return 'has a `.` or `..` segment';
  if (segments.some((segment) => segment === '')) return 'has an empty segment (`//` or a trailing /)';
  if (segments.some((segment) => !NAME_SEGMENT.test(segment))) return 'has characters other than letters, digits, _, . and -';
  return undefined;
}

/** Why an absolute path is refused, or undefined when it is plain, absolute and normalized. */
export function absolutePathProblem(path: string): string | undefined {
  const control = describeControl(path);
  if (control !== undefined) return control;
  if (!path.startsWith('/')) return 'is not absolute';
  if (path === '/') return 'is the whole file system';
  const segments = path.slice(1).split('/');
  if (segments.some((segment) => segment === '..' || segment === '.')) return 'has a `.` or `..` segment';
  if (segments.some((segment) => segment === '')) return 'has an empty segment (`//` or a trailing /)';
  if (segments.some((segment) => !PATH_SEGMENT.test(segment))) return 'has blanks, quotes, %, or other characters outside letters, digits and _ . @ + : , -';
  return undefined;
}

function sortedUnique(values: readonly string[]): string[] {
  return [...new Set(values)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

const DIRECTORY_KINDS = ['state', 'cache', 'logs', 'runtime', 'configuration'] as const;

export function buildUnitOptions(doc: YamlFile, serviceName: string, raw: RawUnit | undefined): { readonly unit: UnitOptions; readonly issues: readonly Issue[] } {
  const issues: Issue[] = [];
  const unit = raw ?? {};
  const base: Pointer = '/service/unit';
  const add = (code: Parameters<typeof specIssue>[0], pointer: Pointer, message: string, hint?: string): void => {
    issues.push(specIssue(code, doc.at(pointer), message, hint));
  };

  for (const field of ['user', 'group'] as const) {
    const name = unit[field];
    if (name === undefined) continue;
    if (!ACCOUNT_NAME.test(name)) {
      add('E_UNIT_USER', `${base}/${field}`, `service.unit.${field}: ${JSON.stringify(name)} is not a Unix ${field} name`, `Lowercase letters, digits, _ and -, starting with a letter or _, at most 32 characters; for example www-data.`);
    } else if (PRIVILEGED_ACCOUNTS.has(name)) {
      add('E_UNIT_USER', `${base}/${field}`, `service.unit.${field}: tend does not run services as ${name}`, 'Run it as an unprivileged account and grant what it needs with unit.capabilities (CAP_NET_BIND_SERVICE for a port below 1024).');
    }
  }
  if (unit.group !== undefined && unit.user === undefined) {
    add('E_UNIT_USER', `${base}/group`, 'service.unit.group: a group without unit.user', 'Set unit.user too: a dynamic user gets a dynamic group of its own.');
  }

  const directories: Record<(typeof DIRECTORY_KINDS)[number], string[]> = { state: [], cache: [], logs: [], runtime: [], configuration: [] };
  for (const kind of DIRECTORY_KINDS) {
    const written = unit.directories?.[kind];
    // The service's own state directory is the default: its timers' jobs and every release share it.
    const names = written ?? (kind === 'state' ? [serviceName] : []);
    names.forEach((name, index) => {
      const problem = directoryNameProblem(name);
      if (problem === undefined) directories[kind].push(name);
      else add('E_UNIT_DIRECTORY', `${base}/directories/${kind}/${index}`, `service.unit.directories.${kind}[${index}]: ${JSON.stringify(name)} ${problem}`);
    });
  }

  const readWritePaths: string[] = [];
  (unit.read_write_paths ?? []).forEach((path, index) => {
    const problem = absolutePathProblem(path);
    if (problem === undefined) readWritePaths.push(path);
    else add('E_UNIT_PATH', `${base}/read_write_paths/${index}`, `service.unit.read_write_paths[${index}]: ${JSON.stringify(path)} ${problem}`);
  });

  let workingDirectory: string | undefined;
  if (unit.working_directory !== undefined) {
    const problem = absolutePathProblem(unit.working_directory);
    if (problem === undefined) workingDirectory = unit.working_directory;
    else add('E_UNIT_PATH', `${base}/working_directory`, `service.unit.working_directory: ${JSON.stringify(unit.working_directory)} ${problem}`);
  }

  const capabilities: string[] = [];
  (unit.capabilities ?? []).forEach((name, index) => {
    if (CAPABILITY_SET.has(name)) {
      capabilities.push(name);
      return;
    }
    const suggestion = closestMatch(name.toUpperCase().startsWith('CAP_') ? name.toUpperCase() : `CAP_${name.toUpperCase()}`, CAPABILITIES);
    const shown = describeControl(name) === undefined ? `\`${name}\`` : JSON.stringify(name);
    add('E_UNIT_CAPABILITY', `${base}/capabilities/${index}`, `service.unit.capabilities[${index}]: ${shown} is not a Linux capability`, suggestion === undefined ? 'Write the name as capabilities(7) spells it, for example CAP_NET_BIND_SERVICE.' : `Did you mean \`${suggestion}\`?`);
  });

  if (unit.kill_signal !== undefined && !KILL_SIGNALS.includes(unit.kill_signal)) {
    add('E_UNIT_DIRECTIVE_VALUE', `${base}/kill_signal`, `service.unit.kill_signal: ${JSON.stringify(unit.kill_signal)} is not a signal tend stops services with`, `Use one of ${KILL_SIGNALS.join(', ')}.`);
  }
  if (unit.type !== undefined && !SERVICE_TYPES.includes(unit.type)) {
    add('E_UNIT_DIRECTIVE_VALUE', `${base}/type`, `service.unit.type: ${JSON.stringify(unit.type)} is not a service type tend runs`, `Use one of ${SERVICE_TYPES.join(', ')}.`);
  }
  let timeoutStop: number | undefined;
  if (unit.timeout_stop !== undefined) {
    const ms = typeof unit.timeout_stop === 'string' ? parseDuration(unit.timeout_stop) : undefined;
    if (ms === undefined || ms === 0) add('E_DURATION', `${base}/timeout_stop`, `service.unit.timeout_stop: \`${String(unit.timeout_stop)}\` is not a duration longer than 0`, 'Write a whole number with a unit: 500ms, 5s, 2m or 1h30m.');
    else timeoutStop = ms;
  }

  const directives: [string, string][] = [];
  for (const [name, written] of Object.entries(unit.directives ?? {})) {
    const pointer = childPointer(`${base}/directives`, name);
    const check = ALLOWED_DIRECTIVES.get(name);
    if (check === undefined) {
      const field = RENDERED_FROM.get(name);
      const suggestion = closestMatch(name, [...ALLOWED_DIRECTIVES.keys()]);
      const shown = describeControl(name) === undefined ? name : JSON.stringify(name);
      const hint =
        field !== undefined
          ? `tend renders ${name}= from ${field}; set that instead.`
          : suggestion !== undefined
            ? `Did you mean ${suggestion}?`
            : `Allowed: ${[...ALLOWED_DIRECTIVES.keys()].join(', ')}.`;
      issues.push(specIssue('E_UNIT_DIRECTIVE', doc.keyAt(pointer), `service.unit.directives: ${shown} is not a setting a spec may add`, hint));
      continue;
    }
    const value = String(written);
    const checked = check(value);
    if (checked.ok) directives.push([name, checked.value]);
    else add('E_UNIT_DIRECTIVE_VALUE', pointer, `service.unit.directives.${name}: ${JSON.stringify(value)} is not valid`, `${name} must be ${checked.expected}.`);
  }
  directives.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

  const sortedDirectories: UnitDirectories = {
    state: sortedUnique(directories.state),
    cache: sortedUnique(directories.cache),
    logs: sortedUnique(directories.logs),
    runtime: sortedUnique(directories.runtime),
    configuration: sortedUnique(directories.configuration),
  };
  return {
    unit: {
      user: unit.user,
      group: unit.group,
      directories: sortedDirectories,
      readWritePaths: sortedUnique(readWritePaths),
      capabilities: sortedUnique(capabilities),
      workingDirectory,
      type: unit.type ?? 'exec',
      killSignal: unit.kill_signal,
      timeoutStop,
      directives,
    },
    issues,
  };
}
