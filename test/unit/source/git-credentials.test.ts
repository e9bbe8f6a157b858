import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { inspect } from 'node:util';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { TendError } from '../../../src/errors/index.js';
import {
  GitCredentials,
  TOKEN_USERNAME,
  checkRepositoryUrl,
  credentialsFromEnvironment,
  loadGitCredentials,
  readCredentialsFile,
} from '../../../src/source/index.js';
import { scratchDir } from './scratch-git.js';

const SECRET = 's3cr3t-value-no-one-may-see';

let scratch: { path: string; remove: () => Promise<void> };
let files = 0;

beforeAll(async () => {
  scratch = await scratchDir('credentials');
});

afterAll(async () => {
  await scratch.remove();
});

async function fileWith(content: string): Promise<string> {
  files += 1;
  const path = join(scratch.path, `credentials-${files}`);
  await writeFile(path, content, { mode: 0o600 });
  return path;
}

function thrown(call: () => unknown): TendError {
  try {
    call();
  } catch (error) {
    if (error instanceof TendError) return error;
    throw error;
  }
  throw new Error('expected a TendError');
}

const plain = (credentials: GitCredentials | undefined) =>
  credentials === undefined ? undefined : { username: credentials.username, password: credentials.password };

describe('readCredentialsFile', () => {
  it.each([
    ['username:password', `deployer:${SECRET}\n`, { username: 'deployer', password: SECRET }],
    ['a password with colons, split at the first', `deployer:${SECRET}:x\n`, { username: 'deployer', password: `${SECRET}:x` }],
    ['a token alone', `${SECRET}\n`, { username: TOKEN_USERNAME, password: SECRET }],
    ['surrounding blank lines and spaces, CRLF', `\r\n  ${SECRET}  \r\n\r\n`, { username: TOKEN_USERNAME, password: SECRET }],
  ])('reads %s', async (_name, content, expected) => {
    expect(plain(await readCredentialsFile(await fileWith(content)))).toEqual(expected);
  });

  it.each([
    ['an empty file', '\n\n', /is empty/],
    ['two lines', `deployer\n${SECRET}\n`, /has 2 lines/],
    ['an empty username', `:${SECRET}\n`, /empty username/],
    ['an empty password', `deployer${SECRET}:\n`, /empty password/],
  ])('refuses %s without showing its content', async (_name, content, message) => {
    const error = await readCredentialsFile(await fileWith(content)).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'E_GIT_CREDENTIALS', errorClass: 'invalid', message: expect.stringMatching(message) });
    expect(`${String(error)} ${(error as TendError).hint ?? ''}`).not.toContain(SECRET);
  });

  it('names a file it cannot read', async () => {
    const path = join(scratch.path, 'missing');
    await expect(readCredentialsFile(path)).rejects.toMatchObject({ code: 'E_GIT_CREDENTIALS', message: expect.stringContaining(`${path}: ENOENT`) });
  });
});

describe('credentialsFromEnvironment', () => {
  it.each([
    ['nothing set', {}, undefined],
    ['a token', { TEND_GIT_TOKEN: SECRET }, { username: TOKEN_USERNAME, password: SECRET }],
    ['a token with a username', { TEND_GIT_TOKEN: SECRET, TEND_GIT_USERNAME: 'oauth2' }, { username: 'oauth2', password: SECRET }],
    ['username and password', { TEND_GIT_USERNAME: 'deployer', TEND_GIT_PASSWORD: SECRET }, { username: 'deployer', password: SECRET }],
    ['empty values count as unset', { TEND_GIT_TOKEN: '', TEND_GIT_USERNAME: '' }, undefined],
  ])('%s', (_name, env, expected) => {
    expect(plain(credentialsFromEnvironment(env))).toEqual(expected);
  });

  it.each([
    ['a password without a username', { TEND_GIT_PASSWORD: SECRET }, /TEND_GIT_USERNAME is not set/],
    ['a username without a password', { TEND_GIT_USERNAME: 'deployer' }, /TEND_GIT_PASSWORD is not set/],
    ['both a token and a password', { TEND_GIT_TOKEN: SECRET, TEND_GIT_PASSWORD: SECRET }, /both/],
  ])('refuses %s', (_name, env, message) => {
    const error = thrown(() => credentialsFromEnvironment(env));
    expect(error).toMatchObject({ code: 'E_GIT_CREDENTIALS', message: expect.stringMatching(message) });
    expect(error.message).not.toContain(SECRET);
  });

  it('loadGitCredentials prefers the file, so a stray variable cannot override it', async () => {
    const file = await fileWith(`deployer:${SECRET}\n`);
    expect(plain(await loadGitCredentials({ file, env: { TEND_GIT_TOKEN: 'other' } }))).toEqual({ username: 'deployer', password: SECRET });
    expect(plain(await loadGitCredentials({ env: { TEND_GIT_TOKEN: 'other' } }))).toEqual({ username: TOKEN_USERNAME, password: 'other' });
  });
});

describe('GitCredentials', () => {
  it('prints redacted through JSON and util.inspect', () => {
    const credentials = new GitCredentials('deployer', SECRET);
    expect(JSON.stringify({ credentials })).toBe('{"credentials":{"username":"deployer","password":"[redacted]"}}');
    expect(inspect({ credentials })).not.toContain(SECRET);
    expect(credentials.password).toBe(SECRET);
  });
});

describe('checkRepositoryUrl', () => {
  it('returns the URL as safe to show, without a query', () => {
    expect(checkRepositoryUrl('https://git.example.com/ops/deploy.git?private_token=x')).toBe('https://git.example.com/ops/deploy.git');
  });

  it.each([
    ['user and password', `https://deployer:${SECRET}@git.example.com/ops/deploy.git`],
    ['a token as the user', `https://${SECRET}@git.example.com/ops/deploy.git`],
  ])('refuses %s in the URL, without repeating them', (_name, url) => {
    const error = thrown(() => checkRepositoryUrl(url));
    expect(error).toMatchObject({ code: 'E_GIT_URL_CREDENTIALS', errorClass: 'invalid' });
    expect(error.message).toContain('https://<credentials>@git.example.com/ops/deploy.git');
    expect(error.hint).toMatch(/credentials file/);
    expect(`${error.message} ${error.hint ?? ''}`).not.toContain(SECRET);
  });

  it.each([
    ['ssh', 'ssh://git@git.example.com/ops/deploy.git', /smart HTTP/],
    ['a local path', '/srv/deploy', /not a valid URL/],
    ['file://', 'file:///srv/deploy', /smart HTTP/],
  ])('refuses %s', (_name, url, message) => {
    expect(thrown(() => checkRepositoryUrl(url))).toMatchObject({ code: 'E_GIT_URL', errorClass: 'invalid', message: expect.stringMatching(message) });
  });
});
