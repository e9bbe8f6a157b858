/**
 * Issue 7: tend's fetch (isomorphic-git, through `httpSource`) against native git, on a deploy repo of
 * 2,000 commits and 500 specs served by `git http-backend` over smart HTTP with basic auth. Target: a
 * fetch within 3× of native git. tend is timed in-process around `fetch()`, which is what the daemon
 * pays; native git as the wall time of the whole process, which is what a script calling git pays.
 *
 * Then issue 13's case: the first clone of a repo that commits its releases (a 20 MiB binary with a new
 * version every 100 commits), tend against native git, each a whole process under `/usr/bin/time -v` for
 * its peak RSS. Target: tend's peak RSS ≤ 300 MiB. The history size is a parameter; the default is short.
 *
 *   npx tsx bench/git.ts                       (from the repository root; 100 MiB of history)
 *   npx tsx bench/git.ts --history-mib=1000    (the issue's 1 GB: 50 releases, 5,000 commits)
 */
import { randomBytes } from 'node:crypto';
import { cp, mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { GitCredentials, httpSource } from '../src/source/index.js';
import { GitServer } from '../test/e2e/harness/git-server.js';
import { importDeployHistory } from './support/deploy-history.js';
import { importLargeHistory } from './support/large-history.js';
import { NATIVE_GIT_ENV, nativeGit, timedGit } from './support/git-native.js';
import { describeRuns, formatMiB, formatMs, formatRatio, median, repeat, report, targetLine } from './support/stats.js';
import { expectExit, timedRun } from './support/timed-process.js';

const RUNS = 5;
const COMMITS = 2000;
const SERVICES = 500;
const NEW_COMMITS = 10;
const SEED = 7;
const TARGET_RATIO = 3;
const REPO = 'deploy';
const BRANCH = 'main';
const USER = 'tend';
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const LARGE_REPO = 'releases';
const BINARY_BYTES = 20 * 1024 * 1024;
const RELEASE_EVERY = 100;
const DEFAULT_HISTORY_MIB = 100;
const TARGET_CLONE_RSS_MIB = 300;
const TEND_CLONE_SCRIPT = fileURLToPath(new URL('./support/git-tend-clone.ts', import.meta.url));

interface SideBySide {
  readonly tend: number[];
  readonly git: number[];
}

/** tend, then git, `runs` times over (A,B,A,B…), so machine noise lands on both alike. */
async function sideBySide(runs: number, tend: (run: number) => Promise<number>, git: (run: number) => Promise<number>): Promise<SideBySide> {
  const gitFigures: number[] = [];
  const tendFigures = await repeat(runs, async (run) => {
    const figure = await tend(run);
    gitFigures.push(await git(run));
    return figure;
  });
  return { tend: tendFigures, git: gitFigures };
}

/** In-process time of one tend fetch; throws unless it arrived at `expected`. */
async function timedTendFetch(fetch: () => Promise<string>, expected: string): Promise<number> {
  const started = performance.now();
  const head = await fetch();
  const ms = performance.now() - started;
  if (head !== expected) throw new Error(`tend fetched ${head}, expected ${expected}`);
  return ms;
}

async function expectNativeRef(gitDir: string, ref: string, expected: string): Promise<void> {
  const head = await nativeGit(['--git-dir', gitDir, 'rev-parse', ref]);
  if (head !== expected) throw new Error(`native git has ${ref} at ${head} in ${gitDir}, expected ${expected}`);
}

async function packBytes(gitDir: string): Promise<number> {
  const packDir = join(gitDir, 'objects', 'pack');
  const packs = (await readdir(packDir)).filter((name) => name.endsWith('.pack'));
  const sizes = await Promise.all(packs.map(async (name) => (await stat(join(packDir, name))).size));
  return sizes.reduce((sum, size) => sum + size, 0);
}

const LABEL_WIDTH = 32;

function ratioLines(label: string, figures: SideBySide): string[] {
  const pad = ' '.repeat(LABEL_WIDTH);
  return [
    `${label.padEnd(LABEL_WIDTH)}  tend     ${describeRuns(figures.tend)}`,
    `${pad}  git      ${describeRuns(figures.git)}`,
    `${pad}  tend/git ${formatRatio(median(figures.tend), median(figures.git))}`,
  ];
}

function rounded(values: readonly number[]): number[] {
  return values.map((value) => Math.round(value * 10) / 10);
}

async function bench(workspace: string, server: GitServer, credentials: GitCredentials): Promise<void> {
  const gitDir = server.repoPath(REPO);
  const url = server.repoUrl(REPO);
  const urlWithCredentials = server.repoUrlWithCredentials(REPO);

  const generating = performance.now();
  await nativeGit(['init', '--quiet', '--bare', `--initial-branch=${BRANCH}`, gitDir]);
  const model = await importDeployHistory(gitDir, { commits: COMMITS, services: SERVICES, seed: SEED }, BRANCH);
  const generatedMs = performance.now() - generating;
  const firstHead = await server.head(REPO, BRANCH);
  const repo = {
    commits: Number(await nativeGit(['--git-dir', gitDir, 'rev-list', '--count', BRANCH])),
    files: (await nativeGit(['--git-dir', gitDir, 'ls-tree', '-r', '--name-only', BRANCH])).split('\n').length,
    packBytes: await packBytes(gitDir),
  };

  const tendDir = (what: string, run: number): string => join(workspace, `tend-${what}-${run}`);
  const gitClone = (what: string, run: number): string => join(workspace, `git-${what}-${run}.git`);
  const tendSource = (dir: string) => httpSource({ url, branch: BRANCH, dir, credentials });
  // The refspec tend's clone has, so both bring the same branch and nothing else.
  const nativeFetch = (dir: string) => timedGit(['--git-dir', dir, 'fetch', '--quiet', '--no-tags', 'origin', `+refs/heads/${BRANCH}:refs/remotes/origin/${BRANCH}`]);

  const clone = await sideBySide(
    RUNS,
    (run) => timedTendFetch(() => tendSource(tendDir('clone', run)).fetch(), firstHead),
    async (run) => {
      const ms = await timedGit(['clone', '--bare', '--quiet', urlWithCredentials, gitClone('clone', run)]);
      await expectNativeRef(gitClone('clone', run), BRANCH, firstHead);
      return ms;
    },
  );

  for (let n = 0; n < NEW_COMMITS; n += 1) await server.landCommit(REPO, { branch: BRANCH, ...model.release() });
  const newHead = await server.head(REPO, BRANCH);
  // Each run fetches into a copy of the same clone, so each brings the same ten commits. A fresh source
  // per run pays setup and a cold pack-index cache, which the daemon's long-lived one does not: if
  // anything, this figure is pessimistic for tend.
  const fetchNew = await sideBySide(
    RUNS,
    async (run) => {
      await cp(tendDir('clone', 0), tendDir('fetch', run), { recursive: true });
      return timedTendFetch(() => tendSource(tendDir('fetch', run)).fetch(), newHead);
    },
    async (run) => {
      await cp(gitClone('clone', 0), gitClone('fetch', run), { recursive: true });
      const ms = await nativeFetch(gitClone('fetch', run));
      await expectNativeRef(gitClone('fetch', run), `refs/remotes/origin/${BRANCH}`, newHead);
      return ms;
    },
  );

  // One long-lived source, as the daemon keeps, already past its first fetch.
  const idleSource = tendSource(tendDir('fetch', 0));
  await idleSource.fetch();
  const idle = await sideBySide(
    RUNS,
    () => timedTendFetch(() => idleSource.fetch(), newHead),
    () => nativeFetch(gitClone('fetch', 0)),
  );

  const tendRss = expectExit(
    await timedRun(process.execPath, ['--import', 'tsx', TEND_CLONE_SCRIPT, url, join(workspace, 'tend-rss')], {
      cwd: ROOT,
      env: { TEND_GIT_USERNAME: credentials.username, TEND_GIT_PASSWORD: credentials.password },
    }),
    [0],
    'tend clone under time -v',
  );
  const { rssBeforeKiB } = JSON.parse(tendRss.stdout) as { rssBeforeKiB: number };
  const gitRss = expectExit(
    await timedRun('git', ['clone', '--bare', '--quiet', urlWithCredentials, join(workspace, 'git-rss.git')], { env: NATIVE_GIT_ENV }),
    [0],
    'git clone under time -v',
  );

  const ratio = (figures: SideBySide) => Math.round((median(figures.tend) / median(figures.git)) * 100) / 100;
  const met = ratio(fetchNew) <= TARGET_RATIO;
  report(
    'git: isomorphic-git (tend httpSource) vs native git',
    [
      `repo: ${repo.commits} commits, ${repo.files} files (${SERVICES} specs + inventory.yml), pack ${formatMiB(repo.packBytes / 1024)}, ` +
        `generated in ${formatMs(generatedMs)}; served by git http-backend (smart HTTP, basic auth) on 127.0.0.1`,
      `${RUNS} runs each, tend and git interleaved; tend timed in-process around fetch(), git as whole-process wall time`,
      '',
      ...ratioLines('clone (informative)', clone),
      ...ratioLines(`fetch, ${NEW_COMMITS} new commits (target)`, fetchNew),
      ...ratioLines('fetch, nothing new (idle poll)', idle),
      '',
      `peak RSS of one clone (one run each): tend ${formatMiB(tendRss.maxRssKiB)} ` +
        `(${formatMiB(rssBeforeKiB)} of it before the fetch: node, tsx and tend loaded), git ${formatMiB(gitRss.maxRssKiB)}`,
      '',
      targetLine({
        name: `fetch with ${NEW_COMMITS} new commits`,
        measured: ratio(fetchNew),
        limit: TARGET_RATIO,
        shown: `${formatRatio(median(fetchNew.tend), median(fetchNew.git))} of native git (${formatMs(median(fetchNew.tend))} vs ${formatMs(median(fetchNew.git))})`,
        target: `within ${TARGET_RATIO}× of native git`,
      }),
      `info   fetch with nothing new: ${formatRatio(median(idle.tend), median(idle.git))} of native git; clone: ${formatRatio(median(clone.tend), median(clone.git))}`,
    ],
    {
      repo,
      runs: RUNS,
      newCommits: NEW_COMMITS,
      cloneMs: { tend: rounded(clone.tend), git: rounded(clone.git) },
      fetchNewMs: { tend: rounded(fetchNew.tend), git: rounded(fetchNew.git) },
      fetchIdleMs: { tend: rounded(idle.tend), git: rounded(idle.git) },
      ratios: { clone: ratio(clone), fetchNew: ratio(fetchNew), fetchIdle: ratio(idle) },
      peakRssKiB: { tendClone: tendRss.maxRssKiB, tendBeforeFetch: rssBeforeKiB, gitClone: gitRss.maxRssKiB },
      target: { name: 'fetch with new commits within 3× of native git', met },
    },
  );
}

/** `--history-mib=N`: the size of the large history, in MiB of binaries (rounded to whole releases). */
function historyMiB(argv: readonly string[]): number {
  const given = argv.find((arg) => arg.startsWith('--history-mib='));
  if (given === undefined) return DEFAULT_HISTORY_MIB;
  const value = Number(given.slice('--history-mib='.length));
  if (!Number.isInteger(value) || value < 20) throw new Error(`--history-mib wants a whole number of MiB, at least 20; got ${given}`);
  return value;
}

async function benchLargeClone(workspace: string, server: GitServer, credentials: GitCredentials, mib: number): Promise<void> {
  const gitDir = server.repoPath(LARGE_REPO);
  const releases = Math.max(1, Math.round((mib * 1024 * 1024) / BINARY_BYTES));
  const generating = performance.now();
  await nativeGit(['init', '--quiet', '--bare', `--initial-branch=${BRANCH}`, gitDir]);
  const { commits } = await importLargeHistory(gitDir, { releases, releaseEvery: RELEASE_EVERY, binaryBytes: BINARY_BYTES, seed: SEED }, BRANCH);
  const generatedMs = performance.now() - generating;
  const head = await server.head(LARGE_REPO, BRANCH);
  const served = await packBytes(gitDir);

  const tendDir = join(workspace, 'tend-large');
  const tend = expectExit(
    await timedRun(process.execPath, ['--import', 'tsx', TEND_CLONE_SCRIPT, server.repoUrl(LARGE_REPO), tendDir], {
      cwd: ROOT,
      env: { TEND_GIT_USERNAME: credentials.username, TEND_GIT_PASSWORD: credentials.password },
    }),
    [0],
    'tend clone of the large history under time -v',
  );
  const tendOut = JSON.parse(tend.stdout) as { head: string; rssBeforeKiB: number };
  if (tendOut.head !== head) throw new Error(`tend cloned ${tendOut.head}, expected ${head}`);
  await rm(tendDir, { recursive: true, force: true });
  const gitClone = join(workspace, 'git-large.git');
  const git = expectExit(
    await timedRun('git', ['clone', '--bare', '--quiet', server.repoUrlWithCredentials(LARGE_REPO), gitClone], { env: NATIVE_GIT_ENV }),
    [0],
    'git clone of the large history under time -v',
  );
  await expectNativeRef(gitClone, BRANCH, head);
  await rm(gitClone, { recursive: true, force: true });

  const tendMiB = tend.maxRssKiB / 1024;
  report(
    'git: first clone of a history with releases in it (issue 13)',
    [
      `repo: ${commits} commits, a ${formatMiB(BINARY_BYTES / 1024)} binary with a new version every ${RELEASE_EVERY} commits (${releases} versions), ` +
        `pack ${formatMiB(served / 1024)}, generated in ${formatMs(generatedMs)}; one run each, whole process under time -v`,
      `tend (native git clone in httpSource)  wall ${formatMs(tend.wallMs)}  peak RSS ${formatMiB(tend.maxRssKiB)} (${formatMiB(tendOut.rssBeforeKiB)} before the fetch)`,
      `git clone --bare                        wall ${formatMs(git.wallMs)}  peak RSS ${formatMiB(git.maxRssKiB)}`,
      '',
      targetLine({
        name: 'peak RSS of the first clone',
        measured: tendMiB,
        limit: TARGET_CLONE_RSS_MIB,
        shown: formatMiB(tend.maxRssKiB),
        target: `≤ ${TARGET_CLONE_RSS_MIB} MiB`,
      }),
    ],
    {
      repo: { commits, releases, binaryBytes: BINARY_BYTES, packBytes: served },
      wallMs: { tend: tend.wallMs, git: git.wallMs },
      peakRssKiB: { tend: tend.maxRssKiB, tendBeforeFetch: tendOut.rssBeforeKiB, git: git.maxRssKiB },
      target: { name: `first clone peak RSS ≤ ${TARGET_CLONE_RSS_MIB} MiB`, met: tendMiB <= TARGET_CLONE_RSS_MIB },
    },
  );
}

const workspace = await mkdtemp(join(tmpdir(), 'tend-bench-git-'));
let server: GitServer | undefined;
try {
  const password = randomBytes(16).toString('hex');
  // The server's repositories inside the workspace, so one removal cleans everything up.
  const root = join(workspace, 'server');
  await mkdir(root);
  server = await GitServer.start({ user: USER, password, root });
  const mib = historyMiB(process.argv.slice(2));
  await bench(workspace, server, new GitCredentials(USER, password));
  await benchLargeClone(workspace, server, new GitCredentials(USER, password), mib);
} finally {
  await server?.close();
  await rm(workspace, { recursive: true, force: true });
}
