import { InternalError } from '../errors/index.js';

/**
 * Quoting for the two systemd parsers our files go through. Both rules are from systemd.service(5)
 * ("Command lines"), systemd.unit(5) ("Specifiers") and systemd.exec(5) (EnvironmentFile=), and are
 * checked against the real `systemd-analyze verify` in test/unit/render/systemd-verify.test.ts.
 */

/**
 * Control characters (C0, DEL, C1) and broken UTF-16. The loader rejects them in specs; a value that still
 * carries one here is tend's bug, because a newline in a unit or env file would start a new setting.
 */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
/** A lone surrogate: it would be written as U+FFFD, so the bytes on the host would not be the spec's. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export function assertRenderable(value: string, what: string): void {
  if (CONTROL.test(value)) throw new InternalError(`${what} contains a control character and cannot be rendered`);
  if (LONE_SURROGATE.test(value)) throw new InternalError(`${what} is not well-formed Unicode and cannot be rendered`);
}

/** Words that need no quotes in a command line: nothing systemd's word splitter or unescaper treats specially. */
const BARE_WORD = /^[A-Za-z0-9_@%+=:,./-]+$/;

/**
 * Characters that, leading the *first* word unquoted, are ExecStart= prefixes (`-` ignore failure, `@` argv0,
 * `:` no env expansion, `+`/`!` privileges). systemd checks them on the raw text, so quoting the word
 * disarms them.
 */
const EXEC_PREFIX = /^[-@:+!]/;

/**
 * `%` starts a specifier (`%n`, `%h`, ...) in every unit setting we write; `%%` is a literal percent.
 * Applied to free text (Description=, OnCalendar=) and to command-line words alike.
 */
export function escapeSpecifiers(value: string): string {
  return value.replaceAll('%', '%%');
}

/** A free-text unit setting value such as Description=: specifiers escaped, control characters refused. */
export function unitText(value: string, what: string): string {
  assertRenderable(value, what);
  return escapeSpecifiers(value);
}

/**
 * One word of an ExecStart= command line, so that systemd hands the program exactly `arg`:
 * - `%` -> `%%`: systemd resolves specifiers in each word after unquoting, so this holds inside quotes too;
 * - `$` -> `$$`: systemd expands `$VAR` and `${VAR}` from the environment at exec time;
 * - anything else unusual (space, quotes, backslash, `;`, `#`, non-ASCII, empty) goes in double quotes with
 *   `\` and `"` backslash-escaped: systemd applies C unescaping in words, and a bare `;` separates commands.
 */
export function execArg(arg: string, position: number): string {
  assertRenderable(arg, `command argument ${position}`);
  const escaped = escapeSpecifiers(arg).replaceAll('$', () => '$$');
  const bare = BARE_WORD.test(arg) && !(position === 0 && EXEC_PREFIX.test(arg));
  if (bare) return escaped;
  return `"${escaped.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** The value of ExecStart=: every argv word quoted on its own, joined by single spaces. */
export function execLine(argv: readonly string[]): string {
  if (argv.length === 0) throw new InternalError('a command line needs at least the program to run');
  return argv.map((arg, i) => execArg(arg, i)).join(' ');
}

/**
 * An EnvironmentFile= value: always double-quoted, with the four characters the env-file parser unescapes
 * inside double quotes (`\`, `"`, `` ` ``, `$`) backslash-escaped. Always quoting keeps leading and
 * trailing spaces, `#` and `'`, which the unquoted form would strip or treat as syntax. The parser does no
 * `$VAR` expansion, but escaping `$` keeps the file safe to `source` from a shell as well.
 */
export function envValue(value: string, what: string): string {
  assertRenderable(value, what);
  return `"${value.replace(/[\\"`$]/g, (c) => `\\${c}`)}"`;
}

/** Environment variable names systemd accepts in an env file (and a shell would too). */
const ENV_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function envKey(key: string): string {
  if (!ENV_KEY.test(key)) throw new InternalError(`environment variable name ${JSON.stringify(key)} cannot be rendered`);
  return key;
}
