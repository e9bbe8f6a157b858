import type { Command } from './command.js';
import { tokenOption } from './daemon-client.js';
import { planOnDaemon } from './daemon-plan.js';
import { fleetOptions, stringOption, withFleetSession } from './fleet-options.js';
import { UsageError } from './usage-error.js';
import { errorJson, formatError } from './error-report.js';
import { EXIT_INVALID } from './issue-report.js';
import { formatDiffs, planDiffs, type FileDiff } from './plan-diff.js';
import { formatPlan, planJson, unobservedHostsError } from '../pass/index.js';

const EXIT_NO_CHANGES = 0;
const EXIT_CHANGES = 2;
/** Not 2, which means "changes planned" here: sysexits' EX_USAGE, so a script never applies on a typo. */
const EXIT_PLAN_USAGE = 64;

export const planCommand: Command = {
  name: 'plan',
  usage: 'tend plan [SERVICE...] [--limit HOST|GROUP,...] [--diff] [--repo DIR] [--json] [--ssh-key FILE] [--secrets-dir DIR] | tend plan --daemon URL --ref REF [--token-file FILE] [--json]',
  description:
    'Validates the deploy repo, observes every host of the inventory (one SSH round trip each, nothing is\n' +
    'changed), and prints per service, in `after:` order, the batches of hosts that would be created,\n' +
    'updated or restarted and why (which file differs, which release). Secrets are read to compare env\n' +
    'files by hash and are never printed. Exit codes follow `terraform plan -detailed-exitcode`.\n\n' +
    'With SERVICE names, only those services; with --limit, only those hosts (a group means its hosts), as\n' +
    "Ansible's --limit: everything else is not observed and is reported as skipped (\"not in --limit\").\n\n" +
    "With --diff, each file that would change or be deleted is read from its host and shown as a unified\n" +
    'diff against what tend would write (or /dev/null); secrets show as <secret:name> on both sides, and a\n' +
    'deleted env file shows its keys without values.\n\n' +
    'With --daemon and --ref, the running `tend run` at URL plans REF (a branch, a full ref such as\n' +
    'refs/pull/7/head, or a commit sha) with its own SSH key and secrets, so a CI job needs only the\n' +
    "operator token: it fetches REF beside the branch it follows (which does not move), validates it, and\n" +
    'observes the hosts of the services REF changes. The output and exit codes are those above.',
  options: {
    ...fleetOptions,
    ...tokenOption,
    daemon: { type: 'string', description: 'Ask the running daemon at URL to plan --ref instead of planning here.', valueName: 'URL' },
    ref: { type: 'string', description: 'With --daemon: the branch, full ref or commit sha to plan.', valueName: 'REF' },
    diff: {
      type: 'boolean',
      description: "Also print the unified diff of each file that would change or be deleted against the host's copy (one more read per file; secrets masked).",
    },
  },
  exitCodes: [
    [EXIT_NO_CHANGES, 'no changes: every host runs what the repo says'],
    [EXIT_INVALID, 'error: invalid repo, missing secret, a refused plan, or a host that could not be observed'],
    [EXIT_CHANGES, 'changes are planned'],
    [EXIT_PLAN_USAGE, 'usage error (2 means changes here)'],
  ],
  usageExitCode: EXIT_PLAN_USAGE,
  maxPositionals: Number.POSITIVE_INFINITY,
  async run(context) {
    const { terminal, values } = context;
    const json = values['json'] === true;
    const daemon = stringOption(context, 'daemon');
    const ref = stringOption(context, 'ref');
    if (daemon !== undefined || ref !== undefined) {
      if (daemon === undefined || ref === undefined) throw new UsageError('--daemon and --ref go together', 'For example `tend plan --daemon http://tend:9464 --ref feature/x`.');
      const local = ['limit', 'diff', 'repo', 'ssh-key', 'known-hosts', 'secrets-dir'].filter((name) => values[name] !== undefined);
      if (context.positionals.length > 0 || local.length > 0) {
        throw new UsageError(`--daemon plans every service REF changes on the daemon; ${[...context.positionals, ...local.map((name) => `--${name}`)].join(', ')} only apply to a local plan`, 'Drop them, or plan locally without --daemon.');
      }
      return planOnDaemon(context, ref, { noChanges: EXIT_NO_CHANGES, changes: EXIT_CHANGES });
    }
    return withFleetSession(context, async ({ pass, skipped, pool }) => {
      const { planResult, observed } = pass;
      const diffs: readonly FileDiff[] | undefined = values['diff'] === true ? await planDiffs(planResult.plan, pass, pool) : undefined;
      // A refused plan comes first; else hosts nobody could look at make "no changes" a lie: an error too.
      const error = planResult.ok ? unobservedHostsError(observed) : planResult.error;
      if (json) {
        terminal.out(`${JSON.stringify({ ok: error === undefined, ...(error === undefined ? {} : { error: errorJson(error) }), plan: planJson(planResult.plan, observed, skipped), ...(diffs === undefined ? {} : { diffs }) }, null, 2)}\n`);
      } else {
        terminal.out(formatPlan(planResult.plan, observed, skipped) + (diffs === undefined ? '' : formatDiffs(diffs)));
        if (error !== undefined) terminal.err(formatError(error, false));
      }
      if (error !== undefined) return EXIT_INVALID;
      return planResult.plan.empty ? EXIT_NO_CHANGES : EXIT_CHANGES;
    });
  },
};
