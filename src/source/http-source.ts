import * as fs from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import * as git from 'isomorphic-git';

import { InternalError, TendError } from '../errors/index.js';
import { checkBranchName } from './branch-name.js';
import type { DeploySource } from './deploy-source.js';
import { authHandlers, checkRepositoryUrl } from './git-credentials.js';
import type { GitCredentials } from './git-credentials.js';
import { branchMissingError, classifyGitError, pushRaceError } from './git-errors.js';
import { GIT_HTTP_DEFAULTS, gitHttpClient } from './git-http-client.js';
import { gitStore } from './git-store.js';
import { PLAN_REF_NAMESPACE, planRefMissingError } from './plan-ref.js';
import { nativeFirstFetch } from './native-clone.js';

export interface HttpSourceOptions {
  /** Smart-HTTP(S) clone URL, without credentials (refused with E_GIT_URL_CREDENTIALS). */
  readonly url: string;
  readonly branch: string;
  /** A directory tend owns; the clone is the bare git directory `<dir>/deploy.git`. */
  readonly dir: string;
  readonly credentials?: GitCredentials;
  /** Connect and idle timeout of each request (default 30 s). */
  readonly timeoutMs?: number;
  /** Deadline of each request, body included (default 120 s); of the whole first fetch, which native git makes. */
  readonly deadlineMs?: number;
}

/** The local ref a push goes through: outside refs/heads, so it can never clash with a branch name. */
const PUSH_REF = 'refs/tend/push';
const REMOTE = 'origin';
/** A second remote (same URL) whose refspec puts whatever is fetched to plan under PLAN_REF_NAMESPACE. */
const PLAN_REMOTE = 'tend-plan';

/** receive-pack's per-ref reasons that mean someone else updated the branch first. */
const LOST_RACE = /non-fast-forward|fetch first|failed to update ref|failed to lock|cannot lock|stale info|incorrect old value/i;

/**
 * A deploy repo on a git server, over smart HTTP(S). The clone is a bare git directory holding only the
 * branch, as `refs/remotes/origin/<branch>`: the first fetch makes it with native git, which streams the
 * pack to disk (isomorphic-git holds it in memory: 4.4 GiB of RSS for a 1 GB history); later fetches,
 * a few commits each, bring only what is new with isomorphic-git. Native git works in it (`git worktree add --detach`, `git revert`), and
 * commits native git writes there can be pushed.
 */
export function httpSource(options: HttpSourceOptions): DeploySource {
  const description = checkRepositoryUrl(options.url);
  const branch = checkBranchName(options.branch);
  const gitdir = join(options.dir, 'deploy.git');
  const http = gitHttpClient({ timeoutMs: options.timeoutMs, deadlineMs: options.deadlineMs });
  const cache = {};
  const store = gitStore({ gitdir, description, cache });
  const trackingRef = `refs/remotes/${REMOTE}/${branch}`;
  const hasCredentials = options.credentials !== undefined;
  let prepared = false;
  // One fetch at a time in the clone: a plan's fetch and the followed branch's write packs and the shallow
  // file of one git directory. A poll waits for at most one plan fetch, which the git deadlines bound.
  let fetching: Promise<unknown> = Promise.resolve();
  function serially<T>(work: () => Promise<T>): Promise<T> {
    const next = fetching.then(work, work);
    fetching = next.catch(() => undefined);
    return next;
  }

  async function prepare(): Promise<void> {
    if (prepared) return;
    await mkdir(gitdir, { recursive: true });
    await git.init({ fs, gitdir, bare: true, defaultBranch: branch });
    // isomorphic-git's init writes settings meant for a browser filesystem; with them native git would
    // check symlinks out as plain files in a worktree and ignore executable bits.
    const settings: Record<string, string> = {
      'core.filemode': 'true',
      'core.symlinks': 'true',
      'core.ignorecase': 'false',
      [`remote.${REMOTE}.url`]: options.url,
      [`remote.${REMOTE}.fetch`]: `+refs/heads/${branch}:${trackingRef}`,
      [`remote.${PLAN_REMOTE}.url`]: options.url,
      [`remote.${PLAN_REMOTE}.fetch`]: `+refs/*:${PLAN_REF_NAMESPACE}/*`,
    };
    for (const [path, value] of Object.entries(settings)) {
      if ((await git.getConfig({ fs, gitdir, path })) !== value) await git.setConfig({ fs, gitdir, path, value });
    }
    prepared = true;
  }

  async function hasTrackingRef(): Promise<boolean> {
    try {
      await git.resolveRef({ fs, gitdir, ref: trackingRef });
      return true;
    } catch (error) {
      if (error instanceof git.Errors.NotFoundError) return false;
      throw new InternalError(`reading ${trackingRef} in ${gitdir} failed`, error);
    }
  }

  /**
   * Fetches `remoteRef` over `remote`, telling the server what the clone has of the followed branch, so the
   * pack brings only what is new. With singleBranch, isomorphic-git reports as "have" only the commit `ref`
   * resolves to locally: `ref: branch` would look for refs/heads/<branch>, which this clone never has, so
   * every fetch, even with nothing new, would download and index the whole history again.
   */
  const fetchBeside = async (remote: string, remoteRef: string, auth: ReturnType<typeof authHandlers>): Promise<string | null> =>
    (
      await git.fetch({
        fs,
        http,
        gitdir,
        cache,
        remote,
        ref: trackingRef,
        remoteRef,
        singleBranch: true,
        tags: false,
        onAuth: auth.onAuth,
        onAuthFailure: auth.onAuthFailure,
      })
    ).fetchHead;

  return {
    description,
    branch,
    gitdir,
    ...store,

    fetch: () => serially(async () => {
      await prepare();
      if (!(await hasTrackingRef())) {
        await nativeFirstFetch({
          gitdir,
          remote: REMOTE,
          branch,
          trackingRef,
          description,
          credentials: options.credentials,
          timeoutMs: options.timeoutMs ?? GIT_HTTP_DEFAULTS.timeoutMs,
          deadlineMs: options.deadlineMs ?? GIT_HTTP_DEFAULTS.deadlineMs,
        });
        return git.resolveRef({ fs, gitdir, ref: trackingRef });
      }
      const auth = authHandlers(options.credentials);
      let head: string | null;
      try {
        head = await fetchBeside(REMOTE, branch, auth);
      } catch (error) {
        if (error instanceof git.Errors.NotFoundError && error.data.what === branch) {
          throw branchMissingError(branch, description, error);
        }
        throw classifyGitError(error, { description, branch, action: 'fetch', authRefused: auth.refused(), hasCredentials });
      }
      // isomorphic-git answers an empty repository with no head instead of an error.
      if (head === null) throw branchMissingError(branch, description);
      return head;
    }),

    fetchRef: (ref) => serially(async () => {
      await prepare();
      if (!(await hasTrackingRef())) {
        throw new TendError('E_PLAN_NOT_READY', 'transient', `tend has not fetched ${branch} of ${description} yet, so it cannot plan another ref`, {
          hint: 'Ask again in a moment: the first fetch of the followed branch is under way.',
        });
      }
      const wanted = ref.kind === 'sha' ? ref.sha : ref.ref;
      if (ref.kind === 'sha' && (await store.commit(ref.sha).then(() => true, () => false))) return ref.sha;
      const auth = authHandlers(options.credentials);
      let head: string | null;
      try {
        head = await fetchBeside(PLAN_REMOTE, wanted, auth);
      } catch (error) {
        if (error instanceof git.Errors.NotFoundError) throw planRefMissingError(wanted, description, error);
        throw classifyGitError(error, { description, branch: wanted, action: 'fetch', authRefused: auth.refused(), hasCredentials });
      }
      if (head === null) throw planRefMissingError(wanted, description);
      return head;
    }),

    async push(sha, expectedHead) {
      await prepare();
      if (!(await store.isAncestor(expectedHead, sha))) {
        throw new InternalError(`asked to push ${sha} over ${expectedHead}, which it does not descend from`);
      }
      await git.writeRef({ fs, gitdir, ref: PUSH_REF, value: sha, force: true });
      const auth = authHandlers(options.credentials);
      const messages: string[] = [];
      let remoteHead: string | undefined;
      let failure: TendError | undefined;
      try {
        await git.push({
          fs,
          http,
          gitdir,
          cache,
          remote: REMOTE,
          ref: PUSH_REF,
          remoteRef: `refs/heads/${branch}`,
          force: false,
          onAuth: auth.onAuth,
          onAuthFailure: auth.onAuthFailure,
          onMessage: (message) => {
            messages.push(message);
          },
          // The compare of compare-and-swap: receive-pack only checks that the branch did not move since
          // the advertisement, so the advertised head must be the one the caller computed from.
          onPrePush: ({ remoteRef }) => {
            remoteHead = remoteRef.oid;
            return remoteRef.oid === expectedHead;
          },
        });
      } catch (error) {
        failure = classifyPushError(error, { description, branch, expectedHead, remoteHead, messages, authRefused: auth.refused(), hasCredentials });
      }
      // isomorphic-git moves the tracking ref only when the server accepted the update.
      await git.deleteRef({ fs, gitdir, ref: PUSH_REF });
      if (failure !== undefined) throw failure;
    },

    watch: () => undefined,
  };
}

interface PushContext {
  readonly description: string;
  readonly branch: string;
  readonly expectedHead: string;
  /** The branch head the server advertised, when the push got that far. */
  readonly remoteHead: string | undefined;
  readonly messages: readonly string[];
  readonly authRefused: boolean;
  readonly hasCredentials: boolean;
}

function classifyPushError(error: unknown, context: PushContext): TendError {
  const { description, branch, expectedHead, remoteHead } = context;
  if (error instanceof git.Errors.UserCanceledError && remoteHead !== undefined && remoteHead !== expectedHead) {
    return pushRaceError(branch, description, `the branch is at ${remoteHead}, not at ${expectedHead}`, error);
  }
  if (error instanceof git.Errors.PushRejectedError) {
    return pushRaceError(branch, description, 'the branch moved to a commit that does not contain the push', error);
  }
  if (error instanceof git.Errors.GitPushError) {
    const reasons = Object.values(error.data.result.refs)
      .filter((ref) => !ref.ok)
      .map((ref) => ref.error);
    const reason = reasons.join('; ') || 'no reason given';
    if (reasons.some((text) => LOST_RACE.test(text))) {
      return pushRaceError(branch, description, `the server reports: ${reason}`, error);
    }
    const said = serverMessages(context.messages);
    return new TendError(
      'E_PUSH_REJECTED',
      'conflict',
      `push to ${branch} of ${description} was refused by the server: ${reason}${said === '' ? '' : ` (remote: ${said})`}`,
      {
        hint:
          `Check the branch protection rules and server hooks of ${branch}, and that tend's credentials may push ` +
          'to it. tend does not retry a refused push; the failed rollout stays stopped until a person acts.',
        cause: error,
      },
    );
  }
  return classifyGitError(error, { description, branch, action: 'push', authRefused: context.authRefused, hasCredentials: context.hasCredentials });
}

/** What the server printed (`remote: ...`), on one line and bounded: it explains a hook's refusal. */
function serverMessages(messages: readonly string[]): string {
  const text = messages.join('').split(/\r?\n/).map((line) => line.trim()).filter((line) => line !== '').join(' | ');
  return text.length > 500 ? `${text.slice(0, 500)}…` : text;
}
