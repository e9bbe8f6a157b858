import type { Logger } from '../observability/index.js';
import { runNativeGit, type NativeGitResult } from '../rollback/index.js';
import type { DaemonStatus } from '../status/index.js';
import { healthyRefMoves, healthyRefOf } from './healthy-ref-moves.js';

export interface HealthyRefPusherOptions {
  /** tend's clone, which holds every commit a service can be healthy at. */
  readonly gitdir: string;
  /** The URL (no credentials) or the local path of the deploy repo. */
  readonly remote: string;
  /** `-c` settings before the git command: for HTTP(S), those of tend's native fetch. */
  readonly config: readonly string[];
  /** The git process's environment; the credentials travel here only, never in argv. */
  readonly env: NodeJS.ProcessEnv;
  readonly logger: Logger;
  /** Tries of one move, lost races included. */
  readonly maxAttempts?: number;
  /** Wait before a try after a failed one (not after a lost race: that re-reads at once). */
  readonly retryDelayMs?: number;
  readonly timeoutMs?: number;
}

export interface HealthyRefPusher {
  /** Every published daemon status. Returns at once; never throws. */
  observe(status: DaemonStatus): void;
  /** Resolves once every wanted move was made or given up on (shutdown, tests). */
  drain(): Promise<void>;
}

type MoveOutcome = 'moved' | 'already' | 'not-forward' | 'lost-race' | 'failed';

/**
 * Moves `refs/tend/healthy/<service>` one at a time, off the pass loop: a newer healthy commit of a service
 * replaces one still waiting. Each try reads the server's ref, moves it only forward (the old commit an
 * ancestor of the new), and pushes with `--force-with-lease=<ref>:<old>`, so a ref someone else moved
 * meanwhile is never overwritten: the lost race is logged and the ref read again, within `maxAttempts`.
 */
export function createHealthyRefPusher(options: HealthyRefPusherOptions): HealthyRefPusher {
  const { logger } = options;
  const maxAttempts = options.maxAttempts ?? 3;
  const retryDelayMs = options.retryDelayMs ?? 5_000;
  const timeoutMs = options.timeoutMs ?? 60_000;
  const wanted = new Map<string, string>();
  let previous: DaemonStatus | undefined;
  let worker: Promise<void> | undefined;

  const git = (args: readonly string[]): Promise<NativeGitResult> =>
    runNativeGit([...options.config, `--git-dir=${options.gitdir}`, ...args], { cwd: options.gitdir, env: options.env, timeoutMs });

  async function serverRef(ref: string): Promise<string | undefined> {
    const listed = await git(['ls-remote', '--quiet', '--refs', options.remote, ref]);
    if (listed.code !== 0) throw new Error(`git ls-remote exited ${listed.code}: ${tail(listed.stderr)}`);
    // ls-remote matches the pattern as a tail of ref names; only the exact ref counts.
    const line = listed.stdout.split('\n').find((one) => one.slice(one.indexOf('\t') + 1) === ref);
    return line?.slice(0, line.indexOf('\t'));
  }

  async function tryMove(ref: string, commit: string): Promise<MoveOutcome> {
    const current = await serverRef(ref);
    if (current === commit) return 'already';
    if (current !== undefined && (await git(['merge-base', '--is-ancestor', current, commit])).code !== 0) return 'not-forward';
    // An empty expected value: the ref must not exist yet.
    const pushed = await git(['push', '--quiet', '--no-verify', `--force-with-lease=${ref}:${current ?? ''}`, options.remote, `${commit}:${ref}`]);
    if (pushed.code === 0) return 'moved';
    if (/stale info|fetch first|non-fast-forward|incorrect old value|failed to lock|cannot lock/i.test(pushed.stderr)) return 'lost-race';
    throw new Error(`git push exited ${pushed.code}: ${tail(pushed.stderr)}`);
  }

  async function move(service: string, commit: string): Promise<void> {
    const ref = healthyRefOf(service);
    for (let attempt = 1; attempt <= maxAttempts; attempt += 1) {
      let outcome: MoveOutcome;
      try {
        outcome = await tryMove(ref, commit);
      } catch (error) {
        const fields = { code: 'E_HEALTHY_REF', ref, commit, attempt, err: error instanceof Error ? error.message : String(error) };
        if (attempt === maxAttempts) {
          logger.error(fields, 'healthy ref not moved; gave up');
          return;
        }
        logger.warn({ ...fields, retryInMs: retryDelayMs }, 'moving the healthy ref failed; retrying');
        await new Promise((resolve) => setTimeout(resolve, retryDelayMs).unref());
        continue;
      }
      if (outcome === 'lost-race') {
        logger.warn({ code: 'E_HEALTHY_REF', ref, commit, attempt }, 'healthy ref moved by someone else meanwhile; reading it again');
        continue;
      }
      if (outcome === 'moved') logger.info({ ref, commit }, 'healthy ref moved');
      if (outcome === 'not-forward') logger.info({ ref, commit }, 'healthy ref already at a commit that is not an ancestor of this one; left as it is');
      return;
    }
    logger.error({ code: 'E_HEALTHY_REF', ref, commit, attempts: maxAttempts }, 'healthy ref not moved: lost every race; gave up');
  }

  async function work(): Promise<void> {
    for (let next = wanted.entries().next(); next.done !== true; next = wanted.entries().next()) {
      const [service, commit] = next.value;
      wanted.delete(service);
      await move(service, commit);
    }
  }

  function start(): void {
    worker ??= work().finally(() => {
      worker = undefined;
      // A move wanted while the worker was winding down.
      if (wanted.size > 0) start();
    });
  }

  return {
    observe(status) {
      try {
        for (const one of healthyRefMoves(previous, status)) wanted.set(one.service, one.commit);
        previous = status;
      } catch (error) {
        // A courtesy to people reading git: a bug here must never fail the pass that published the status.
        logger.error({ code: 'E_HEALTHY_REF', err: error instanceof Error ? error.message : String(error) }, 'healthy refs not derived');
        return;
      }
      start();
    },
    async drain() {
      while (worker !== undefined) await worker;
    },
  };
}

/** git's last words, which say why; never the credentials, which are in neither argv nor output. */
function tail(stderr: string): string {
  return stderr.trim().split('\n').slice(-3).join(' / ');
}
