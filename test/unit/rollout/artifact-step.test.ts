import { describe, expect, it } from 'vitest';
import type { UrlDelivery } from '../../../src/artifacts/index.js';
import type { RemoteFiles, RunOptions, RunResult } from '../../../src/hosts/index.js';
import { stageUrlRelease } from '../../../src/rollout/artifact-step.js';
import type { HostSpec, UrlRun } from '../../../src/spec/model.js';
import { rejectionOf } from '../../support/tend-error.js';
import { aService, hash } from '../plan/builders.js';

/** The host step of a run.url service against a scripted host: how often it asks, and what it blames. */

const TOKEN = 'canary-step-token-0c4e';
const HOST: HostSpec = { name: 'web-1', address: '10.0.0.1', port: 22, user: 'deploy', hostKey: 'ssh-ed25519 AAAA', vars: new Map(), source: { file: 'inventory.yml', line: 1, col: 1 } };
const RUN: UrlRun = {
  kind: 'url',
  url: 'https://store.example.com/api-2',
  sha256: hash('api-2'),
  downloadName: 'api-2',
  archive: undefined,
  fileName: 'api-2',
  fetch: 'host',
  credentials: { scheme: 'bearer', secret: 'store_token', where: { file: 'services/api/spec.yml', line: 8, col: 20 } },
  argv: ['api-2'],
};

/** A host that answers every command with the next scripted result, recording what it was sent. */
function scriptedHost(answers: RunResult[]): { pool: RemoteFiles; sent: { argv: readonly string[]; options: RunOptions | undefined }[] } {
  const sent: { argv: readonly string[]; options: RunOptions | undefined }[] = [];
  const pool: RemoteFiles = {
    run: async (_host, argv, options) => {
      sent.push({ argv, options });
      const answer = answers.shift();
      if (answer === undefined) throw new Error('the host was asked more often than scripted');
      return answer;
    },
    withSftp: () => Promise.reject(new Error('no SFTP')),
  };
  return { pool, sent };
}

const delivery = (bytes = Buffer.from('x')): UrlDelivery => ({
  downloader: { download: async () => bytes },
  credentials: async (ref) => ({ scheme: ref.scheme, secret: ref.secret, value: TOKEN }),
});
const noSleep = async (): Promise<void> => undefined;
const refused: RunResult = { code: 67, stdout: 'tend-fetch failed tool=curl exit=7 http=000\ncurl: (7) Connection refused\n', stderr: '' };

describe('stageUrlRelease', () => {
  it('sends a private store\'s header on stdin only, never in the argv a host\'s ps and sudo log show', async () => {
    const { pool, sent } = scriptedHost([{ code: 0, stdout: 'tend-stage staged\n', stderr: '' }]);
    await stageUrlRelease(aService('api'), RUN, HOST, { pool, sleep: noSleep, urlDelivery: delivery() }, () => undefined);
    expect(sent).toHaveLength(1);
    expect(JSON.stringify(sent[0]?.argv)).not.toContain(TOKEN);
    expect(sent[0]?.options?.stdin).toBe(`Authorization: Bearer ${TOKEN}\n`);
  });

  it('retries a store that is down a bounded number of times, then fails transient', async () => {
    const { pool, sent } = scriptedHost([refused, refused, refused, refused]);
    const error = await rejectionOf(stageUrlRelease(aService('api'), RUN, HOST, { pool, sleep: noSleep, urlDelivery: delivery() }, () => undefined));
    expect({ code: error.code, errorClass: error.errorClass }).toEqual({ code: 'E_ARTIFACT_STORE_UNAVAILABLE', errorClass: 'transient' });
    expect(sent).toHaveLength(3);
  });

  it('recovers when the store answers again within those attempts', async () => {
    const { pool, sent } = scriptedHost([refused, { code: 0, stdout: 'tend-stage staged\n', stderr: '' }]);
    await stageUrlRelease(aService('api'), RUN, HOST, { pool, sleep: noSleep, urlDelivery: delivery() }, () => undefined);
    expect(sent).toHaveLength(2);
  });

  it('blames the change at once for a 404 or a hash mismatch on the host, asking no second time', async () => {
    for (const [answer, code] of [
      [{ code: 67, stdout: 'tend-fetch failed tool=curl exit=22 http=404\n', stderr: '' }, 'E_ARTIFACT_NOT_FOUND'],
      [{ code: 65, stdout: `tend-stage corrupt sha256=${hash('other')}\n`, stderr: '' }, 'E_ARTIFACT_HASH_MISMATCH'],
    ] as const) {
      const { pool, sent } = scriptedHost([answer, answer]);
      const error = await rejectionOf(stageUrlRelease(aService('api'), RUN, HOST, { pool, sleep: noSleep, urlDelivery: delivery() }, () => undefined));
      expect({ code: error.code, errorClass: error.errorClass, where: error.where }).toEqual({ code, errorClass: 'change', where: { host: 'web-1', command: `fetch ${RUN.url}` } });
      expect(error.message).not.toContain(TOKEN);
      expect(sent).toHaveLength(1);
    }
  });

  it('with fetch: tend, takes other bytes on the host than tend verified for the transfer\'s fault: transient', async () => {
    const { pool, sent } = scriptedHost([{ code: 65, stdout: `tend-stage corrupt sha256=${hash('other')}\n`, stderr: '' }]);
    const error = await rejectionOf(stageUrlRelease(aService('api'), { ...RUN, fetch: 'tend' }, HOST, { pool, sleep: noSleep, urlDelivery: delivery() }, () => undefined));
    expect({ code: error.code, errorClass: error.errorClass }).toEqual({ code: 'E_ARTIFACT_CORRUPT', errorClass: 'transient' });
    // The bytes went on stdin; no header goes to the host at all when tend downloads.
    expect(JSON.stringify(sent.map((one) => one.argv))).not.toContain(TOKEN);
    expect(Buffer.from(sent[0]?.options?.stdin ?? '').toString()).not.toContain(TOKEN);
  });
});
