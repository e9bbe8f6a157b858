/**
 * Publishing to the git host (GitHub's REST API, Gitea's, which mirrors it, or GitLab's): the plan of each
 * pull (merge) request as a `tend/plan` commit status and one comment (note) updated in place, and each applied commit's
 * result as a `tend/deploy` status. Off the reconcile path, through one bounded queue with retries.
 */
export { createGitHostPublisher } from './githost-publisher.js';
export type { GitHostPublisher, GitHostPublisherOptions } from './githost-publisher.js';
export { gitHostApi, GitHostCallError } from './githost-api.js';
export type { GitHostApi, GitHostApiOptions, GitHostProvider } from './githost-api.js';
export { planRefusedStatus, planStatus, statusDescription } from './commit-status.js';
export type { CommitState, CommitStatus, StatusContext } from './commit-status.js';
export { deployChanges, deployStatusesOf } from './deploy-status.js';
export type { DeployMemory } from './deploy-status.js';
export { PLAN_COMMENT_MARKER, planCommentBody } from './plan-comment.js';
export { DEFAULT_PUBLISH_BUDGET, PublishQueue } from './publish-queue.js';
export type { PublishEffects, PublishKind, PublishLosses } from './publish-queue.js';
// The retry rule is the one of every outgoing call tend makes; exported here too for the publisher's users.
export { retryDelay } from '../observability/index.js';
export type { RetryBudget } from '../observability/index.js';
