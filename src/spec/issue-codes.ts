import type { ErrorCode, FileLocation, Issue } from '../errors/index.js';

/**
 * Every code `loadRepo` reports. What each means, its class and its hint are in the one registry of codes
 * (errors/codes.ts, documented in docs/errors.md); this list is the subset the loader may use, so a typo or
 * a runtime code cannot end up in a validation issue. `W_` codes are warnings and never block a rollout.
 */
export const SPEC_ISSUE_CODES = [
  'E_READ',
  'E_MISSING_FILE',
  'E_NOT_A_FILE',
  'E_SYMLINK',
  'E_FILE_TOO_LARGE',
  'E_EMPTY_FILE',
  'E_BINARY_FILE',
  'E_ENCODING',
  'E_CONTROL_CHAR',
  'E_YAML',
  'E_YAML_DUPLICATE_KEY',
  'E_YAML_MULTIPLE_DOCUMENTS',
  'E_YAML_DEPTH',
  'E_YAML_ALIAS',
  'E_YAML_TAG',
  'E_YAML_DIRECTIVE',
  'E_YAML_KEY',
  'E_FORBIDDEN_KEY',
  'E_SCHEMA',
  'E_RESERVED_NAME',
  'E_NAME_MISMATCH',
  'E_DUPLICATE_SERVICE',
  'E_DUPLICATE_TIMER',
  'E_UNKNOWN_GROUP',
  'E_UNKNOWN_HOST',
  'E_UNKNOWN_AFTER',
  'E_AFTER_CYCLE',
  'E_PORT_CLASH',
  'E_UNIT_CLASH',
  'E_DURATION',
  'E_SIZE',
  'E_PROBE_TIMING',
  'E_CRON',
  'E_CRON_UNSUPPORTED',
  'E_ENV_LINE',
  'E_ENV_KEY',
  'E_ENV_DUPLICATE',
  'E_ENV_VALUE',
  'E_ENV_SECRET',
  'E_ARTIFACT_MISSING',
  'E_ARTIFACT_PATH',
  'E_ARTIFACT_HASH',
  'E_HOST_KEY',
  'E_RUN_CONFLICT',
  'E_RUN_URL',
  'E_RUN_URL_INSECURE',
  'E_RUN_SHA256',
  'E_RUN_SHA256_MISSING',
  'E_RUN_FILE',
  'E_RUN_FETCH',
  'E_RUN_CREDENTIALS',
  'E_PACKAGE_NAME',
  'E_PACKAGE_VERSION',
  'E_APT_REPOSITORY',
  'E_APT_KEY',
  'E_COMMAND',
  'E_UNIT_USER',
  'E_UNIT_DIRECTORY',
  'E_UNIT_PATH',
  'E_UNIT_CAPABILITY',
  'E_UNIT_DIRECTIVE',
  'E_UNIT_DIRECTIVE_VALUE',
  'E_HOST_VAR',
  'E_HOST_VAR_MISSING',
  'W_EMPTY_GROUP',
] as const satisfies readonly ErrorCode[];

export type SpecIssueCode = (typeof SPEC_ISSUE_CODES)[number];

export function specIssue(code: SpecIssueCode, at: FileLocation, message: string, hint?: string): Issue {
  const base = { file: at.file, line: at.line, col: at.col, code, message };
  return hint === undefined ? base : { ...base, hint };
}

/** Where file-level problems (missing, too large, symlink) point: the start of the file. */
export function fileStart(file: string): FileLocation {
  return { file, line: 1, col: 1 };
}
