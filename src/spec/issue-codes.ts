import type { FileLocation, Issue } from '../errors/index.js';

/**
 * Every code `loadRepo` reports, with what it means. Codes are stable: scripts and alerts match on them.
 * `E_` codes make the commit invalid; `W_` codes are warnings and never block a rollout.
 */
export const SPEC_ISSUE_CODES = {
  E_READ: 'A file or directory of the commit could not be read.',
  E_MISSING_FILE: 'A required file (inventory.yml, services/<name>/spec.yml) does not exist.',
  E_NOT_A_FILE: 'A path that must be a regular file (or directory) is something else.',
  E_SYMLINK: 'A spec, inventory, settings or artifact path is a symlink; tend reads only regular files.',
  E_FILE_TOO_LARGE: 'A YAML file or an artifact is larger than the limit.',
  E_EMPTY_FILE: 'A YAML file has no content.',
  E_BINARY_FILE: 'A YAML file contains a NUL byte.',
  E_ENCODING: 'A YAML file is not valid UTF-8.',
  E_CONTROL_CHAR: 'A YAML file contains a control character outside a quoted escape.',
  E_YAML: 'The YAML does not parse.',
  E_YAML_DUPLICATE_KEY: 'A mapping has the same key twice.',
  E_YAML_MULTIPLE_DOCUMENTS: 'A YAML file holds more than one document.',
  E_YAML_DEPTH: 'The YAML nests deeper than tend reads.',
  E_YAML_ALIAS: 'The YAML uses an anchor (&) or alias (*), which tend refuses.',
  E_YAML_TAG: 'The YAML uses a tag (!foo, !!js/function) outside the core schema.',
  E_YAML_DIRECTIVE: 'The YAML has a %YAML or %TAG directive.',
  E_YAML_KEY: 'A mapping key is not a plain scalar.',
  E_FORBIDDEN_KEY: 'A key is __proto__, constructor or prototype.',
  E_SCHEMA: 'A value does not match the JSON Schema of its file.',
  E_RESERVED_NAME: 'A service name, or the units of one of its timers, would clash with a system unit.',
  E_NAME_MISMATCH: 'service.name differs from the name of its folder under services/.',
  E_DUPLICATE_SERVICE: 'Two spec files declare the same service name.',
  E_DUPLICATE_TIMER: 'Two timers of one service have the same name.',
  E_UNKNOWN_GROUP: 'service.group is not a group of inventory.yml.',
  E_UNKNOWN_HOST: 'A group lists a host that inventory.yml does not declare.',
  E_UNKNOWN_AFTER: 'service.after names a service that does not exist.',
  E_AFTER_CYCLE: 'service.after entries form a cycle.',
  E_PORT_CLASH: 'Two services claim the same TCP port on one host.',
  E_UNIT_CLASH: 'Two units would get the same systemd unit name.',
  E_DURATION: 'A duration does not parse or is out of range.',
  E_SIZE: 'A size does not parse or is out of range.',
  E_PROBE_TIMING: 'min_healthy_time < healthy_deadline < progress_deadline does not hold.',
  E_CRON: 'A cron expression is invalid or never fires.',
  E_CRON_UNSUPPORTED: 'A timer schedule has no faithful systemd OnCalendar= equivalent.',
  E_ENV_LINE: 'A line of service.environments is not KEY=VALUE.',
  E_ENV_KEY: 'An environment key is not an identifier, or is one tend refuses (LD_*, PATH).',
  E_ENV_DUPLICATE: 'An environment key is set twice.',
  E_ENV_VALUE: 'An environment value contains a control character.',
  E_ENV_SECRET: 'A {{ secret }} reference is malformed.',
  E_ARTIFACT_MISSING: 'The artifact file does not exist in the service folder.',
  E_ARTIFACT_PATH: 'The artifact path leaves the service folder.',
  E_ARTIFACT_HASH: 'run.sha256 differs from the sha256 of the artifact file.',
  E_HOST_KEY: 'A host_key is not a valid OpenSSH public key.',
  E_COMMAND: 'A command (argv) is empty or malformed.',
  W_EMPTY_GROUP: 'A service deploys to a group without hosts.',
} as const;

export type SpecIssueCode = keyof typeof SPEC_ISSUE_CODES;

export function specIssue(code: SpecIssueCode, at: FileLocation, message: string, hint?: string): Issue {
  const base = { file: at.file, line: at.line, col: at.col, code, message };
  return hint === undefined ? base : { ...base, hint };
}

/** Where file-level problems (missing, too large, symlink) point: the start of the file. */
export function fileStart(file: string): FileLocation {
  return { file, line: 1, col: 1 };
}
