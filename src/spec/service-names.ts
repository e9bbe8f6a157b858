/**
 * What a service name and a timer name may be: the one rule, used by the loader (with the JSON Schema,
 * whose `serviceName` and timer `name` carry the same pattern and lengths, proven equal by a unit test),
 * by render, by the host side (observe, systemctl) and by metrics. A name that validates always renders.
 *
 * Why these limits: a service name is also the `User=` of its DynamicUser unit, and systemd takes only a
 * strict user name there (at most 31 characters), or every start of the unit fails on every host. It is
 * also a unit name, a folder, a path component and a metric label, so only lowercase letters, digits and
 * dashes, starting with a letter. A timer's units are `<service>-<timer>.timer` and `.service`.
 */
export const SERVICE_NAME_MAX_LENGTH = 31;
export const TIMER_NAME_MAX_LENGTH = 32;
/** systemd refuses a unit name longer than this (UNIT_NAME_MAX), counted in bytes with its suffix. */
export const UNIT_NAME_MAX_BYTES = 255;

const NAME_SHAPE = /^[a-z][a-z0-9-]*$/;
/** The shape alone, as the schemas write it (`pattern`). */
export const NAME_PATTERN = NAME_SHAPE.source;

/** A valid service name, shape and length (reserved names aside): for checks on data tend reads back. */
export const SERVICE_NAME = new RegExp(`^[a-z][a-z0-9-]{0,${SERVICE_NAME_MAX_LENGTH - 1}}$`);

/** The longest unit a service and timer can make; kept under systemd's limit by the two lengths above. */
const LONGEST_UNIT_BYTES = SERVICE_NAME_MAX_LENGTH + 1 + TIMER_NAME_MAX_LENGTH + '.service'.length;
if (LONGEST_UNIT_BYTES > UNIT_NAME_MAX_BYTES) throw new Error('service and timer name limits allow unit names systemd refuses');

/** What is wrong with a name: `shape` (the schema refuses it too, as E_SCHEMA) or `reserved` (E_RESERVED_NAME). */
export interface NameProblem {
  readonly kind: 'shape' | 'reserved';
  readonly reason: string;
}

export function serviceNameProblem(name: string): NameProblem | undefined {
  const shape = shapeProblem(name, SERVICE_NAME_MAX_LENGTH);
  if (shape !== undefined) return { kind: 'shape', reason: shape };
  const reserved = reservedNameReason(name);
  return reserved === undefined ? undefined : { kind: 'reserved', reason: reserved };
}

/** The timer's own name, then the units it makes: `<service>-<timer>` must not be a system unit either. */
export function timerNameProblem(service: string, timer: string): NameProblem | undefined {
  const shape = shapeProblem(timer, TIMER_NAME_MAX_LENGTH);
  if (shape !== undefined) return { kind: 'shape', reason: shape };
  const unit = `${service}-${timer}`;
  const reserved = reservedNameReason(unit);
  return reserved === undefined ? undefined : { kind: 'reserved', reason: `its units ${unit}.timer and ${unit}.service: ${reserved}` };
}

/** A unit tend may pass to systemctl: a service's or a timer's, `.service` or `.timer`. */
export function isTendUnitName(unit: string): boolean {
  const match = /^(.*)\.(service|timer)$/.exec(unit);
  const base = match?.[1];
  return base !== undefined && NAME_SHAPE.test(base) && base.length <= SERVICE_NAME_MAX_LENGTH + 1 + TIMER_NAME_MAX_LENGTH;
}

function shapeProblem(name: string, maxLength: number): string | undefined {
  if (!NAME_SHAPE.test(name)) return 'must be lowercase letters, digits and dashes, starting with a letter';
  return name.length <= maxLength ? undefined : `must be at most ${maxLength} characters (it has ${name.length})`;
}

/*
 * Service names tend refuses because `<name>.service` in /etc/systemd/system would shadow a unit the host
 * itself depends on (a service called `ssh` would replace sshd's unit and lock everyone out). Application
 * names such as nginx are not listed: overriding a package's own unit is a legitimate use of `run.package`.
 */
const RESERVED_EXACT = new Set([
  'anacron', 'apt-daily', 'apt-daily-upgrade', 'atd', 'auditd', 'autovt', 'basic', 'chrony', 'chronyd',
  'cloud-config', 'cloud-final', 'cloud-init', 'cloud-init-local', 'console-getty', 'console-setup',
  'container-getty', 'cron', 'crond', 'ctrl-alt-del', 'dbus', 'dbus-broker', 'default', 'dpkg-db-backup',
  'e2scrub-reap', 'emergency', 'exit', 'final', 'fstrim', 'getty', 'getty-pre', 'getty-static', 'graphical',
  'halt', 'ifup', 'ifupdown-pre', 'init', 'initrd', 'journald', 'kexec', 'keyboard-setup', 'kmod',
  'kmod-static-nodes', 'local-fs', 'local-fs-pre', 'logind', 'logrotate', 'machine', 'machines', 'man-db',
  'multi-user', 'network', 'network-online', 'network-pre', 'networking', 'nss-lookup', 'nss-user-lookup',
  'ntp', 'ntpd', 'polkit', 'poweroff', 'procps', 'reboot', 'remote-fs', 'remote-fs-pre', 'rescue',
  'resolvconf', 'rpcbind', 'rsyslog', 'serial-getty', 'shutdown', 'sigpwr', 'slices', 'sockets', 'ssh',
  'sshd', 'sudo', 'swap', 'sysinit', 'syslog', 'system', 'systemd', 'tend', 'time-set', 'time-sync',
  'timers', 'udev', 'umount', 'unattended-upgrades', 'user', 'paths', 'login',
]);

const RESERVED_PREFIXES = ['systemd-', 'tend-', 'dbus-', 'getty-', 'user-runtime-'];

/** Why the unit name (without suffix) is reserved, or undefined when tend may use it. */
function reservedNameReason(name: string): string | undefined {
  if (RESERVED_EXACT.has(name)) return `\`${name}\` is the name of a system unit`;
  const prefix = RESERVED_PREFIXES.find((candidate) => name.startsWith(candidate));
  return prefix === undefined ? undefined : `names starting with \`${prefix}\` belong to system units`;
}
