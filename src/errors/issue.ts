import type { ErrorCode } from './codes.js';
import type { FileLocation } from './tend-error.js';

/**
 * One problem found while loading a commit. Validation collects every issue instead of throwing at the
 * first, so a developer sees all of them in one run of `tend validate`.
 */
export interface Issue extends FileLocation {
  /** Stable code, for example `E_SCHEMA` or `E_AFTER_CYCLE`. */
  readonly code: ErrorCode;
  readonly message: string;
  readonly hint?: string;
}

/** `path:line:col: message (code)`: the one line format of every validation error. */
export function formatIssue(issue: Issue): string {
  return `${issue.file}:${issue.line}:${issue.col}: ${issue.message} (${issue.code})`;
}

/** Stable order: by file, then position, then code, so output and tests do not depend on check order. */
export function sortIssues(issues: readonly Issue[]): Issue[] {
  return [...issues].sort(
    (a, b) =>
      a.file.localeCompare(b.file) || a.line - b.line || a.col - b.col || a.code.localeCompare(b.code),
  );
}
