import { formatIssue, type Issue } from '../errors/index.js';
import { directoryReader, loadRepo, type RepoReader } from '../spec/index.js';
import type { RepoSpec } from '../spec/model.js';
import type { Terminal } from './command.js';
import { displayPath, type RepoArgument } from './repo-argument.js';

/** Exit code of every command whose input repo is invalid. */
export const EXIT_INVALID = 1;

export function locatedIssue(repo: RepoArgument, issue: Issue): Issue {
  return { ...issue, file: displayPath(repo, issue.file) };
}

export function printIssues(terminal: Terminal, issues: readonly Issue[]): void {
  for (const issue of issues) {
    terminal.err(`${formatIssue(issue)}\n`);
    if (issue.hint !== undefined) terminal.err(`  hint: ${issue.hint}\n`);
  }
  const files = new Set(issues.map((issue) => issue.file)).size;
  terminal.err(
    `${issues.length} ${issues.length === 1 ? 'error' : 'errors'} in ${files} ${files === 1 ? 'file' : 'files'}; nothing was applied.\n`,
  );
}

/**
 * Loads the repo for a command that needs a valid one; an invalid repo is reported (as JSON under `--json`)
 * and the command ends with EXIT_INVALID.
 */
export async function loadValidRepo(
  terminal: Terminal,
  repo: RepoArgument,
  json: boolean,
): Promise<{ ok: true; spec: RepoSpec; reader: RepoReader } | { ok: false; exitCode: number }> {
  const reader = directoryReader(repo.absolute);
  const result = await loadRepo(reader);
  if (result.ok) {
    for (const warning of result.warnings) terminal.err(`warning: ${formatIssue(locatedIssue(repo, warning))}\n`);
    return { ok: true, spec: result.repo, reader };
  }
  return { ok: false, exitCode: reportInvalidRepo(terminal, repo, result.issues, json) };
}

/**
 * Every issue of an invalid repo; returns EXIT_INVALID. For a person, located as they named the repo, so an
 * editor can jump to it; under `--json`, relative to the repo root, so a script reads the same output from
 * any working directory, with the summary `tend validate --json` documents.
 */
export function reportInvalidRepo(terminal: Terminal, repo: RepoArgument, issues: readonly Issue[], json: boolean): number {
  if (json) {
    const summary = { errors: issues.length, files: new Set(issues.map((issue) => issue.file)).size };
    terminal.out(`${JSON.stringify({ ok: false, summary, issues }, null, 2)}\n`);
  } else {
    printIssues(terminal, issues.map((issue) => locatedIssue(repo, issue)));
  }
  return EXIT_INVALID;
}
