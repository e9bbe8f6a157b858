import { ensurePackages, type RequiredProgram } from '../support/debian-packages.js';

/**
 * Programs the unit tests run against the real thing, and their Debian packages: a fresh machine gets them
 * from apt-get here, once, before any test file starts. A missing one fails the run with the command to
 * install it; no test skips itself for a missing tool.
 */
const UNIT_PROGRAMS: readonly RequiredProgram[] = [
  // test/unit/hosts/ssh-loopback.test.ts: a real OpenSSH server on 127.0.0.1, keys made with ssh-keygen.
  ['/usr/sbin/sshd', 'openssh-server'],
  ['ssh-keygen', 'openssh-client'],
  // The same tests' user whose `sudo -n` asks for a password.
  ['sudo', 'sudo'],
  ['useradd', 'passwd'],
  // ... and a tiny full filesystem for "No space left on device".
  ['mount', 'mount'],
  // test/unit/render/systemd-verify.test.ts, test/unit/daemon/systemd-unit.test.ts, test/unit/spec/cron-schedule.test.ts.
  ['systemd-analyze', 'systemd'],
  // test/unit/rollback, test/unit/source: native git beside isomorphic-git.
  ['git', 'git'],
  // test/unit/observability/promtool.ts unpacks promtool from Debian's prometheus package with these.
  ['apt-get', 'apt'],
  ['dpkg', 'dpkg'],
  // test/unit/hosts/artifact-stage-tools.test.ts: the download tools a host may have.
  ['curl', 'curl'],
  ['wget', 'wget'],
  ['busybox', 'busybox'],
  // test/unit/leadership, test/unit/daemon/standby.test.ts: a real 3-member etcd cluster on loopback.
  ['/usr/bin/etcd', 'etcd-server'],
  // test/unit/api/status-page-browser.test.ts.
  ['/usr/bin/chromium', 'chromium'],
];

export async function setup(): Promise<void> {
  const installed = await ensurePackages(UNIT_PROGRAMS, (line) => process.stderr.write(`unit setup: ${line}\n`));
  if (installed.length > 0) process.stderr.write(`unit setup: installed ${installed.join(' ')}\n`);
}
