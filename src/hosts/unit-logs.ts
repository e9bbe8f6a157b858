import { InternalError } from '../errors/index.js';

export interface UnitLogsOptions {
  /** journalctl's `--since` as given (`2h ago`, `2026-12-03 10:00`, `today`): journalctl judges it. */
  readonly since?: string | undefined;
  readonly follow: boolean;
}

/**
 * $@ is the journalctl argv. Run in the background with stdin from /dev/null, it is killed when the
 * command's own stdin (the SSH channel) reaches EOF: that is how `tend logs` ends it on Ctrl-C. A
 * signal over SSH would not do (sshd ignores signal requests in root sessions), and a channel closed
 * under a follower that prints nothing would leave it running until its timeout. Killed on purpose
 * (TERM, 143) is a clean end: exit 0.
 */
export const STOP_ON_EOF_SCRIPT = [
  'exec 3<&0 </dev/null',
  '"$@" & pid=$!',
  '{ cat <&3 >/dev/null 2>&1; kill "$pid" 2>/dev/null; } >/dev/null 2>&1 &',
  'exec 3<&-',
  'wait "$pid"; status=$?',
  '[ "$status" -eq 143 ] && exit 0',
  'exit "$status"',
].join('\n');

/**
 * The argv of `tend logs` on one host: `journalctl -u <unit> --no-pager -o short-iso`, with `--since` and
 * `--follow` as asked, under STOP_ON_EOF_SCRIPT so that closing its stdin ends it (a follower, or a long
 * read of a big journal, on Ctrl-C); run it with the pool's `stopWhen`.
 */
export function unitLogsArgv(unit: string, options: UnitLogsOptions): string[] {
  if (!/^[A-Za-z0-9_.@:-]{1,200}$/.test(unit)) throw new InternalError(`invalid unit name ${JSON.stringify(unit)}`);
  const journalctl = [
    'journalctl',
    '-u',
    unit,
    '--no-pager',
    '-o',
    'short-iso',
    ...(options.since === undefined ? [] : [`--since=${options.since}`]),
    ...(options.follow ? ['--follow'] : []),
  ];
  return ['sh', '-c', STOP_ON_EOF_SCRIPT, 'tend-logs', ...journalctl];
}
