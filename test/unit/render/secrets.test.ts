import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { directorySecretSource, loadSecrets, secretRefs, secretSourceFromEnv } from '../../../src/render/index.js';
import { rejectionOf } from '../../support/tend-error.js';
import { at, env, secret, service, text } from './fixtures.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tend-secrets-'));
  await writeFile(join(dir, 'db_password'), 'hunter2\n');
  await writeFile(join(dir, 'crlf'), 'windows\r\n');
  await writeFile(join(dir, 'spaces'), '  padded  \n\n');
  await writeFile(join(dir, 'multiline'), 'line1\nline2\n');
  await mkdir(join(dir, 'a-directory'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('directorySecretSource', () => {
  const source = () => directorySecretSource(dir);

  it.each([
    ['drops one trailing newline', 'db_password', 'hunter2'],
    ['drops one trailing CRLF', 'crlf', 'windows'],
    ['keeps other whitespace, including a second newline', 'spaces', '  padded  \n'],
  ])('%s', async (_name, file, expected) => {
    expect(await source().read(file)).toBe(expected);
  });

  it('reports an absent file as no secret', async () => {
    expect(await source().read('absent')).toBeUndefined();
  });

  it.each(['../etc/passwd', '.hidden', 'a/b', ''])('refuses name %j, which could leave the directory', async (name) => {
    expect(await rejectionOf(source().read(name))).toMatchObject({ code: 'E_SECRET_NAME', errorClass: 'invalid' });
  });

  it('reports an unreadable entry as E_SECRET_UNREADABLE', async () => {
    expect(await rejectionOf(source().read('a-directory'))).toMatchObject({ code: 'E_SECRET_UNREADABLE' });
  });
});

describe('secretSourceFromEnv', () => {
  it('reads the directory named by TEND_SECRETS_DIR', async () => {
    expect(await secretSourceFromEnv({ TEND_SECRETS_DIR: dir })?.read('db_password')).toBe('hunter2');
  });

  it('has no source when TEND_SECRETS_DIR is unset or empty', () => {
    expect(secretSourceFromEnv({})).toBeUndefined();
    expect(secretSourceFromEnv({ TEND_SECRETS_DIR: '' })).toBeUndefined();
  });
});

describe('loadSecrets', () => {
  const api = service({
    environment: [env('DB', 3, secret('db_password')), env('TOKEN', 4, secret('api_token')), env('KEY', 5, secret('signing_key'))],
  });
  const worker = service({ name: 'worker', environment: [env('DB', 9, text('x'), secret('db_password'))] });

  it('lists each referenced secret once, by name, with its first spec line', () => {
    expect(secretRefs([api, worker])).toEqual([
      { name: 'api_token', where: at('services/api/spec.yml', 4) },
      { name: 'db_password', where: at('services/api/spec.yml', 3) },
      { name: 'signing_key', where: at('services/api/spec.yml', 5) },
    ]);
  });

  it('lists the secret a private artifact store\'s credentials name, so a missing one stops apply before any host', () => {
    const fromStore = service({
      name: 'store',
      run: { kind: 'url', url: 'https://store.example.com/api', sha256: 'a'.repeat(64), downloadName: 'api', archive: undefined, fileName: 'api', fetch: 'host', credentials: { scheme: 'bearer', secret: 'store_token', where: at('services/store/spec.yml', 7) }, argv: ['api'] },
    });
    expect(secretRefs([fromStore, worker])).toEqual([
      expect.objectContaining({ name: 'db_password' }),
      { name: 'store_token', where: at('services/store/spec.yml', 7) },
    ]);
  });

  it('resolves every secret the source has', async () => {
    const resolver = await loadSecrets(directorySecretSource(dir), secretRefs([worker]));
    expect(resolver.mode).toBe('resolved');
    expect(resolver.resolve('db_password', at('x', 1))).toBe('hunter2');
  });

  it('names every missing secret in one E_SECRET_MISSING, with a hint and no values', async () => {
    const error = await rejectionOf(loadSecrets(directorySecretSource(dir), secretRefs([api])));
    expect(error).toMatchObject({ code: 'E_SECRET_MISSING', errorClass: 'invalid', where: { file: 'services/api/spec.yml', line: 4 } });
    expect(error.message).toContain('api_token, signing_key');
    expect(error.message).not.toContain('hunter2');
    expect(error.hint).toContain('TEND_SECRETS_DIR');
    expect(error.retryable).toBe(false);
  });

  it('says TEND_SECRETS_DIR is not set when there is no source', async () => {
    const error = await rejectionOf(loadSecrets(undefined, secretRefs([worker])));
    expect(error.code).toBe('E_SECRET_MISSING');
    expect(error.message).toContain('TEND_SECRETS_DIR is not set');
  });

  it('refuses a multi-line secret without printing it', async () => {
    const spec = service({ environment: [env('PEM', 6, secret('multiline'))] });
    const error = await rejectionOf(loadSecrets(directorySecretSource(dir), secretRefs([spec])));
    expect(error).toMatchObject({ code: 'E_SECRET_INVALID', errorClass: 'invalid' });
    expect(error.message).not.toContain('line1');
  });
});
