import { describe, expect, it } from 'vitest';
import { PLAN_COMMENT_MARKER, planCommentBody, planStatus, retryDelay, statusDescription } from '../../../src/githost/index.js';
import type { RefPlan } from '../../../src/preview/index.js';
import { TendError } from '../../../src/errors/index.js';

/** The pure pieces of pull request publishing: the status decision, the comment body, the retry schedule. */

const SHA = 'd'.repeat(40);
const SUMMARY = { actions: { create: 1, update: 2, restart: 0, unchanged: 3, prune: 0 }, unreachable: 0, blocked: 0, orphans: 0, services: 2, servicesChanging: 2 };

function planned(overrides: Partial<Exclude<RefPlan, { verdict: 'invalid' }>> = {}): RefPlan {
  return { verdict: 'changes', ref: SHA, sha: SHA, services: ['api', 'web'], notPlanned: [], plan: {}, summary: SUMMARY, error: undefined, text: 'api\n  batch 1:\n    update    web-1\n', ...overrides };
}

const INVALID: RefPlan = {
  verdict: 'invalid',
  ref: SHA,
  sha: SHA,
  issues: [
    { file: 'services/api/spec.yml', line: 5, col: 5, code: 'E_SCHEMA', message: 'unknown field `serail`', hint: 'Did you mean `serial`?' },
    { file: 'inventory.yml', line: 2, col: 3, code: 'E_SCHEMA', message: 'address must be a string' },
  ],
  text: '',
};

describe('planStatus', () => {
  const cases: { name: string; plan: RefPlan; state: string; description: RegExp }[] = [
    { name: 'success for a valid ref, with what it changes', plan: planned(), state: 'success', description: /^valid; 1 to create, 2 to update in api, web$/ },
    { name: 'success for a valid ref that changes nothing', plan: planned({ verdict: 'no-changes', summary: { ...SUMMARY, actions: { create: 0, update: 0, restart: 0, unchanged: 3, prune: 0 } } }), state: 'success', description: /^valid; no changes/ },
    { name: 'failure for an invalid ref, with its first issue at file:line:col', plan: INVALID, state: 'failure', description: /^invalid \(2 errors\): services\/api\/spec\.yml:5:5: unknown field/ },
    { name: 'error when hosts could not be observed', plan: planned({ verdict: 'error', error: new TendError('E_PLAN_INCOMPLETE', 'transient', '1 of 2 hosts could not be observed') }), state: 'error', description: /^could not plan: E_PLAN_INCOMPLETE/ },
  ];
  for (const { name, plan, state, description } of cases) {
    it(name, () => {
      const status = planStatus(plan);
      expect(status).toMatchObject({ sha: SHA, context: 'tend/plan', state });
      expect(status.description).toMatch(description);
    });
  }

  it('cuts a description to the 140 characters GitHub takes, on one line', () => {
    const cut = statusDescription(`a\n${'x'.repeat(300)}`);
    expect(cut).toHaveLength(140);
    expect(cut).not.toContain('\n');
  });
});

describe('planCommentBody', () => {
  it('carries the marker tend finds its comment by, the commit and the plan text', () => {
    const body = planCommentBody(planned(), 'https://tend.example.com/');
    expect(body.startsWith(`${PLAN_COMMENT_MARKER}\n`)).toBe(true);
    expect(body).toContain(`Commit \`${SHA}\``);
    expect(body).toContain('    update    web-1');
    expect(body).toContain('[tend status](https://tend.example.com/)');
  });

  it('lists every issue of an invalid ref at file:line:col with its hint', () => {
    const body = planCommentBody(INVALID);
    expect(body).toContain('services/api/spec.yml:5:5: unknown field `serail` (E_SCHEMA)\n  hint: Did you mean `serial`?');
    expect(body).toContain('inventory.yml:2:3: address must be a string (E_SCHEMA)');
  });

  it('cannot be broken out of its code block by the text it quotes', () => {
    const body = planCommentBody(planned({ text: 'x\n~~~\n# injected heading\n' }));
    expect(body.match(/^~~~/gm)).toHaveLength(2);
  });

  it('stays under the 65,536 characters GitHub accepts for a huge plan', () => {
    const body = planCommentBody(planned({ text: 'update web-1\n'.repeat(10_000) }));
    expect(body.length).toBeLessThan(65_536);
    expect(body).toContain('… cut: the whole plan is');
  });
});

describe('retryDelay', () => {
  const budget = { maxAttempts: 4, budgetMs: 60_000, baseDelayMs: 1_000, maxDelayMs: 8_000 };
  const cases: { name: string; attempts: number; elapsedMs: number; retryAfterMs?: number; want: number | undefined }[] = [
    { name: 'waits the base delay after the first failure', attempts: 1, elapsedMs: 0, want: 1_000 },
    { name: 'doubles after each failure', attempts: 3, elapsedMs: 3_000, want: 4_000 },
    { name: 'honours a longer Retry-After', attempts: 1, elapsedMs: 0, retryAfterMs: 5_000, want: 5_000 },
    { name: 'caps a Retry-After at the longest delay', attempts: 1, elapsedMs: 0, retryAfterMs: 3_600_000, want: 8_000 },
    { name: 'gives up after the last attempt', attempts: 4, elapsedMs: 10_000, want: undefined },
    { name: 'gives up when the wait would end past the budget', attempts: 2, elapsedMs: 59_000, want: undefined },
  ];
  for (const { name, attempts, elapsedMs, retryAfterMs, want } of cases) {
    it(name, () => {
      expect(retryDelay(budget, attempts, elapsedMs, retryAfterMs)).toBe(want);
    });
  }
});
