import fs from 'node:fs';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import git from 'isomorphic-git';
import http from 'isomorphic-git/http/node';
import { afterAll, describe, expect, it } from 'vitest';
import { TendError } from '../../../src/errors/index.js';
import { RevertConflictError, createRevertCommit, revertMessage, runNativeGit } from '../../../src/rollback/index.js';
import { GitServer } from '../../e2e/harness/git-server.js';
import { rejectionOf } from '../../support/tend-error.js';
import { FIXED_DATE, Scratch, TEST_IDENTITY, commitFiles, testGitEnv, git as nativeGit, gitOk, initRepo, linkedWorktrees, rawMessage, refSnapshot } from './git-sandbox.js';
import { randomHistory, seededRandom, type RandomHistory } from './random-history.js';

const scratch = new Scratch();
afterAll(() => scratch.cleanup());

type Outcome = { kind: 'reverted'; sha: string; tree: string } | { kind: 'conflict'; paths: string[] } | { kind: 'empty' };

/** `git revert --no-edit` in a fresh clone of `origin`, the way a person would run it. */
async function nativeRevert(origin: string, target: string, merge: boolean): Promise<Outcome> {
  const clone = join(await scratch.dir('tend-native-revert-'), 'clone');
  await gitOk(join(clone, '..'), ['clone', '--quiet', origin, clone]);
  const run = await nativeGit(clone, ['revert', '--no-edit', ...(merge ? ['-m', '1'] : []), target]);
  if (run.code === 0) return { kind: 'reverted', sha: await gitOk(clone, ['rev-parse', 'HEAD']), tree: await gitOk(clone, ['rev-parse', 'HEAD^{tree}']) };
  const unmerged = await gitOk(clone, ['ls-files', '--unmerged', '-z']);
  if (unmerged !== '') {
    const paths = unmerged.split('\0').filter((entry) => entry !== '').map((entry) => entry.slice(entry.indexOf('\t') + 1));
    return { kind: 'conflict', paths: [...new Set(paths)].sort() };
  }
  if (`${run.stdout}${run.stderr}`.includes('nothing to commit')) return { kind: 'empty' };
  throw new Error(`git revert failed in an unexpected way: ${run.stderr}${run.stdout}`);
}

async function tendRevert(gitdir: string, onto: string, revert: string, bad: { sha: string; subject: string; parents: readonly string[] }): Promise<Outcome> {
  try {
    const created = await createRevertCommit({ gitdir, onto, revert, message: revertMessage(bad), identity: TEST_IDENTITY, date: FIXED_DATE });
    return { kind: 'reverted', ...created };
  } catch (error) {
    if (error instanceof RevertConflictError) return { kind: 'conflict', paths: [...error.paths] };
    if (error instanceof TendError && error.code === 'E_REVERT_EMPTY') return { kind: 'empty' };
    throw error;
  }
}

async function importHistory(history: RandomHistory): Promise<{ bare: string; shaOf: (mark: number) => string }> {
  const dir = await scratch.dir('tend-history-');
  const bare = join(dir, 'repo.git');
  await gitOk(dir, ['init', '--quiet', '--bare', '--initial-branch=main', bare]);
  await gitOk(bare, ['fast-import', '--quiet', `--export-marks=${join(dir, 'marks')}`], { input: history.fastImport });
  const marks = new Map(
    fs
      .readFileSync(join(dir, 'marks'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => {
        const [mark = '', sha = ''] = line.split(' ');
        return [Number(mark.slice(1)), sha] as const;
      }),
  );
  return { bare, shaOf: (mark) => marks.get(mark) ?? '' };
}

/** Enough histories to meet every kind of case many times; about 30 s on two busy cores. */
const CASES = 300;
const PARALLEL = 3;

describe('createRevertCommit against git revert on generated histories', () => {
  it(
    `makes the very commit git revert makes, conflicts exactly when git does, and refuses what git refuses (${CASES} seeded histories)`,
    async () => {
      const counts = { cases: 0, reverted: 0, conflicts: 0, empty: 0, mergeTargets: 0, renamesAtOrAfterTarget: 0, renamesInTarget: 0 };
      const mismatches: string[] = [];
      let next = 0;
      const worker = async (): Promise<void> => {
        for (let seed = next++; seed < CASES; seed = next++) {
          const history = randomHistory(seededRandom(seed + 1));
          const target = history.commits[history.target - 1];
          if (target === undefined) throw new Error(`seed ${seed}: no target`);
          const { bare, shaOf } = await importHistory(history);
          const onto = shaOf(history.head);
          const before = await refSnapshot(bare);
          const merge = target.parents.length > 1;
          const expected = await nativeRevert(bare, shaOf(target.mark), merge);
          const actual = await tendRevert(bare, onto, shaOf(target.mark), { sha: shaOf(target.mark), subject: target.subject, parents: target.parents.map(shaOf) });
          if (JSON.stringify(actual) !== JSON.stringify(expected)) {
            mismatches.push(`seed ${seed + 1}, revert ${target.subject}: git ${JSON.stringify(expected)}, tend ${JSON.stringify(actual)}`);
          }
          if ((await refSnapshot(bare)) !== before) mismatches.push(`seed ${seed + 1}: a ref of the gitdir moved`);
          if ((await linkedWorktrees(bare)).length > 0) mismatches.push(`seed ${seed + 1}: a worktree was left behind`);
          counts.cases += 1;
          counts[expected.kind === 'reverted' ? 'reverted' : expected.kind === 'conflict' ? 'conflicts' : 'empty'] += 1;
          if (merge) counts.mergeTargets += 1;
          if (target.ops.some((op) => op.startsWith('rename'))) counts.renamesInTarget += 1;
          if (history.commits.some((commit) => commit.mark >= target.mark && commit.ops.some((op) => op.startsWith('rename')))) counts.renamesAtOrAfterTarget += 1;
        }
      };
      await Promise.all(Array.from({ length: PARALLEL }, worker));
      console.log(`revert equivalence: ${JSON.stringify(counts)}`);
      expect(mismatches).toEqual([]);
      expect(counts.cases).toBe(CASES);
      // The generator must keep producing every kind of case, or this test proves less than it says.
      for (const kind of ['reverted', 'conflicts', 'empty', 'mergeTargets', 'renamesInTarget'] as const) {
        expect(counts[kind], kind).toBeGreaterThanOrEqual(CASES / 50);
      }
    },
    300_000,
  );
});

describe('createRevertCommit in a gitdir that isomorphic-git wrote', () => {
  const author = { name: TEST_IDENTITY.name, email: TEST_IDENTITY.email, timestamp: 1_772_600_000, timezoneOffset: 0 };

  it('reverts a rename-and-edit in a repository made by git.init and git.commit, as git revert does', async () => {
    const dir = await scratch.dir('tend-iso-');
    await git.init({ fs, dir, defaultBranch: 'main' });
    const write = async (path: string, text: string): Promise<void> => {
      await mkdir(join(dir, path, '..'), { recursive: true });
      await writeFile(join(dir, path), text);
      await git.add({ fs, dir, filepath: path });
    };
    const lines = (from: number): string => Array.from({ length: 8 }, (_, index) => `setting ${from + index}\n`).join('');
    await write('services/api/spec.yml', lines(0));
    await write('inventory.yml', 'hosts: []\n');
    await git.commit({ fs, dir, message: 'first\n', author });
    // The bad commit moves and edits the spec; a later commit edits it at its new place.
    await git.remove({ fs, dir, filepath: 'services/api/spec.yml' });
    fs.rmSync(join(dir, 'services/api/spec.yml'));
    await write('services/api/service.yml', lines(0).replace('setting 3', 'setting three'));
    const bad = await git.commit({ fs, dir, message: 'Rename the api spec\n', author: { ...author, timestamp: author.timestamp + 60 } });
    await write('services/api/service.yml', lines(0).replace('setting 3', 'setting three').replace('setting 7', 'setting seven'));
    const head = await git.commit({ fs, dir, message: 'Tune the api\n', author: { ...author, timestamp: author.timestamp + 120 } });

    const gitdir = join(dir, '.git');
    const before = await refSnapshot(gitdir);
    const status = await gitOk(dir, ['status', '--porcelain']);
    const tend = await tendRevert(gitdir, head, bad, { sha: bad, subject: 'Rename the api spec', parents: [(await git.readCommit({ fs, dir, oid: bad })).commit.parent[0] ?? ''] });
    const native = await nativeRevert(dir, bad, false);
    expect(tend).toEqual(native);
    expect(native.kind).toBe('reverted');
    // git's rename detection carried the later edit back to the old path; isomorphic-git's merge would conflict.
    const sha = tend.kind === 'reverted' ? tend.sha : '';
    expect(await gitOk(dir, ['ls-tree', '-r', '--name-only', sha])).toBe('inventory.yml\nservices/api/spec.yml');
    expect(await gitOk(dir, ['show', `${sha}:services/api/spec.yml`])).toBe(lines(0).replace('setting 7', 'setting seven').trim());
    expect(await refSnapshot(gitdir)).toBe(before);
    expect(await gitOk(dir, ['status', '--porcelain'])).toBe(status);
    expect(await linkedWorktrees(gitdir)).toEqual([]);
  });

  it('reverts in a bare gitdir cloned by isomorphic-git over smart HTTP (packfile, packed refs)', async () => {
    const server = await GitServer.start({ user: 'ops', password: 'secret' });
    try {
      const source = await scratch.dir('tend-iso-source-');
      await writeFile(join(source, 'inventory.yml'), 'hosts: []\n');
      await server.createRepo('deploy', source);
      const bad = await server.landCommit('deploy', { message: 'Bump api', files: { 'services/api/spec.yml': 'version: 2\n' } });
      const head = await server.landCommit('deploy', { message: 'Unrelated', files: { 'README.md': 'hello\n' } });
      const gitdir = join(await scratch.dir('tend-iso-clone-'), 'deploy.git');
      await git.clone({ fs, http, gitdir, dir: gitdir, url: server.repoUrl('deploy'), noCheckout: true, onAuth: () => ({ username: 'ops', password: 'secret' }) });
      expect(fs.readdirSync(join(gitdir, 'objects', 'pack')).some((name) => name.endsWith('.pack'))).toBe(true);
      const parent = await gitOk(server.repoPath('deploy'), ['--git-dir=.', 'rev-parse', `${bad}^`]);

      const tend = await tendRevert(gitdir, head, bad, { sha: bad, subject: 'Bump api', parents: [parent] });
      expect(tend).toEqual(await nativeRevert(server.repoPath('deploy'), bad, false));
      expect(tend.kind).toBe('reverted');
      expect(await linkedWorktrees(gitdir)).toEqual([]);
    } finally {
      await server.close();
    }
  });
});

/** A repo whose last commit edits the line the bad commit added: reverting the bad one conflicts. */
async function conflictingRepo(): Promise<{ dir: string; bad: string; head: string; root: string }> {
  const dir = await scratch.dir();
  await initRepo(dir);
  const root = await commitFiles(dir, { 'services/api/spec.yml': 'version: 1\n', 'inventory.yml': 'hosts: []\n' }, 'first');
  const bad = await commitFiles(dir, { 'services/api/spec.yml': 'version: 2\n' }, 'Bump api to 2');
  const head = await commitFiles(dir, { 'services/api/spec.yml': 'version: 3\n' }, 'Bump api to 3');
  return { dir, bad, head, root };
}

describe('createRevertCommit leaves the gitdir as it found it', () => {
  it('removes its worktree and moves no ref after a conflict, and names the paths and the way out', async () => {
    const { dir, bad, head } = await conflictingRepo();
    const gitdir = join(dir, '.git');
    const before = await refSnapshot(gitdir);
    const error = await rejectionOf(createRevertCommit({ gitdir, onto: head, revert: bad, message: 'x\n', identity: TEST_IDENTITY }));
    expect(error).toBeInstanceOf(RevertConflictError);
    expect(error.code).toBe('E_REVERT_CONFLICT');
    expect(error.errorClass).toBe('conflict');
    expect(error.message).toContain('services/api/spec.yml');
    expect(error.hint).toContain(`git revert ${bad}`);
    expect(await refSnapshot(gitdir)).toBe(before);
    expect(await linkedWorktrees(gitdir)).toEqual([]);
    expect(fs.readdirSync(gitdir)).not.toContain('worktrees');
    expect(await gitOk(dir, ['status', '--porcelain'])).toBe('');
  });

  it('writes only a commit object: the branch, HEAD, index and working tree of a clone stay put', async () => {
    const dir = await scratch.dir();
    await initRepo(dir);
    await commitFiles(dir, { 'a.txt': 'a\n' }, 'first');
    const bad = await commitFiles(dir, { 'b.txt': 'b\n' }, 'Add b');
    const head = await commitFiles(dir, { 'a.txt': 'a2\n' }, 'Edit a');
    await writeFile(join(dir, 'a.txt'), 'uncommitted\n');
    const gitdir = join(dir, '.git');
    const before = await refSnapshot(gitdir);
    const created = await createRevertCommit({ gitdir, onto: head, revert: bad, message: revertMessage({ sha: bad, subject: 'Add b', parents: [] }), identity: TEST_IDENTITY });
    expect(await gitOk(dir, ['rev-parse', `${created.sha}^`])).toBe(head);
    expect(await gitOk(dir, ['ls-tree', '--name-only', created.tree])).toBe('a.txt');
    expect(await refSnapshot(gitdir)).toBe(before);
    expect(await gitOk(dir, ['status', '--porcelain'])).toBe('M a.txt');
    expect(await linkedWorktrees(gitdir)).toEqual([]);
  });

  it('stores the message verbatim, with the identity and date it was given', async () => {
    const { dir, root } = await conflictingRepo();
    const bad = await commitFiles(dir, { 'inventory.yml': 'hosts: [web-1]\n' }, 'Add web-1');
    const message = revertMessage({ sha: bad, subject: 'Add web-1', parents: [root] }, { service: 'api', failedHosts: ['web-1'], errorCode: 'E_CANARY_FAILED', probe: undefined, rolloutId: 'r-1' });
    const created = await createRevertCommit({ gitdir: join(dir, '.git'), onto: bad, revert: bad, message, identity: { name: 'tend', email: 'tend@ops.example' }, date: FIXED_DATE });
    expect(await rawMessage(dir, created.sha)).toBe(message);
    expect(await gitOk(dir, ['log', '-1', '--format=%an <%ae> %at|%cn <%ce> %ct', created.sha])).toBe(
      `tend <tend@ops.example> ${FIXED_DATE.getTime() / 1000}|tend <tend@ops.example> ${FIXED_DATE.getTime() / 1000}`,
    );
  });

  it("ignores the user's global git config and the repo's hooks: no signing, git's default rename detection", async () => {
    const dir = await scratch.dir();
    await initRepo(dir);
    const inventory = Array.from({ length: 8 }, (_, index) => `  - web-${index}\n`).join('');
    const root = await commitFiles(dir, { 'inventory.yml': `hosts:\n${inventory}` }, 'first');
    const bad = await commitFiles(dir, { 'inventory.yml': null, 'hosts.yml': `hosts:\n${inventory}` }, 'Move the inventory');
    const head = await commitFiles(dir, { 'hosts.yml': `hosts:\n${inventory.replace('web-5', 'web-five')}` }, 'Rename web-5');
    const home = await scratch.dir('tend-home-');
    // Honoured, these make the revert rename-blind (a modify/delete conflict) and the commit fail for want of a key.
    const hostile = '[pull]\n\ttwohead = recursive\n[merge]\n\trenames = false\n';
    await writeFile(join(home, '.gitconfig'), `${hostile}[commit]\n\tgpgSign = true\n[user]\n\tsigningKey = nonexistent\n`);
    const withHome: NodeJS.ProcessEnv = { ...testGitEnv(), HOME: home };
    delete withHome['GIT_CONFIG_GLOBAL'];
    const sensitive = await nativeGit(dir, ['-c', 'commit.gpgSign=false', 'revert', '--no-commit', bad], { env: withHome });
    expect(sensitive.code, 'git itself must conflict under this config, or the test proves nothing').not.toBe(0);
    await gitOk(dir, ['revert', '--abort']);
    const hooks = ['pre-commit', 'commit-msg', 'post-checkout', 'post-commit', 'reference-transaction'];
    for (const hook of hooks) {
      await writeFile(join(dir, '.git', 'hooks', hook), '#!/bin/sh\nexit 1\n');
      await chmod(join(dir, '.git', 'hooks', hook), 0o755);
    }
    await gitOk(dir, ['config', 'merge.renames', 'false']);
    await gitOk(dir, ['config', 'pull.twohead', 'recursive']);
    const saved = process.env['HOME'];
    let tend: Outcome;
    try {
      process.env['HOME'] = home;
      tend = await tendRevert(join(dir, '.git'), head, bad, { sha: bad, subject: 'Move the inventory', parents: [root] });
    } finally {
      process.env['HOME'] = saved;
    }
    for (const hook of hooks) fs.rmSync(join(dir, '.git', 'hooks', hook));
    await gitOk(dir, ['config', '--unset', 'merge.renames']);
    await gitOk(dir, ['config', '--unset', 'pull.twohead']);
    expect(tend.kind).toBe('reverted');
    expect(tend).toEqual(await nativeRevert(dir, bad, false));
  });
});

describe('createRevertCommit refuses what it must not revert', () => {
  it('refuses the first commit: its revert would delete the whole deploy repo', async () => {
    const { dir, head, root } = await conflictingRepo();
    const error = await rejectionOf(createRevertCommit({ gitdir: join(dir, '.git'), onto: head, revert: root, message: 'x\n', identity: TEST_IDENTITY }));
    expect([error.code, error.errorClass]).toEqual(['E_REVERT_ROOT', 'conflict']);
  });

  it('refuses a commit that is not in the history of onto', async () => {
    const { dir, head } = await conflictingRepo();
    await gitOk(dir, ['switch', '--quiet', '--orphan', 'elsewhere']);
    await commitFiles(dir, { 'x.txt': 'x\n' }, 'unrelated root');
    const elsewhere = await commitFiles(dir, { 'x.txt': 'y\n' }, 'unrelated change');
    const error = await rejectionOf(createRevertCommit({ gitdir: join(dir, '.git'), onto: head, revert: elsewhere, message: 'x\n', identity: TEST_IDENTITY }));
    expect([error.code, error.errorClass]).toEqual(['E_REVERT_NOT_ANCESTOR', 'conflict']);
    expect(error.message).toContain(elsewhere);
  });

  it.each([
    ['an unknown id', '0123456789abcdef0123456789abcdef01234567'],
    ['an option in disguise', '--output=/tmp/tend-pwned'],
    ['a tree, not a commit', 'HEAD^{tree}'],
  ])('refuses %s as the commit to revert', async (_, revision) => {
    const { dir, head } = await conflictingRepo();
    const error = await rejectionOf(createRevertCommit({ gitdir: join(dir, '.git'), onto: head, revert: revision, message: 'x\n', identity: TEST_IDENTITY }));
    expect([error.code, error.errorClass]).toEqual(['E_REVERT_UNKNOWN_COMMIT', 'invalid']);
    expect(fs.existsSync('/tmp/tend-pwned')).toBe(false);
  });

  it('refuses an identity git would mangle', async () => {
    const { dir, bad, head } = await conflictingRepo();
    const error = await rejectionOf(createRevertCommit({ gitdir: join(dir, '.git'), onto: head, revert: bad, message: 'x\n', identity: { name: 'tend <evil>', email: 'a@b' } }));
    expect([error.code, error.errorClass]).toEqual(['E_GIT_IDENTITY', 'invalid']);
  });
});

describe('runNativeGit', () => {
  it('reports a missing git program as E_GIT_NOT_FOUND, a problem for a person rather than a retry', async () => {
    const error = await rejectionOf(runNativeGit(['--version'], { cwd: process.cwd(), env: { PATH: '/nonexistent' }, timeoutMs: 10_000 }));
    expect([error.code, error.errorClass]).toEqual(['E_GIT_NOT_FOUND', 'conflict']);
  });

  it('kills a git that does not finish in time and reports E_GIT_TIMEOUT as transient', async () => {
    const bin = await scratch.dir('tend-fake-git-');
    await writeFile(join(bin, 'git'), '#!/bin/sh\nexec sleep 600\n');
    await chmod(join(bin, 'git'), 0o755);
    const error = await rejectionOf(runNativeGit(['status'], { cwd: process.cwd(), env: { PATH: `${bin}:/usr/bin:/bin` }, timeoutMs: 300 }));
    expect([error.code, error.errorClass]).toEqual(['E_GIT_TIMEOUT', 'transient']);
  });

  it('returns a non-zero exit as an answer, not an error', async () => {
    const result = await runNativeGit(['rev-parse', '--verify', '--quiet', 'no-such-ref'], { cwd: await scratch.dir(), env: process.env, timeoutMs: 10_000 });
    expect(result.code).not.toBe(0);
  });
});
