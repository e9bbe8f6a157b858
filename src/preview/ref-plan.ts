import { formatIssue, type Issue, type TendError } from '../errors/index.js';
import { formatPlan, planJson, preparePass, unobservedHostsError, type Fleet } from '../pass/index.js';
import type { SecretSource } from '../render/index.js';
import { shortCommit } from '../source/commit-id.js';
import { parsePlanRef, type DeploySource } from '../source/index.js';
import { loadRepo, type LoadCache } from '../spec/index.js';
import { summarizePlan, type PlanSummary } from '../plan/index.js';
import { servicesToPlan } from './services-to-plan.js';

/** A ref's history beyond the followed branch this long is planned whole rather than diffed commit by commit. */
const MAX_COMMITS_TO_DIFF = 200;

export interface RefPlanInput {
  readonly source: Pick<DeploySource, 'description' | 'fetchRef' | 'readerAt' | 'commitsBetween' | 'changedPaths'>;
  /** The followed branch's head as last fetched: what the ref's own commits are counted from. */
  readonly base: string | undefined;
  readonly fleet: Pick<Fleet, 'observe'>;
  readonly secrets: SecretSource | undefined;
  /** Kept from plan to plan: a ref that changes one service is loaded from that service. */
  readonly loadCache?: LoadCache;
}

/**
 * What `POST /api/v1/plan` answers and a pull request's comment shows: the same JSON and text as
 * `tend plan --json` and `tend plan` (hashes and paths, never a secret's value), or the validation issues
 * of an invalid ref at file:line:col. `verdict` is what `tend plan`'s exit code says.
 */
export type RefPlan =
  | {
      readonly verdict: 'invalid';
      readonly ref: string;
      readonly sha: string;
      readonly issues: readonly Issue[];
      readonly text: string;
    }
  | {
      readonly verdict: 'changes' | 'no-changes' | 'error';
      readonly ref: string;
      readonly sha: string;
      /** The services planned, or undefined when the ref changes something every service reads. */
      readonly services: readonly string[] | undefined;
      /** The services the ref does not change: neither observed nor planned. */
      readonly notPlanned: readonly string[];
      readonly plan: Record<string, unknown>;
      readonly summary: PlanSummary;
      /** Hosts that could not be observed, or a plan the planner refused. */
      readonly error: TendError | undefined;
      readonly text: string;
    };

/**
 * Fetches `ref` beside the followed branch, loads and validates it, and plans the services its commits
 * change, observing only their hosts. Nothing is written to a host, the journal or the followed branch.
 * Throws what `fetchRef` throws (E_PLAN_REF, E_PLAN_REF_MISSING, git errors) and E_SECRET_MISSING.
 */
export async function planRef(input: RefPlanInput, refText: string): Promise<RefPlan> {
  const { source } = input;
  const sha = await source.fetchRef(parsePlanRef(refText));
  const loaded = await loadRepo(source.readerAt(sha), { cache: input.loadCache });
  if (!loaded.ok) {
    const text = loaded.issues.map((issue) => `${formatIssue(issue)}\n${issue.hint === undefined ? '' : `  hint: ${issue.hint}\n`}`).join('');
    return { verdict: 'invalid', ref: refText, sha, issues: loaded.issues, text };
  }
  const repo = loaded.repo;
  const names = repo.services.map((service) => service.name);
  const only = await changedServices(input, sha, names);
  const pass = await preparePass(repo, input.secrets, input.fleet, undefined, only);
  const error = pass.planResult.ok ? unobservedHostsError(pass.observed) : pass.planResult.error;
  const notPlanned = only === undefined ? [] : names.filter((name) => !only.has(name));
  const note = notPlanned.length === 0 ? '' : `Not planned (${refText} does not change them): ${notPlanned.join(', ')}.\n`;
  const plan = pass.planResult.plan;
  return {
    verdict: error !== undefined ? 'error' : plan.empty ? 'no-changes' : 'changes',
    ref: refText,
    sha,
    services: only === undefined ? undefined : names.filter((name) => only.has(name)),
    notPlanned,
    plan: planJson(plan, pass.observed, []),
    summary: summarizePlan(plan),
    error,
    text: `Plan of ${refText} (${shortCommit(sha)}):\n${formatPlan(plan, pass.observed, [])}${note}`,
  };
}

async function changedServices(input: RefPlanInput, sha: string, services: readonly string[]): Promise<ReadonlySet<string> | undefined> {
  if (input.base === undefined) return undefined;
  const commits = await input.source.commitsBetween(input.base, sha);
  // None: the ref is the followed head or behind it (an older commit), so nothing says what it changes.
  if (commits.length === 0 || commits.length > MAX_COMMITS_TO_DIFF) return undefined;
  const paths = new Set<string>();
  for (const commit of commits) for (const path of await input.source.changedPaths(commit.sha)) paths.add(path);
  return servicesToPlan([...paths], services);
}
