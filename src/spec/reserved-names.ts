/**
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

/** Why the name is reserved, or undefined when a service may use it. */
export function reservedNameReason(name: string): string | undefined {
  if (RESERVED_EXACT.has(name)) return `\`${name}\` is the name of a system unit`;
  const prefix = RESERVED_PREFIXES.find((candidate) => name.startsWith(candidate));
  return prefix === undefined ? undefined : `names starting with \`${prefix}\` belong to system units`;
}
