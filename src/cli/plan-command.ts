import type { Command } from './command.js';
import { fleetOptions, withFleetSession } from './fleet-options.js';
import { errorJson, formatError } from './error-report.js';
import { EXIT_INVALID } from './issue-report.js';
import { formatPlan, planJson } from './plan-report.js';

const EXIT_NO_CHANGES = 0;
const EXIT_CHANGES = 2;

export const planCommand: Command = {
  name: 'plan',
  usage: 'tend plan [--repo DIR] [--json] [--ssh-key FILE] [--secrets-dir DIR]',
  description:
    'Validates the deploy repo, observes every host of the inventory (one SSH round trip each, nothing is\n' +
    'changed), and prints per service, in `after:` order, the batches of hosts that would be created,\n' +
    'updated or restarted and why (which file differs, which release). Secrets are read to compare env\n' +
    'files by hash and are never printed. Exit codes follow `terraform plan -detailed-exitcode`.',
  options: fleetOptions,
  exitCodes: [
    [EXIT_NO_CHANGES, 'no changes: every host runs what the repo says'],
    [EXIT_INVALID, 'error: invalid repo, missing secret, a refused plan, or a host that could not be observed'],
    [EXIT_CHANGES, 'changes are planned'],
  ],
  maxPositionals: 0,
  async run(context) {
    const { terminal, values } = context;
    const json = values['json'] === true;
    return withFleetSession(context, async ({ pass }) => {
      const { planResult, observed } = pass;
      if (json) {
        terminal.out(`${JSON.stringify({ ok: planResult.ok, ...(planResult.ok ? {} : { error: errorJson(planResult.error) }), plan: planJson(planResult.plan, observed) }, null, 2)}\n`);
      } else {
        terminal.out(formatPlan(planResult.plan, observed));
        if (!planResult.ok) terminal.err(formatError(planResult.error, false));
      }
      if (!planResult.ok) return EXIT_INVALID;
      const unobserved = [...observed.values()].filter((host) => !host.reachable);
      if (unobserved.length > 0) {
        // "No changes" would be a lie about hosts nobody looked at: the plan is incomplete, which is an error.
        if (!json) terminal.err(`error: ${unobserved.length} of ${observed.size} hosts could not be observed; the plan is incomplete (${unobserved.map((host) => host.host).join(', ')})\n`);
        return EXIT_INVALID;
      }
      return planResult.plan.empty ? EXIT_NO_CHANGES : EXIT_CHANGES;
    });
  },
};
