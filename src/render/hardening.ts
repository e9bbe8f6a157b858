import type { ServiceSpec } from '../spec/model.js';
import type { Setting } from './unit-syntax.js';

/**
 * The sandbox every tend unit runs in. The aim is what a plain network service or batch job works with
 * unchanged: it reads its own files and the OS, listens on TCP, writes only its StateDirectory and /tmp.
 *
 * - DynamicUser=yes with User=<service>: no root, no account to create on the host, and the service
 *   and its timers' jobs share one uid (same User= name), so a job can read and write the state the
 *   service keeps. Without User= each unit would get its own uid and systemd would chown the state
 *   directory back and forth between them.
 * - StateDirectory=<service>: the one persistent writable place, /var/lib/<service> (kept across
 *   releases, passed as $STATE_DIRECTORY).
 * - ProtectSystem=strict, ProtectHome=yes, PrivateTmp=yes: the rest of the file system is read-only or
 *   hidden; /tmp is private and emptied on stop.
 * - NoNewPrivileges, RestrictSUIDSGID, CapabilityBoundingSet: no way back to privileges, except
 *   CAP_NET_BIND_SERVICE when the spec declares a port below 1024 (the only reason a web service needs one).
 * - PrivateDevices, ProtectKernel*, ProtectControlGroups, RestrictNamespaces, RestrictRealtime,
 *   LockPersonality, SystemCallArchitectures, SystemCallFilter=@system-service: the kernel surface a
 *   service has no business with. @system-service is systemd's own list for ordinary services.
 * - RestrictAddressFamilies keeps AF_NETLINK because glibc's getaddrinfo(AI_ADDRCONFIG) and interface
 *   listing use it; raw and packet sockets are out.
 * - Left out on purpose: MemoryDenyWriteExecute (breaks every JIT: Node, the JVM, LuaJIT),
 *   ProtectProc=invisible and ProtectClock (need kernel and container support we cannot assume), IP
 *   allow-lists (which hosts talk to which is the network's job, not a deploy tool's).
 */
export function hardeningSettings(service: ServiceSpec): Setting[] {
  const privilegedPort = service.ports.some((port) => port < 1024);
  return [
    ['DynamicUser', 'yes'],
    ['User', service.name],
    ['StateDirectory', service.name],
    ['UMask', '0077'],
    ['NoNewPrivileges', 'yes'],
    ['RestrictSUIDSGID', 'yes'],
    ['CapabilityBoundingSet', privilegedPort ? 'CAP_NET_BIND_SERVICE' : ''],
    ...(privilegedPort ? ([['AmbientCapabilities', 'CAP_NET_BIND_SERVICE']] as const) : []),
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
