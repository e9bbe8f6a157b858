import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiServer, type ApiServer } from '../../../src/api/index.js';
import { TendError } from '../../../src/errors/index.js';
import { createLogger } from '../../../src/observability/index.js';
import type { RefPlan } from '../../../src/preview/index.js';
import { stubDaemonApi } from './status-fixtures.js';

/** `POST /api/v1/plan?ref=`: behind the operator token; refusals by HTTP status a CI job can tell apart. */

const TOKEN = 'plan-route-token';
const asked: string[] = [];
let server: ApiServer;

const PLANNED: RefPlan = {
  verdict: 'changes',
  ref: 'feature',
  sha: 'a'.repeat(40),
  services: ['api'],
  notPlanned: ['worker'],
  plan: { empty: false },
  summary: { actions: { create: 0, update: 2, restart: 0, unchanged: 0, prune: 0 }, unreachable: 0, blocked: 0, orphans: 0, services: 1, servicesChanging: 1 },
  error: undefined,
  text: 'Plan of feature\n',
};

beforeAll(async () => {
  server = await startApiServer(
    stubDaemonApi({
      plan: async (ref) => {
        asked.push(ref);
        if (ref === 'gone') throw new TendError('E_PLAN_REF_MISSING', 'invalid', 'gone is not on the server');
        if (ref === 'busy') throw new TendError('E_PLAN_BUSY', 'transient', 'too many plans');
        if (ref === 'git-down') throw new TendError('E_GIT_UNREACHABLE', 'transient', 'git server down');
        return PLANNED;
      },
    }),
    { listen: { host: '127.0.0.1', port: 0 }, webhookSecret: undefined, operatorToken: TOKEN, branch: 'main', logger: createLogger({ level: 'silent' }) },
  );
});

afterAll(async () => {
  await server.close();
});

function post(ref: string, token = TOKEN): Promise<Response> {
  return fetch(`${server.url}/api/v1/plan?ref=${encodeURIComponent(ref)}`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
}

describe('POST /api/v1/plan', () => {
  it('refuses a request without the operator token before planning anything', async () => {
    const before = asked.length;
    expect((await post('feature', 'wrong')).status).toBe(401);
    expect(asked.length).toBe(before);
  });

  it('answers the plan with its verdict, JSON and text', async () => {
    const response = await post('refs/pull/7/head');
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ ok: true, verdict: 'changes', ref: 'feature', sha: 'a'.repeat(40), services: ['api'], notPlanned: ['worker'], plan: { empty: false }, text: 'Plan of feature\n' });
    expect(asked.at(-1)).toBe('refs/pull/7/head');
  });

  const refusals: { ref: string; status: number; code: string }[] = [
    { ref: 'gone', status: 404, code: 'E_PLAN_REF_MISSING' },
    { ref: 'busy', status: 429, code: 'E_PLAN_BUSY' },
    { ref: 'git-down', status: 503, code: 'E_GIT_UNREACHABLE' },
  ];
  for (const { ref, status, code } of refusals) {
    it(`answers ${code} with HTTP ${status}`, async () => {
      const response = await post(ref);
      expect(response.status).toBe(status);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe(code);
      if (status === 429) expect(response.headers.get('retry-after')).toBe('30');
    });
  }
});
