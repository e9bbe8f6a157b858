/**
 * Named points where the crash-safety tests kill tend with SIGKILL, the way a power cut or the OOM killer
 * would: no cleanup, no finally blocks. Only `TEND_TEST_CRASH_AT` turns one on; without it this is a no-op.
 * Rollout phases (`stage`, `write`, `reload`, `switch`, `restart`, `probe`, `healthy`) fire when that phase
 * of a host step begins, so `write` means "after the upload, before any unit file is written".
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

export function crashPointFromEnv(env: NodeJS.ProcessEnv): ((point: CrashPoint) => void) {
  const wanted = env[CRASH_POINT_ENV];
  if (wanted === undefined || wanted === '') return () => undefined;
  return (point) => {
    if (point !== wanted) return;
    process.stderr.write(`tend: ${CRASH_POINT_ENV}=${point}: killing myself with SIGKILL\n`);
    process.kill(process.pid, 'SIGKILL');
  };
}
