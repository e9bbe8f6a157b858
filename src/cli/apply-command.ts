import { hostname, userInfo } from 'node:os';
import { createInterface } from 'node:readline/promises';
import { urlDelivery } from '../artifacts/index.js';
import { applyPlan, type ApplyResult, type StepProgress } from '../rollout/index.js';
import { EXIT_USAGE, type Command, type Terminal } from './command.js';
import { errorJson, formatError } from './error-report.js';
import { fleetOptions, withFleetSession } from './fleet-options.js';
import { EXIT_INVALID } from './issue-report.js';
import { formatPlan, planJson, unobservedHostsError } from '../pass/index.js';
import { UsageError } from './usage-error.js';

const EXIT_APPLIED = 0;
const EXIT_ROLLOUT_FAILED = 3;

export const applyCommand: Command = {
  name: 'apply',
  usage: 'tend apply [SERVICE...] [--limit HOST|GROUP,...] [--repo DIR] [--yes] [--json] [--ssh-key FILE] [--secrets-dir DIR]',
  description:
    'Plans as `tend plan` does, asks for confirmation (or takes --yes), then rolls each service out in\n' +
    '`after:` order and in batches (canary first): artifacts are staged and verified before anything\n' +
    'running is touched, files are written atomically, and each host must pass its probe continuously for\n' +
    'min_healthy_time before the next batch starts. A failing host stops that service at its budget; hosts\n' +
    'outside the batch are untouched. Progress is printed as it happens.\n\n' +
    'With SERVICE names, only those services; with --limit, only those hosts (a group means its hosts), as\n' +
    "Ansible's --limit: everything else is neither observed nor touched, is reported as skipped (\"not in\n" +
    '--limit"), and nothing is pruned. `serial` and the canary count the limited hosts.',
  options: {
    ...fleetOptions,
    yes: { type: 'boolean', short: 'y', description: 'Apply without asking (required when stdin is not a terminal).' },
  },
  exitCodes: [
    [EXIT_APPLIED, 'applied: every changed host is healthy (or nothing to do)'],
    [EXIT_INVALID, 'error before any change: invalid repo, missing secret, refused plan, nothing to change but hosts that could not be observed'],
    [EXIT_USAGE, 'usage error'],
    [EXIT_ROLLOUT_FAILED, 'a rollout failed or stopped; the result names host, evidence and error code'],
  ],
  usageExitCode: EXIT_USAGE,
  maxPositionals: Number.POSITIVE_INFINITY,
  async run(context) {
    const { terminal, values } = context;
    const json = values['json'] === true;
    return withFleetSession(context, async ({ reader, pass, pool, secrets, skipped }) => {
      const { planResult, observed } = pass;
      if (!planResult.ok) {
        if (json) terminal.out(`${JSON.stringify({ ok: false, error: errorJson(planResult.error), plan: planJson(planResult.plan, observed, skipped) }, null, 2)}\n`);
        else terminal.err(formatPlan(planResult.plan, observed, skipped) + formatError(planResult.error, false));
        return EXIT_INVALID;
      }
      const plan = planResult.plan;
      if (!json) terminal.out(formatPlan(plan, observed, skipped));
      const unobserved = unobservedHostsError(observed);
      // Nothing to do where tend could look, and hosts it could not: an error before any change, never "applied".
      if (plan.empty && unobserved !== undefined) {
        if (json) terminal.out(`${JSON.stringify({ ok: false, applied: false, error: errorJson(unobserved), plan: planJson(plan, observed, skipped) }, null, 2)}\n`);
        else terminal.err(formatError(unobserved, false));
        return EXIT_INVALID;
      }
      const unplanned = plan.services.some((service) => service.unreachable.length > 0 || service.blocked.length > 0);
      // An empty plan with blocked hosts is not "nothing to do": the rollout records them as failed.
      if (plan.empty && !unplanned) {
        if (json) terminal.out(`${JSON.stringify({ ok: true, applied: false, plan: planJson(plan, observed, skipped) }, null, 2)}\n`);
        return EXIT_APPLIED;
      }
      if (values['yes'] !== true && !(await confirm(terminal))) {
        terminal.err('Nothing was applied.\n');
        return EXIT_INVALID;
      }
      const result = await applyPlan(
        { repo: pass.repo, plan, observed, rendered: pass.rendered },
        {
          pool,
          now: () => Date.now(),
          sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
          readArtifact: async (service) => {
            if (service.run.kind !== 'artifact') throw new Error(`${service.name} has no artifact`);
            return reader.readFile(service.run.path);
          },
          // fetch: tend downloads once for this apply and keeps the bytes in memory; nothing outlives the command.
          urlDelivery: urlDelivery({ secrets }),
          // Under --json stdout carries only the result; progress still reaches a person, on stderr.
          onProgress: progressPrinter(json ? terminal.err : terminal.out),
          keepReleases: pass.repo.settings.keepReleases,
          actor: { commit: undefined, identity: personAtHost(), rollback: false },
        },
      );
      if (json) terminal.out(`${JSON.stringify({ ok: result.ok, applied: true, result, skipped }, null, 2)}\n`);
      else terminal.out(formatApplyResult(result));
      return result.ok ? EXIT_APPLIED : EXIT_ROLLOUT_FAILED;
    });
  },
};

async function confirm(terminal: Terminal): Promise<boolean> {
  if (!process.stdin.isTTY) {
    throw new UsageError('tend apply asks before changing hosts, and stdin is not a terminal', 'Pass --yes to apply without asking.');
  }
  const prompt = createInterface({ input: process.stdin, output: process.stdout });
  try {
    const answer = await prompt.question('Apply this plan? Only "yes" is accepted: ');
    return answer.trim() === 'yes';
  } finally {
    prompt.close();
    terminal.out('');
  }
}

/** One line per phase change of a host; while probing, only when the verdict changes, with the time left. */
function progressPrinter(write: (text: string) => void): (event: StepProgress) => void {
  const last = new Map<string, string>();
  return (event) => {
    const key = `${event.service}@${event.host}`;
    const text = `${event.phase} ${event.detail}`;
    if (event.phase === 'probe' && last.get(key)?.split(':')[0] === text.split(':')[0]) return;
    last.set(key, text);
    const left = event.deadlineAt === undefined ? '' : ` (fails in ${Math.max(0, Math.ceil((event.deadlineAt - Date.now()) / 1000))}s)`;
    write(`[${event.service} ${event.host}] ${text}${left}\n`);
  };
}

function formatApplyResult(result: ApplyResult): string {
  const lines = ['', 'Result:'];
  for (const service of result.services) {
    lines.push(`  ${service.service}: ${service.result}${service.code === undefined ? '' : ` (${service.code})`} ${service.detail}`);
    for (const step of service.steps) {
      if (step.outcome === 'healthy') continue;
      lines.push(`    ${step.host}: ${step.outcome} ${step.code} ${step.detail}`);
      if (step.lastProbe !== undefined) {
        const probe = step.lastProbe;
        lines.push(`      last probe: ${probe.ok ? 'ok' : 'failed'}${probe.status === undefined ? '' : ` status ${probe.status}`}, ${probe.latencyMs} ms${probe.error === undefined ? '' : `, ${probe.error}`}${probe.bodyExcerpt === undefined ? '' : `, body "${probe.bodyExcerpt}"`}`);
      }
      if (step.journal !== undefined && step.journal.trim() !== '') {
        lines.push('      journal:', ...step.journal.trimEnd().split('\n').slice(-10).map((line) => `        ${line}`));
      }
    }
  }
  for (const prune of result.pruned) lines.push(`  pruned ${prune.service} on ${prune.host}: ${prune.ok ? 'ok' : prune.detail}`);
  lines.push('', result.ok ? 'Applied: every changed host is healthy.' : 'Stopped: see the failures above; hosts outside the failed batch were not touched.');
  return `${lines.join('\n')}\n`;
}

/** Who runs `tend apply`, as each host's journal names the steps: the person at this machine. */
function personAtHost(): string {
  try {
    return `${userInfo().username}@${hostname()}`;
  } catch {
    // No passwd entry for the uid (a container): the machine still says where the change came from.
    return hostname();
  }
}
