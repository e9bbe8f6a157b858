import type { ParseArgsConfig } from 'node:util';

/** What a command may print to; tests pass their own. */
export interface Terminal {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  /**
   * Aborted once stdout can no longer be written (its reader is gone, as after `| head -1`). What runs
   * only to print, such as `logs -f`, ends then; a rollout goes on with its output dropped.
   */
  readonly outClosed: AbortSignal;
  /** Colour and live progress only on a terminal. */
  readonly isTTY: boolean;
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
}

export type OptionSpec = NonNullable<ParseArgsConfig['options']>[string] & { readonly description: string; readonly valueName?: string };

export interface CommandContext {
  readonly terminal: Terminal;
  readonly values: Readonly<Record<string, string | boolean | (string | boolean)[] | undefined>>;
  readonly positionals: readonly string[];
}

export interface Command {
  readonly name: string;
  /** `tend validate [DIR]` */
  readonly usage: string;
  /** Paragraphs shown by `tend COMMAND --help` after the usage line. */
  readonly description: string;
  readonly options: Readonly<Record<string, OptionSpec>>;
  /** `code  meaning` lines of the exit-code table in `--help`, the usage code among them. */
  readonly exitCodes: readonly (readonly [number, string])[];
  /** Exit code of a command line this command cannot understand: EXIT_USAGE unless 2 is one of its verdicts. */
  readonly usageExitCode: number;
  readonly maxPositionals: number;
  readonly run: (context: CommandContext) => Promise<number>;
}

/** Exit code of a command line that could not be understood (`tend` alone, an unknown command, most commands). */
export const EXIT_USAGE = 2;
