import { directoryReader, loadRepo } from '../spec/index.js';
import { EXIT_USAGE, type Command } from './command.js';
import { EXIT_INVALID, locatedIssue, reportInvalidRepo } from './issue-report.js';
import { resolveRepoArgument } from './repo-argument.js';
import { formatIssue } from '../errors/index.js';

const EXIT_VALID = 0;

export const validateCommand: Command = {
  name: 'validate',
  usage: 'tend validate [--json] [DIR]',
  description:
    'Loads the deploy repo in DIR (default: the current directory) as tend would load a commit: YAML with\n' +
    'positions, the JSON Schemas, then the rules across files (groups, `after:` cycles, port clashes, probe\n' +
    'timings). Prints every problem as `file:line:col: message (code)` with a hint. Touches no host.',
  options: {
    json: { type: 'boolean', description: 'Print { ok, summary, issues[] } as JSON, paths relative to the repo root.' },
  },
  exitCodes: [
    [EXIT_VALID, 'the repo is valid'],
    [EXIT_INVALID, 'the repo is invalid (every problem is printed)'],
    [EXIT_USAGE, 'usage error (unknown option, DIR is not a directory)'],
  ],
  usageExitCode: EXIT_USAGE,
  maxPositionals: 1,
  async run({ terminal, values, positionals }) {
    const repo = await resolveRepoArgument(positionals[0], terminal.cwd);
    const json = values['json'] === true;
    const result = await loadRepo(directoryReader(repo.absolute));
    if (!result.ok) return reportInvalidRepo(terminal, repo, result.issues, json);
    const summary = {
      services: result.repo.services.length,
      hosts: result.repo.inventory.hosts.length,
      groups: result.repo.inventory.groups.size,
    };
    if (json) {
      // Paths relative to the repo root: the same output from any working directory.
      terminal.out(`${JSON.stringify({ ok: true, summary, issues: result.warnings }, null, 2)}\n`);
      return EXIT_VALID;
    }
    for (const warning of result.warnings) terminal.err(`warning: ${formatIssue(locatedIssue(repo, warning))}\n`);
    terminal.out(
      `${repo.display === '' ? '.' : repo.display}: valid (${summary.services} services, ${summary.hosts} hosts, ${summary.groups} groups)\n`,
    );
    return EXIT_VALID;
  },
};
