import { InternalError } from '../errors/index.js';

/**
 * Quoting for the remote POSIX shell. sshd hands the command to the login user's shell as one string, so
 * argv must be turned into shell text exactly once, here. Every word is single-quoted: inside single quotes
 * a POSIX shell interprets nothing, so `$(...)`, backquotes, `;`, globs and newlines stay literal. The only
 * character that cannot appear inside single quotes is `'` itself, written as `'\''` (close, escaped quote,
 * reopen).
 */
export function quoteWord(word: string): string {
  // A NUL byte cannot be carried in a C string argv on the host: the word would be silently cut there.
  if (word.includes('\0')) throw new InternalError('a remote command word contains a NUL byte');
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/** argv -> shell text, every word quoted: no word is ever interpreted by the remote shell. */
export function quoteArgv(argv: readonly string[]): string {
  if (argv.length === 0) throw new InternalError('a remote command needs at least one word');
  return argv.map(quoteWord).join(' ');
}

/**
 * The shell text for argv as `user` runs it, bounded on the host by coreutils `timeout`. A non-root user
 * goes through `sudo -n`: never a password prompt, which would hang a channel with no terminal until the
 * timeout. `--` keeps sudo from reading the command's own options as its own.
 *
 * Why `timeout` on the host: closing an SSH channel leaves a command without a terminal running, and
 * sshd ignores signal requests in root sessions (it runs them without privilege separation), so the client
 * alone cannot stop a root command. `timeout` runs inside sudo, as root, and kills the command's whole
 * process group (TERM, then KILL after `-k`). Its timer starts after the client's, so the client's timeout
 * always fires first and a command's own exit code 124 is never mistaken for a timeout.
 */
export function remoteCommandText(user: string, argv: readonly string[], sudo: boolean, timeoutMs?: number, journalMark?: string): string {
  const bounded = timeoutMs === undefined ? argv : ['timeout', '-k', REMOTE_KILL_AFTER, secondsText(timeoutMs), ...argv];
  const words = runsThroughSudo(user, sudo) ? ['sudo', '-n', '--', ...bounded] : bounded;
  // `;`, not `&&`: a host without logger still runs the command, and the command's exit status is the result.
  return journalMark === undefined ? quoteArgv(words) : `${quoteArgv(journalMarkArgv(journalMark))}; ${quoteArgv(words)}`;
}

/** The tag of tend's lines in a host's journal: `journalctl -t tend` shows who changed the host, and when. */
export const JOURNAL_TAG = 'tend';

/**
 * One line in the host's journal, as the SSH user (journald takes anyone's syslog lines). Control characters
 * would split the line or forge another, so they are shown as `?`.
 */
export function journalMarkArgv(text: string): string[] {
  return ['logger', '-t', JOURNAL_TAG, '--', text.replace(/[\u0000-\u001f\u007f]/g, '?')];
}

/** Whether a command asked to run as root goes through `sudo -n`: it does unless the host's user is root. */
export function runsThroughSudo(user: string, sudo: boolean): boolean {
  return sudo && user !== 'root';
}

/** Seconds between the remote TERM and KILL. */
export const REMOTE_KILL_AFTER = '2';

function secondsText(ms: number): string {
  if (!Number.isFinite(ms) || ms <= 0) throw new InternalError(`invalid command timeout ${ms} ms`);
  return (Math.ceil(ms) / 1000).toFixed(3).replace(/\.?0+$/, '');
}
