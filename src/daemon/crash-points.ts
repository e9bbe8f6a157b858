/**
 * Named points where the crash-safety tests kill tend with SIGKILL, the way a power cut or the OOM killer
 * would: no cleanup, no finally blocks. Only `TEND_TEST_CRASH_AT` turns one on; without it this is a no-op.
 * Rollout phases (`stage`, `write`, `reload`, `switch`, `restart`, `probe`, `healthy`) fire when that phase
 * of a host step begins, so `write` means "after the upload, before any unit file is written".
 *
 * What the journal holds at each point, and what that write protects (tested point by point in
 * test/unit/daemon/reconciler.test.ts and, with real processes and hosts, in test/e2e/daemon.test.ts):
 *
 * | point                 | journal on disk                                         | what a restarted tend does                                           |
 * | --------------------- | ------------------------------------------------------- | -------------------------------------------------------------------- |
 * | stage..restart        | inFlight `rolling` at the head, with the planned hosts  | re-observes; hosts not yet changed are planned as before             |
 * | probe                 | the same, plus `runs`: the new run's InvocationID and   | judges that same run from its recorded start (`judgeRun`), so        |
 * |                       | restart time, once the run has been seen                | healthy_deadline does not restart with tend; an unseen run restarts  |
 * | healthy               | `verified` lists the hosts already seen healthy         | does not restart or re-probe them                                    |
 * | after-known-bad       | knownBad[bad] and inFlight `reverting` with evidence    | finishes the revert from the recorded evidence; never rolls out again |
 * | after-revert-commit   | the same (the commit exists only in tend's clone)       | writes the same revert again and pushes it                           |
 * | after-push            | the same; git has the revert                            | sees `This reverts commit` in history: the bad commit is not reverted |
 * |                       |                                                         | twice, and the revert head rolls out                                 |
 * | rollback-probe        | inFlight `rolling` at the revert, knownBad `revertedBy` | goes on rolling back; a failing rollback is E_ROLLBACK_FAILED        |
 *
 * The retry budget (`retries`) and every service's condition are in the same journal, so a restart
 * neither starts a new budget nor shows an empty status.
 */
export type CrashPoint =
  | 'stage'
  | 'write'
  | 'reload'
  | 'switch'
  | 'restart'
  | 'probe'
  | 'healthy'
  | 'after-known-bad'
  | 'after-revert-commit'
  | 'after-push'
  | 'rollback-probe';

export const CRASH_POINT_ENV = 'TEND_TEST_CRASH_AT';

/**
 * Called at each point; `recorded`, when the event that reached the point queued a journal write (a run
 * seen at `probe`, a host verified at `healthy`), resolves once that write is on disk.
 */
export type CrashHook = (point: CrashPoint, recorded?: Promise<void>) => void;

export function crashPointFromEnv(env: NodeJS.ProcessEnv): CrashHook {
  const wanted = env[CRASH_POINT_ENV];
  if (wanted === undefined || wanted === '') return () => undefined;
  const kill = (point: CrashPoint): void => {
    process.stderr.write(`tend: ${CRASH_POINT_ENV}=${point}: killing myself with SIGKILL\n`);
    process.kill(process.pid, 'SIGKILL');
  };
  return (point, recorded) => {
    if (point !== wanted) return;
    // The table above says what the journal holds at each point: a kill at `probe` or `healthy` comes once
    // the run or the verified host is written, as a kill a moment later would. Others kill at once, before
    // the phase's first command.
    if (recorded === undefined) kill(point);
    else void recorded.then(() => kill(point), () => kill(point));
  };
}
