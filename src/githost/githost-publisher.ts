import { asTendError } from '../errors/index.js';
import type { Logger, RetryBudget } from '../observability/index.js';
import type { RefPlan } from '../preview/index.js';
import type { PullRequestEvent } from '../source/index.js';
import type { DaemonStatus } from '../status/index.js';
import { planRefusedStatus, planStatus, type CommitStatus } from './commit-status.js';
import { deployChanges, type DeployMemory } from './deploy-status.js';
import type { GitHostApi } from './githost-api.js';
import { PLAN_COMMENT_MARKER, planCommentBody } from './plan-comment.js';
import { DEFAULT_PUBLISH_BUDGET, PublishQueue, type PublishEffects, type PublishLosses } from './publish-queue.js';

export interface GitHostPublisherOptions {
  readonly api: GitHostApi;
  /** `owner/name` on the git host: pull requests of other repositories are not planned. */
  readonly repository: string;
  /** Plan pull requests whose head is in a fork; off by default, as a fork's author may be anyone. */
  readonly planForks: boolean;
  /** The daemon's plan of a ref (one at a time, beside the reconcile loop). */
  readonly plan: (ref: string) => Promise<RefPlan>;
  /** Linked from statuses and comments: tend's status page as people reach it. */
  readonly statusUrl: string | undefined;
  readonly logger: Logger;
  readonly budget?: RetryBudget;
  readonly maxQueue?: number;
  readonly effects?: Partial<PublishEffects>;
  /** Told of every publication given up on or dropped (the daemon counts them as metrics). */
  readonly losses?: PublishLosses;
}

export interface GitHostPublisher {
  /** Takes a verified pull request event, or says why not; planning and publishing happen after it returns. */
  pullRequest(event: PullRequestEvent): { readonly accepted: true } | { readonly accepted: false; readonly reason: string };
  /** Every published daemon status: `tend/deploy` of the commits whose rollout state changed. Never throws. */
  observe(status: DaemonStatus): void;
  /** Resolves once every plan started here finished and every call was made or given up on. */
  drain(): Promise<void>;
}

/**
 * The git host side of tend: a `tend/plan` status and one comment, updated in place, per pull request; a
 * `tend/deploy` status per applied commit. Everything goes through one bounded queue with retries, so
 * neither a webhook answer nor a reconcile pass waits for the git host.
 */
export function createGitHostPublisher(options: GitHostPublisherOptions): GitHostPublisher {
  const { api, logger } = options;
  const queue = new PublishQueue(options.budget ?? DEFAULT_PUBLISH_BUDGET, options.maxQueue ?? 100, {
    sleep: options.effects?.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms))),
    clock: options.effects?.clock ?? Date.now,
  }, logger, options.losses);
  const planning = new Set<Promise<void>>();
  let memory: DeployMemory = new Map();
  let seeded = false;

  const publishStatus = (status: CommitStatus): void => {
    queue.enqueue(`${status.context} ${status.sha}`, 'status', () => api.setStatus(status, options.statusUrl));
  };

  /**
   * The plan of the event's head commit. A head kept under a ref (GitLab's merge requests) is fetched by
   * that ref; should the ref have moved on since the delivery, its older head came with the fetch (or is
   * gone after a force push: then E_PLAN_REF_MISSING) and is planned by its sha, as the delivery asks.
   */
  async function planHead(event: PullRequestEvent): Promise<RefPlan> {
    if (event.headRef === undefined) return options.plan(event.headSha);
    const plan = await options.plan(event.headRef);
    return plan.sha === event.headSha ? plan : options.plan(event.headSha);
  }

  async function planAndPublish(event: PullRequestEvent): Promise<void> {
    let plan: RefPlan;
    try {
      plan = await planHead(event);
    } catch (thrown) {
      const error = asTendError(thrown);
      logger.warn({ pullRequest: event.number, commit: event.headSha, code: error.code, err: error.message }, 'pull request not planned');
      publishStatus(planRefusedStatus(event.headSha, error.code, error.message));
      return;
    }
    publishStatus(planStatus(plan));
    const body = planCommentBody(plan, options.statusUrl);
    queue.enqueue(`comment #${event.number}`, 'comment', () => api.upsertComment(event.number, PLAN_COMMENT_MARKER, body));
  }

  return {
    pullRequest(event) {
      if (event.repository.toLowerCase() !== options.repository.toLowerCase()) {
        return { accepted: false, reason: `pull request of ${event.repository}, not of ${options.repository} (githost.repository)` };
      }
      if (event.fork && !options.planForks) {
        return { accepted: false, reason: `pull request #${event.number} comes from a fork; githost.plan_forks is off` };
      }
      publishStatus({ sha: event.headSha, context: 'tend/plan', state: 'pending', description: 'planning' });
      const running = planAndPublish(event).catch((error: unknown) => {
        logger.error({ pullRequest: event.number, err: error instanceof Error ? error.message : String(error) }, 'pull request plan crashed');
      });
      planning.add(running);
      void running.finally(() => planning.delete(running));
      return { accepted: true };
    },

    observe(status) {
      try {
        const changes = deployChanges(memory, status, !seeded);
        memory = changes.memory;
        seeded = true;
        for (const one of changes.publish) publishStatus(one);
      } catch (error) {
        // The git host is a courtesy: a bug here must never fail the pass that published the status.
        logger.error({ err: error instanceof Error ? error.message : String(error) }, 'git host deploy status failed');
      }
    },

    async drain() {
      while (planning.size > 0) await Promise.all([...planning]);
      await queue.drain();
    },
  };
}
