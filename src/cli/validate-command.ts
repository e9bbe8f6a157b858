import { formatIssue, type Issue } from '../errors/index.js';
import { directoryReader, loadRepo } from '../spec/index.js';
import type { Command } from './command.js';
import { displayPath, resolveRepoArgument, type RepoArgument } from './repo-argument.js';

const EXIT_VALID = 0;
const EXIT_INVALID = 1;

function located(repo: RepoArgument, issue: Issue): Issue {
  return { ...issue, file: displayPath(repo, issue.file) };
}

export const validateCommand: Command = {
  name: 'validate',
  summary: 'Check a deploy repo: every file, every rule, all errors at once.',
  usage: 'tend validate [--json] [DIR]',
  description:
    'Loads the deploy repo in DIR (default: the current directory) as tend would load a commit: YAML with\n' +
    'positions, the JSON Schemas, then the rules across files (groups, `after:` cycles, port clashes, probe\n' +
    'timings). Prints every problem as `file:line:col: message (code)` with a hint. Touches no host.',
  options: {
    json: { type: 'boolean', description: 'Print the result as JSON: { ok, summary, issues[] }.' },
  },
  exitCodes: [
    [EXIT_VALID, 'the repo is valid'],
    [EXIT_INVALID, 'the repo is invalid (every problem is printed)'],
    [2, 'usage error (unknown option, DIR is not a directory)'],
  ],
  maxPositionals: 1,
  async run({ terminal, values, positionals }) {
    const repo = await resolveRepoArgument(positionals[0], terminal.cwd);
    const result = await loadRepo(directoryReader(repo.absolute));
    if (!result.ok) {
      const issues = result.issues.map((issue) => located(repo, issue));
      if (values['json'] === true) {
        terminal.out(`${JSON.stringify({ ok: false, issues }, null, 2)}\n`);
      } else {
        for (const issue of issues) {
          terminal.err(`${formatIssue(issue)}\n`);
          if (issue.hint !== undefined) terminal.err(`  hint: ${issue.hint}\n`);
        }
        const files = new Set(issues.map((issue) => issue.file)).size;
        terminal.err(`${issues.length} ${issues.length === 1 ? 'error' : 'errors'} in ${files} ${files === 1 ? 'file' : 'files'}; nothing was applied.\n`);
      }
      return EXIT_INVALID;
    }
    const { repo: spec, warnings } = result;
    const summary = {
      services: spec.services.length,
      hosts: spec.inventory.hosts.length,
      groups: spec.inventory.groups.size,
    };
    if (values['json'] === true) {
      terminal.out(`${JSON.stringify({ ok: true, summary, issues: warnings.map((w) => located(repo, w)) }, null, 2)}\n`);
    } else {
      for (const warning of warnings) terminal.err(`warning: ${formatIssue(located(repo, warning))}\n`);
      terminal.out(
        `${repo.display === '' ? '.' : repo.display}: valid (${summary.services} services, ${summary.hosts} hosts, ${summary.groups} groups)\n`,
      );
    }
    return EXIT_VALID;
  },
};
