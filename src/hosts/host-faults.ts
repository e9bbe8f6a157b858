import { TendError } from '../errors/index.js';

/**
 * Faults a host reports about itself rather than about the command: `sudo` refusing to run it, and a full
 * filesystem. Retrying either changes nothing until a person acts on the host, so both are class
 * `conflict` with their own code, recognised here from the host's own words (sudo 1.9 and GNU coreutils
 * print them untranslated under the C locale sshd gives a non-interactive command, and the `strerror`
 * text of ENOSPC is the same in every libc tend meets).
 */

/**
 * What sudo prints when it will not run a command: `-n` forbids asking for the password it needs, the
 * user has no rule for the command, or the host requires a terminal. A shell that has no sudo at all says
 * `sudo: not found` (exit 127). Matched by line start so that a command's own output is not mistaken.
 */
const SUDO_REFUSALS: readonly RegExp[] = [
  /^sudo: a password is required$/m,
  /^sudo: a terminal is required to read the password.*$/m,
  /^sudo: sorry, you must have a tty to run sudo$/m,
  /^Sorry, user \S+ is not allowed to execute .*$/m,
  /^(?:sudo: )?\S+ is not in the sudoers file\..*$/m,
];
const SUDO_MISSING = /^.*\bsudo: (?:command )?not found$/m;

/** sudo exits 1 when it refuses; a shell without sudo exits 127. */
const SUDO_REFUSED_EXIT = 1;
const COMMAND_NOT_FOUND_EXIT = 127;

/** The line in which sudo refused, for a command that went through `sudo -n` and exited as sudo does. */
export function sudoRefusal(exitCode: number, stderr: string): string | undefined {
  if (exitCode === COMMAND_NOT_FOUND_EXIT) return SUDO_MISSING.exec(stderr)?.[0];
  if (exitCode !== SUDO_REFUSED_EXIT) return undefined;
  for (const refusal of SUDO_REFUSALS) {
    const line = refusal.exec(stderr)?.[0];
    if (line !== undefined) return line.trim();
  }
  return undefined;
}

export function sudoRefusedError(host: string, user: string, command: string, line: string): TendError {
  const missing = SUDO_MISSING.test(line);
  return new TendError('E_SUDO_REFUSED', 'conflict', `${host}: sudo refused to run \`${command}\` as root for ${user}: ${line}`, {
    where: { host, command },
    hint: missing
      ? `tend runs its commands as root through \`sudo -n\` when the inventory's user is not root. Install sudo on ${host} ` +
        `and allow ${user} without a password ("${user} ALL=(root) NOPASSWD: ALL" in /etc/sudoers.d/tend), or use user: root; then \`tend retry\`.`
      : `tend runs its commands as root through \`sudo -n\` (it never types a password). On ${host}, allow ${user} without a password: ` +
        `"${user} ALL=(root) NOPASSWD: ALL" in /etc/sudoers.d/tend (edit it with \`visudo -f /etc/sudoers.d/tend\`), or NOPASSWD rules ` +
        'for the exact commands tend runs (each goes through /usr/bin/timeout, so a narrower rule must allow that); then `tend retry`. ' +
        'tend does not retry on its own.',
  });
}

/** ENOSPC, and EDQUOT: a user's quota is full, which a person fixes the same way. */
const NO_SPACE = /^.*(?:No space left on device|Disk quota exceeded).*$/m;

/** The host's line saying its disk is full (`cat: write error: No space left on device`), if any. */
export function noSpaceLine(output: string): string | undefined {
  return NO_SPACE.exec(output)?.[0]?.trim();
}

/**
 * `place` is the directory that could not be written when the caller knows it: the message then reads
 * `web-1: /var/lib/tend/releases/api: cat: write error: No space left on device`.
 */
export function diskFullError(host: string, command: string, hostMessage: string, place: string | undefined, cause?: unknown): TendError {
  return new TendError('E_HOST_DISK_FULL', 'conflict', `${host}: ${place === undefined ? '' : `${place}: `}${hostMessage}`, {
    where: { host, command },
    hint:
      `Free space on ${host}${place === undefined ? '' : ` in the filesystem of ${place}`} (\`df -h\`; old releases are under ` +
      '/var/lib/tend/releases), then `tend retry`. Nothing new was started there; tend does not retry on its own.',
    cause,
  });
}
