import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { artifactDownloader, urlDelivery } from '../../../src/artifacts/index.js';
import { directorySecretSource } from '../../../src/render/index.js';
import { rejectionOf } from '../../support/tend-error.js';

async function expectTendError(promise: Promise<unknown>, code: string, errorClass: string): Promise<void> {
  const error = await rejectionOf(promise);
  expect({ code: error.code, errorClass: error.errorClass }).toEqual({ code, errorClass });
}

/** fetch: tend against a real HTTP store: once per sha256, verified before any host sees it, bounded retries. */

const BYTES = Buffer.from('the api, version 2\n');
const SHA = createHash('sha256').update(BYTES).digest('hex');
const TOKEN = 'canary-store-token-91be';
const noSleep = async (): Promise<void> => undefined;

let server: Server;
let base: string;
let scratch: string;
let requests: { path: string; authorization: string | undefined }[] = [];
/** Answers for /flaky, in order; then 200. */
let flaky: number[] = [];

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'tend-download-'));
  server = createServer((request, response) => {
    requests.push({ path: request.url ?? '', authorization: request.headers.authorization });
    if (request.url === '/api') return void setTimeout(() => response.end(BYTES), 20);
    if (request.url === '/flaky') {
      const status = flaky.shift();
      return void (status === undefined ? response.end(BYTES) : response.writeHead(status).end());
    }
    if (request.url === '/private') {
      return void (request.headers.authorization === `Bearer ${TOKEN}` ? response.end(BYTES) : response.writeHead(401).end());
    }
    response.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

beforeEach(() => {
  requests = [];
  flaky = [];
});

afterAll(async () => {
  await new Promise<void>((resolve) => server?.close(() => resolve()));
  if (scratch !== undefined) await rm(scratch, { recursive: true, force: true });
});

const request = (path: string, sha256 = SHA) => ({ service: 'api', url: `${base}${path}`, sha256, credentials: undefined });

describe('artifactDownloader', () => {
  it('downloads each sha256 once, however many hosts ask at the same time and later', async () => {
    const downloader = artifactDownloader({ sleep: noSleep });
    const all = await Promise.all([1, 2, 3, 4].map(() => downloader.download(request('/api'))));
    expect(all.every((bytes) => Buffer.from(bytes).equals(BYTES))).toBe(true);
    await downloader.download(request('/api'));
    expect(requests).toHaveLength(1);
  });

  it('keeps a verified download in the cache directory, and a new tend uses it without the store', async () => {
    const cacheDir = join(scratch, 'cache');
    await artifactDownloader({ cacheDir, sleep: noSleep }).download(request('/api'));
    expect(await readdir(cacheDir)).toEqual([SHA]);
    const again = await artifactDownloader({ cacheDir, sleep: noSleep }).download({ ...request('/api'), url: `${base}/gone` });
    expect(Buffer.from(again).equals(BYTES)).toBe(true);
    expect(requests).toHaveLength(1);
  });

  it('does not trust a cache file that no longer hashes to its name', async () => {
    const cacheDir = join(scratch, 'rotten');
    await artifactDownloader({ cacheDir, sleep: noSleep }).download(request('/api'));
    await writeFile(join(cacheDir, SHA), 'rotted');
    await artifactDownloader({ cacheDir, sleep: noSleep }).download(request('/api'));
    expect(requests).toHaveLength(2);
  });

  it('refuses other bytes than the commit pins (change), before any host sees them', async () => {
    const downloader = artifactDownloader({ sleep: noSleep });
    await expectTendError(downloader.download(request('/api', 'f'.repeat(64))), 'E_ARTIFACT_HASH_MISMATCH', 'change');
  });

  it('fails a 404 at once as a change, with no retry', async () => {
    await expectTendError(artifactDownloader({ sleep: noSleep }).download(request('/nothing')), 'E_ARTIFACT_NOT_FOUND', 'change');
    expect(requests).toHaveLength(1);
  });

  it('retries a store in trouble a bounded number of times, then fails transient', async () => {
    flaky = [503, 502];
    const bytes = await artifactDownloader({ sleep: noSleep, attempts: 3 }).download(request('/flaky'));
    expect(Buffer.from(bytes).equals(BYTES)).toBe(true);
    flaky = [503, 503, 503, 503];
    requests = [];
    await expectTendError(artifactDownloader({ sleep: noSleep, attempts: 3 }).download(request('/flaky')), 'E_ARTIFACT_STORE_UNAVAILABLE', 'transient');
    expect(requests).toHaveLength(3);
  });

  it('classifies a store that is down as transient', async () => {
    const down = createServer();
    await new Promise<void>((resolve) => down.listen(0, '127.0.0.1', resolve));
    const port = (down.address() as AddressInfo).port;
    await new Promise<void>((resolve) => down.close(() => resolve()));
    await expectTendError(artifactDownloader({ sleep: noSleep }).download({ ...request('/api'), url: `http://127.0.0.1:${port}/api` }), 'E_ARTIFACT_STORE_UNAVAILABLE', 'transient');
  });
});

describe('urlDelivery credentials', () => {
  it('sends the secret as a bearer header, and no message of a refusal carries it', async () => {
    const secrets = join(scratch, 'secrets');
    await rm(secrets, { recursive: true, force: true });
    await mkdir(secrets);
    await writeFile(join(secrets, 'store_token'), `${TOKEN}\n`, { mode: 0o600 });
    const delivery = urlDelivery({ secrets: directorySecretSource(secrets) });
    const where = { file: 'services/api/spec.yml', line: 9, col: 14 };
    const credentials = await delivery.credentials({ scheme: 'bearer', secret: 'store_token', where });
    const bytes = await delivery.downloader.download({ ...request('/private'), credentials });
    expect(Buffer.from(bytes).equals(BYTES)).toBe(true);
    expect(requests.at(-1)?.authorization).toBe(`Bearer ${TOKEN}`);

    const wrong = await delivery.credentials({ scheme: 'basic', secret: 'store_token', where });
    const refused = await rejectionOf(urlDelivery({ secrets: directorySecretSource(secrets) }).downloader.download({ ...request('/private'), credentials: wrong }));
    expect(refused.code).toBe('E_SECRET_INVALID');
    expect(`${refused.message} ${refused.hint} ${JSON.stringify(refused.where)}`).not.toContain(TOKEN);
    await expectTendError(delivery.credentials({ scheme: 'bearer', secret: 'no_such_secret', where }), 'E_SECRET_MISSING', 'invalid');
  });
});
