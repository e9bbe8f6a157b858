import { hintOf } from '../../../src/errors/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isTendRevert, parseRevertTrailers, revertedCommitOf, revertMessage, type RevertEvidence } from '../../../src/rollback/index.js';
import { Scratch, commitFiles, git, gitOk, initRepo, rawMessage } from './git-sandbox.js';

/** What `git revert --no-edit` writes is the contract; these tests ask the installed git, byte for byte. */

const scratch = new Scratch();
afterAll(() => scratch.cleanup());

const evidence: RevertEvidence = {
  service: 'api',
  failedHosts: ['web-1', 'web-2'],
  errorCode: 'E_CANARY_FAILED',
  probe: 'http :8080/health -> 500 after 12 s',
  rolloutId: 'r-20260304-0506-7f3a',
};

interface Reverted {
  readonly dir: string;
  readonly bad: { sha: string; subject: string; parents: string[] };
  /** What git stored as the revert's message. */
  readonly gitWrote: string;
}

/** Makes `message` a commit in a fresh repo, reverts it with native git, returns both. */
async function revertWithGit(message: string, { merge = false, depth = 1 } = {}): Promise<Reverted> {
  const dir = await scratch.dir();
  await initRepo(dir);
  await commitFiles(dir, { 'base.txt': 'base\n' }, 'base');
  if (merge) {
    await gitOk(dir, ['switch', '--quiet', '-c', 'side']);
    await commitFiles(dir, { 'side.txt': 'side\n' }, 'side work');
    await gitOk(dir, ['switch', '--quiet', 'main']);
    await commitFiles(dir, { 'main.txt': 'main\n' }, 'main work');
    await gitOk(dir, ['merge', '--quiet', '--no-ff', '--cleanup=verbatim', '-m', message, 'side']);
  } else {
    await commitFiles(dir, { 'change.txt': 'change\n' }, message);
  }
  for (let level = 0; level < depth; level += 1) {
    await gitOk(dir, ['revert', '--no-edit', ...(merge && level === 0 ? ['-m', '1'] : []), 'HEAD']);
  }
  const badSha = await gitOk(dir, ['rev-parse', 'HEAD~1']);
  // Untrimmed: a subject's trailing space is part of what git quotes.
  const [parents = '', ...body] = (await git(dir, ['log', '-1', '--format=%P%n%B', badSha])).stdout.split('\n');
  return {
    dir,
    bad: { sha: badSha, subject: body.join('\n'), parents: parents.split(' ') },
    gitWrote: await rawMessage(dir, 'HEAD'),
  };
}

describe('revertMessage: the header git revert --no-edit writes', () => {
  it.each([
    ['a plain subject', 'Raise api memory to 1G', {}],
    ['a subject with double quotes', 'Say "hello" on start', {}],
    ['a subject with a body', 'Bump api to 1.4.2\n\nThe body is not quoted.', {}],
    ['a first paragraph of two lines (git quotes the first line only)', 'line one\nline two', {}],
    ['unicode and trailing whitespace', 'Déployer l’API:  ', {}],
    ['a merge commit, reverted against its first parent', "Merge branch 'side'", { merge: true }],
  ])('matches git for %s', async (_, message, options) => {
    const reverted = await revertWithGit(message, options);
    expect(revertMessage(reverted.bad)).toBe(reverted.gitWrote);
  });

  it('matches git 2.39 for a revert of a revert: nested quotes, not "Reapply"', async () => {
    const twice = await revertWithGit('Enable the cache', { depth: 2 });
    expect(twice.gitWrote.split('\n', 1)[0]).toBe('Revert "Revert "Enable the cache""');
    expect(revertMessage(twice.bad)).toBe(twice.gitWrote);
    const thrice = await revertWithGit('Enable the cache', { depth: 3 });
    expect(revertMessage(thrice.bad)).toBe(thrice.gitWrote);
  });

  it('writes the merge form with the first parent as git does', () => {
    const message = revertMessage({ sha: 'a'.repeat(40), subject: 'Merge x', parents: ['b'.repeat(40), 'c'.repeat(40)] });
    expect(message).toBe(`Revert "Merge x"\n\nThis reverts commit ${'a'.repeat(40)}, reversing\nchanges made to ${'b'.repeat(40)}.\n`);
  });
});

describe('revertMessage: evidence as git trailers', () => {
  const bad = { sha: '4fb1a711889d6c9e5a81a0e9541a0667c5b05a4a', subject: 'Bump api', parents: ['03aa65bc16a2f8b3504e75a326692d4578272705'] };

  it('puts git\'s header first, then one sentence, then the trailers', () => {
    expect(revertMessage(bad, evidence)).toBe(
      [
        'Revert "Bump api"',
        '',
        `This reverts commit ${bad.sha}.`,
        '',
        `tend reverted this commit because the rollout of api failed on web-1, web-2 (E_CANARY_FAILED). ${hintOf('E_CANARY_FAILED')}`,
        '',
        'Tend-Service: api',
        'Tend-Failed-Hosts: web-1, web-2',
        'Tend-Error-Code: E_CANARY_FAILED',
        'Tend-Probe: http :8080/health -> 500 after 12 s',
        'Tend-Rollout-Id: r-20260304-0506-7f3a',
        '',
      ].join('\n'),
    );
  });

  it('gives trailers that git interpret-trailers parses, and that round-trip through parseRevertTrailers', async () => {
    const dir = await scratch.dir();
    const message = revertMessage(bad, evidence);
    const parsed = await gitOk(dir, ['interpret-trailers', '--parse'], { input: message });
    expect(parsed.split('\n')).toEqual([
      'Tend-Service: api',
      'Tend-Failed-Hosts: web-1, web-2',
      'Tend-Error-Code: E_CANARY_FAILED',
      'Tend-Probe: http :8080/health -> 500 after 12 s',
      'Tend-Rollout-Id: r-20260304-0506-7f3a',
    ]);
    expect(parseRevertTrailers(message)).toEqual(evidence);
  });

  it('leaves out the probe and hosts trailers when there are none', async () => {
    const message = revertMessage(bad, { ...evidence, probe: undefined, failedHosts: [] });
    const parsed = await gitOk(await scratch.dir(), ['interpret-trailers', '--parse'], { input: message });
    expect(parsed.split('\n')).toEqual(['Tend-Service: api', 'Tend-Error-Code: E_CANARY_FAILED', 'Tend-Rollout-Id: r-20260304-0506-7f3a']);
    expect(parseRevertTrailers(message)).toEqual({ ...evidence, probe: undefined, failedHosts: [] });
  });

  it('strips newlines and control characters so that no value can forge or break a trailer', async () => {
    const hostile: RevertEvidence = {
      service: 'api\r\nTend-Rollout-Id: forged',
      failedHosts: ['web-1\n', '\u001b[31mweb-2\u001b[0m'],
      errorCode: 'E_CANARY_FAILED\u0000',
      probe: 'http :8080/health -> 500\n\nTend-Rollout-Id: forged\u2028after\t12 s\u007f',
      rolloutId: 'r-1\nSigned-off-by: mallory',
    };
    const message = revertMessage(bad, hostile);
    expect(message).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f\u2028]/);
    const parsed = (await gitOk(await scratch.dir(), ['interpret-trailers', '--parse'], { input: message })).split('\n');
    expect(parsed).toEqual([
      'Tend-Service: api Tend-Rollout-Id: forged',
      'Tend-Failed-Hosts: web-1, [31mweb-2 [0m',
      'Tend-Error-Code: E_CANARY_FAILED',
      'Tend-Probe: http :8080/health -> 500 Tend-Rollout-Id: forged after 12 s',
      'Tend-Rollout-Id: r-1 Signed-off-by: mallory',
    ]);
    expect(parseRevertTrailers(message)?.rolloutId).toBe('r-1 Signed-off-by: mallory');
  });

  it('masks credentials in a URL and bounds a long probe to one short line', () => {
    const message = revertMessage(bad, { ...evidence, probe: `GET https://ops:hunter2@api.internal/health -> 401 ${'x'.repeat(500)}` });
    const probe = parseRevertTrailers(message)?.probe ?? '';
    expect(probe).toMatch(/^GET https:\/\/\*\*\*@api\.internal\/health -> 401 x+…$/);
    expect(probe).not.toContain('hunter2');
    expect(probe.length).toBeLessThanOrEqual(200);
  });

  it('writes a person\'s reason as a paragraph with no trailers: not tend\'s own revert', () => {
    const message = revertMessage(bad, { reason: 'The canary\nwas fine, web-3 was not.' });
    expect(message).toBe(`Revert "Bump api"\n\nThis reverts commit ${bad.sha}.\n\nThe canary was fine, web-3 was not.\n`);
    expect(isTendRevert(message)).toBe(false);
    expect(revertedCommitOf(message)).toBe(bad.sha);
  });
});

describe('reading reverts back from history', () => {
  it('finds the reverted commit in what git revert wrote, for a commit and for a merge', async () => {
    const plain = await revertWithGit('Bump api');
    expect(revertedCommitOf(plain.gitWrote)).toBe(plain.bad.sha);
    const merge = await revertWithGit("Merge branch 'side'", { merge: true });
    expect(revertedCommitOf(merge.gitWrote)).toBe(merge.bad.sha);
  });

  it('finds the reverted commit after a person edited the message around git\'s line', () => {
    const sha = 'f'.repeat(40);
    expect(revertedCommitOf(`Revert the cache change\n\nIt broke the canary.\nThis reverts commit ${sha}.\n`)).toBe(sha);
    expect(revertedCommitOf(`Revert "x"\n\nThis reverts commit ${'a'.repeat(64)}.\n`)).toBe('a'.repeat(64));
  });

  it('finds no reverted commit in an ordinary message, or in a sha that is only mentioned', () => {
    expect(revertedCommitOf('Bump api\n\nFixes the bug from 4fb1a711889d6c9e5a81a0e9541a0667c5b05a4a.\n')).toBeUndefined();
    expect(revertedCommitOf('Note: This reverts commit 4fb1a71 partly.\n')).toBeUndefined();
  });

  it('tells tend\'s own reverts from a person\'s git revert and from a mention of the trailer', async () => {
    const bad = { sha: 'a'.repeat(40), subject: 'x', parents: ['b'.repeat(40)] };
    expect(isTendRevert(revertMessage(bad, evidence))).toBe(true);
    expect(isTendRevert(revertMessage(bad))).toBe(false);
    expect(isTendRevert(`Explain\n\nWe no longer write Tend-Rollout-Id: into commits.\n\nSigned-off-by: a <a@b>\n`)).toBe(false);
    expect(isTendRevert('Tend-Rollout-Id: 1\n')).toBe(false);
    // A tend revert that a person amended with a sign-off is still tend's: git appends to the trailer block.
    const dir = await scratch.dir();
    const amended = (await git(dir, ['interpret-trailers', '--trailer', 'Signed-off-by: A Person <a@example.com>'], { input: revertMessage(bad, evidence) })).stdout;
    expect(isTendRevert(amended)).toBe(true);
    expect(parseRevertTrailers(amended)?.rolloutId).toBe(evidence.rolloutId);
  });
});
