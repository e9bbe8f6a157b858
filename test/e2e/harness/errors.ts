/**
 * Errors of the e2e harness. They are test infrastructure, not part of tend's taxonomy, but follow the same
 * habit: a stable code, a message naming what failed, and a hint saying what to do about it.
 */
export type HarnessErrorCode =
  | 'E_HARNESS_NOT_ROOT'
  | 'E_HARNESS_UNSUPPORTED'
  | 'E_HARNESS_PACKAGES'
  | 'E_HARNESS_ROOTFS'
  | 'E_HARNESS_COMMAND'
  | 'E_HARNESS_HOST_BOOT'
  | 'E_HARNESS_HOST_UNKNOWN'
  | 'E_HARNESS_LOCKED'
  | 'E_HARNESS_USAGE'
  | 'E_HARNESS_GIT';

export class HarnessError extends Error {
  readonly code: HarnessErrorCode;
  readonly hint: string;

  constructor(code: HarnessErrorCode, message: string, hint: string, options?: { cause?: unknown }) {
    // The hint goes into the message too: vitest and the CLI print `message`, and the hint is the useful part.
    super(`${message}\n  hint: ${hint}`, options);
    this.name = 'HarnessError';
    this.code = code;
    this.hint = hint;
  }
}

/** A command the harness ran on this machine exited non-zero (or could not be started). */
export class CommandFailedError extends HarnessError {
  readonly command: readonly string[];
  readonly exitCode: number | null;
  readonly stderr: string;

  constructor(command: readonly string[], exitCode: number | null, stderr: string, cause?: unknown) {
    const tail = stderr.trim().split('\n').slice(-15).join('\n');
    super(
      'E_HARNESS_COMMAND',
      `\`${command.join(' ')}\` failed (exit ${exitCode ?? 'none'})${tail === '' ? '' : `:\n${tail}`}`,
      'run the command by hand to see the full output; `npx tsx test/e2e/harness/cli.ts down` resets the hosts',
      { cause },
    );
    this.name = 'CommandFailedError';
    this.command = command;
    this.exitCode = exitCode;
    this.stderr = stderr;
  }
}
