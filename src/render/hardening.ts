import { InternalError } from '../errors/index.js';
import type { ServiceSpec, UnitDirectories } from '../spec/model.js';
import type { Setting } from './unit-syntax.js';

/**
 * The sandbox every tend unit runs in. The aim is what a plain network service or batch job works with
 * unchanged: it reads its own files and the OS, listens on TCP, writes only its StateDirectory and /tmp.
 *
 * - DynamicUser=yes with User=<service>: no root, no account to create on the host, and the service
 *   and its timers' jobs share one uid (same User= name), so a job can read and write the state the
 *   service keeps. Without User= each unit would get its own uid and systemd would chown the state
 *   directory back and forth between them.
 * - A spec's `unit.user` replaces that with a fixed account (User=, and Group= if given, no
 *   DynamicUser=): for a service that must own files outside its directories, or share them with
 *   another program. tend does not create the account; it must exist on the host (see the README).
 * - StateDirectory=<service> (or the spec's unit.directories.state): the persistent writable place,
 *   /var/lib/<name> (kept across releases, passed as $STATE_DIRECTORY); likewise Cache-, Logs-,
 *   Runtime- and ConfigurationDirectory= when the spec asks, owned by the service's user.
 * - ProtectSystem=strict, ProtectHome=yes, PrivateTmp=yes: the rest of the file system is read-only or
 *   hidden, except the spec's unit.read_write_paths; /tmp is private and emptied on stop.
 * - NoNewPrivileges, RestrictSUIDSGID, CapabilityBoundingSet: no way back to privileges, except the
 *   spec's unit.capabilities, and CAP_NET_BIND_SERVICE when it declares a port below 1024 (the only
 *   reason a web service needs one); they are ambient, so an unprivileged user holds them.
 * - PrivateDevices, ProtectKernel*, ProtectControlGroups, RestrictNamespaces, RestrictRealtime,
 *   LockPersonality, SystemCallArchitectures, SystemCallFilter=@system-service: the kernel surface a
 *   service has no business with. @system-service is systemd's own list for ordinary services.
 * - RestrictAddressFamilies keeps AF_NETLINK because glibc's getaddrinfo(AI_ADDRCONFIG) and interface
 *   listing use it; raw and packet sockets are out.
 * - Left out on purpose: MemoryDenyWriteExecute (breaks every JIT: Node, the JVM, LuaJIT),
 *   ProtectProc=invisible and ProtectClock (need kernel and container support we cannot assume), IP
 *   allow-lists (which hosts talk to which is the network's job, not a deploy tool's).
 */
const DIRECTORY_SETTINGS: readonly (readonly [kind: keyof UnitDirectories, setting: string])[] = [
  ['state', 'StateDirectory'],
  ['cache', 'CacheDirectory'],
  ['logs', 'LogsDirectory'],
  ['runtime', 'RuntimeDirectory'],
  ['configuration', 'ConfigurationDirectory'],
];

/** A list setting: space-separated, so a value with a blank would split into two (the loader refuses those). */
function listValue(values: readonly string[], what: string): string {
  if (values.some((value) => value === '' || /[\s\p{Cc}"'\\%]/u.test(value))) throw new InternalError(`${what} has a value the loader should have refused`);
  return values.join(' ');
}

function identitySettings(service: ServiceSpec): Setting[] {
  const { user, group } = service.unit;
  if (user === undefined) {
    return [
      ['DynamicUser', 'yes'],
      ['User', service.name],
    ];
  }
  return [['User', user], ...(group === undefined ? [] : ([['Group', group]] as const))];
}

export function hardeningSettings(service: ServiceSpec): Setting[] {
  const { unit } = service;
  const capabilities = [...new Set([...unit.capabilities, ...(service.ports.some((port) => port < 1024) ? ['CAP_NET_BIND_SERVICE'] : [])])].sort();
  const directories = DIRECTORY_SETTINGS.filter(([kind]) => unit.directories[kind].length > 0).map(
    ([kind, setting]): Setting => [setting, listValue(unit.directories[kind], `${setting} of ${service.name}`)],
  );
  return [
    ...identitySettings(service),
    ...directories,
    ...(unit.readWritePaths.length > 0 ? ([['ReadWritePaths', listValue(unit.readWritePaths, `ReadWritePaths of ${service.name}`)]] as const) : []),
    ['UMask', '0077'],
    ['NoNewPrivileges', 'yes'],
    ['RestrictSUIDSGID', 'yes'],
    ['CapabilityBoundingSet', listValue(capabilities, `capabilities of ${service.name}`)],
    ...(capabilities.length > 0 ? ([['AmbientCapabilities', capabilities.join(' ')]] as const) : []),
    ['ProtectSystem', 'strict'],
    ['ProtectHome', 'yes'],
    ['PrivateTmp', 'yes'],
    ['PrivateDevices', 'yes'],
    ['ProtectKernelTunables', 'yes'],
    ['ProtectKernelModules', 'yes'],
    ['ProtectKernelLogs', 'yes'],
    ['ProtectControlGroups', 'yes'],
    ['RestrictNamespaces', 'yes'],
    ['RestrictRealtime', 'yes'],
    ['LockPersonality', 'yes'],
    ['RestrictAddressFamilies', 'AF_UNIX AF_INET AF_INET6 AF_NETLINK'],
    ['SystemCallArchitectures', 'native'],
    ['SystemCallFilter', '@system-service'],
  ];
}

/** Directives about the service's own start and stop; a timer's oneshot job keeps systemd's defaults for them. */
const LIFECYCLE_DIRECTIVES: ReadonlySet<string> = new Set(['TimeoutStartSec', 'RestartSec', 'KillMode']);

/**
 * The [Service] settings with the spec's unit.directives applied: a directive tend also writes (UMask=,
 * RestartSec=) replaces tend's line where it stands, so the file has one line per setting; the others
 * follow at the end in name order. `job` leaves out the directives about the service's lifecycle.
 */
export function withDirectives(settings: readonly Setting[], service: ServiceSpec, job: boolean): Setting[] {
  const directives = new Map(service.unit.directives.filter(([name]) => !(job && LIFECYCLE_DIRECTIVES.has(name))));
  const merged = settings.map(([name, value]): Setting => {
    const replacement = directives.get(name);
    if (replacement === undefined) return [name, value];
    directives.delete(name);
    return [name, replacement];
  });
  return [...merged, ...directives];
}
