export { revertMessage, parseRevertTrailers, revertedCommitOf, isTendRevert } from './revert-message.js';
export { describeProbe } from './probe-evidence.js';
export type { RevertEvidence, RevertReason, RevertedCommit } from './revert-message.js';
export { createRevertCommit, RevertConflictError } from './create-revert.js';
export type { CreateRevertOptions, RevertCommit, RevertIdentity } from './create-revert.js';
export { runNativeGit, gitFailed } from './native-git.js';
export type { NativeGitOptions, NativeGitResult } from './native-git.js';
export { decideRevert } from './revert-policy.js';
export type { CandidateCommit, RevertDecision, RevertHaltCode, RevertPolicyInput } from './revert-policy.js';
