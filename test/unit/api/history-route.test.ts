import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiServer, type ApiServer } from '../../../src/api/index.js';
import { createLogger } from '../../../src/observability/index.js';
import { FAILED_ROLLOUT_HISTORY, stubDaemonApi } from './status-fixtures.js';

/** `GET /history`: the journal's rollout records as kept (oldest first), for one service when asked. */

const kept = [...FAILED_ROLLOUT_HISTORY].reverse();
let server: ApiServer;

beforeAll(async () => {
  server = await startApiServer(
    stubDaemonApi({ history: () => kept }),
    { listen: { host: '127.0.0.1', port: 0 }, webhookSecret: undefined, operatorToken: 'token', branch: 'main', logger: createLogger({ level: 'silent' }) },
  );
});

afterAll(async () => {
  await server.close();
});

describe('GET /history', () => {
  it('answers every kept rollout, oldest first, as JSON', async () => {
    const response = await fetch(`${server.url}/history`);
    expect(response.status).toBe(200);
    expect(((await response.json()) as { rollouts: { rolloutId: string }[] }).rollouts.map((one) => one.rolloutId)).toEqual(kept.map((one) => one.rolloutId));
  });

  it('answers only the rollouts of ?service=', async () => {
    const body = (await (await fetch(`${server.url}/history?service=api`)).json()) as { rollouts: { service: string; subject: string; author: string }[] };
    expect(body.rollouts).toEqual([expect.objectContaining({ service: 'api', subject: 'api: raise the connection pool to 400', author: 'Bob Builder <bob@example.com>' })]);
  });
});
