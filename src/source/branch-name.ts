import { TendError } from '../errors/index.js';

/**
 * The branch name becomes part of ref paths, of git config and of a native `git update-ref` argv, so it
 * is held to git's ref-name rules (`git check-ref-format --branch`) before any of that happens.
 */
export function checkBranchName(branch: string): string {
  const valid =
    /^[^\0-\x20\x7f~^:?*[\\]+$/.test(branch) &&
    !branch.startsWith('-') &&
    !branch.startsWith('/') &&
    !branch.endsWith('/') &&
    !branch.endsWith('.') &&
    !branch.includes('..') &&
    !branch.includes('//') &&
    !branch.includes('@{') &&
    branch !== '@' &&
    branch.split('/').every((part) => !part.startsWith('.') && !part.endsWith('.lock'));
  if (!valid) {
    throw new TendError('E_GIT_BRANCH', 'invalid', `${JSON.stringify(branch)} is not a valid git branch name`, {
      hint: 'Give the branch name as `git branch` shows it, for example main.',
    });
  }
  return branch;
}
