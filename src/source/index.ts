/**
 * Where tend gets the deploy repo's commits: a git server over smart HTTP(S) (isomorphic-git, with our
 * own timeouts and credentials handling) or a repository on this machine, read in place and watched.
 * Also the webhook signature check, and the reading of a verified delivery that tells tend to fetch now.
 */
export { httpSource } from './http-source.js';
export type { HttpSourceOptions } from './http-source.js';
export { localSource } from './local-source.js';
export type { LocalSourceOptions } from './local-source.js';
export type { CommitInfo, DeploySource } from './deploy-source.js';
export {
  GitCredentials,
  TOKEN_USERNAME,
  checkRepositoryUrl,
  credentialsFromEnvironment,
  loadGitCredentials,
  readCredentialsFile,
} from './git-credentials.js';
export { GIT_HTTP_DEFAULTS, gitHttpClient } from './git-http-client.js';
export { nativeFetchEnv, nativeRemoteConfig } from './native-clone.js';
export type { GitHttpClientOptions } from './git-http-client.js';
export { gitTreeReader } from './git-tree-reader.js';
export type { GitTreeReaderOptions } from './git-tree-reader.js';
export { commitSubject, commitTrailers } from './commit-message.js';
export { verifyWebhook } from './webhook-signature.js';
export type { WebhookHeaders, WebhookProvider, WebhookVerdict } from './webhook-signature.js';
export { webhookEventOf } from './webhook-event.js';
export type { PullRequestEvent, WebhookEvent } from './webhook-event.js';
export { parsePlanRef, PLAN_REF_NAMESPACE } from './plan-ref.js';
export type { PlanRef } from './plan-ref.js';
