import type { ParseArgsConfig } from 'node:util';

/** What a command may print to; tests pass their own. */
export interface Terminal {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
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
  /** `code  meaning` lines of the exit-code table in `--help`. */
  readonly exitCodes: readonly (readonly [number, string])[];
  readonly maxPositionals: number;
  readonly run: (context: CommandContext) => Promise<number>;
}

/** Exit code of a command line that could not be understood. */
export const EXIT_USAGE = 2;
