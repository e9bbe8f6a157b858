import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { STATUS_PAGE_HEADERS, renderStatusPage } from '../../../src/api/status-page.js';
import type { DaemonStatus } from '../../../src/status/index.js';
import { chromium, CHROMIUM_TIMEOUT_MS, ensureChromium, INSTALL_TIMEOUT_MS } from '../../support/chromium.js';
import { GOOD, NOW, baseStatus, failedRolloutStatus, invalidCommitStatus, synced } from './status-fixtures.js';

const run = promisify(execFile);

const ARTIFACTS = fileURLToPath(new URL('../../../test-artifacts/', import.meta.url));
const PHONE = '412,915';
const DESKTOP = '1280,1000';
const DESKTOP_FULL = '1280,1900';

const INJECTED = `<script>document.documentElement.setAttribute('data-pwned', 'yes')</script><img src=x onerror="document.documentElement.setAttribute('data-pwned', 'img')">`;

const pages: Readonly<Record<string, () => string>> = {
  '/failed-rollout': () => renderStatusPage(failedRolloutStatus(), NOW),
  '/invalid-commit': () => renderStatusPage(invalidCommitStatus(), NOW),
  '/converged': () => {
    const converged = baseStatus([synced('api'), synced('gateway'), synced('queue')]);
    return renderStatusPage({ ...converged, source: { ...converged.source, head: GOOD }, lastAttempted: GOOD }, NOW);
  },
  '/injected': () => {
    const status: DaemonStatus = baseStatus([{ ...synced('api'), state: 'Degraded', code: 'E_CANARY_FAILED', message: INJECTED, hint: INJECTED }]);
    return renderStatusPage(status, NOW);
  },
};

let server: Server;
let base: string;


async function screenshot(page: string, name: string, size: string): Promise<Buffer> {
  const path = join(ARTIFACTS, `status-page-${name}.png`);
  await rm(path, { force: true });
  await chromium([`--screenshot=${path}`, `--window-size=${size}`, `${base}${page}`]);
  return readFile(path);
}

function pngWidth(png: Buffer): number {
  expect(png.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
  return png.readUInt32BE(16);
}

beforeAll(async () => {
  await ensureChromium();
  await mkdir(ARTIFACTS, { recursive: true });
  server = createServer((request, response) => {
    const render = pages[request.url ?? ''];
    if (render === undefined) {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, STATUS_PAGE_HEADERS).end(render());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}, INSTALL_TIMEOUT_MS * 2);

afterAll(async () => {
  await new Promise<void>((resolve) => (server === undefined ? resolve() : server.close(() => resolve())));
});

describe('the status page in headless chromium', () => {
  it('lists the worst service first in the rendered DOM', async () => {
    const dom = await chromium(['--dump-dom', `${base}/failed-rollout`]);
    const order = [...dom.matchAll(/<li [^>]*data-service="([^"]*)"/g)].map((match) => match[1]);
    expect(order).toEqual(['gateway', 'api', 'queue']);
    expect(dom).toMatch(/data-verdict="bad"/);
  }, CHROMIUM_TIMEOUT_MS);

  it('shows a row per host and the recent rollouts with their subjects and authors in the rendered DOM', async () => {
    const dom = await chromium(['--dump-dom', `${base}/failed-rollout`]);
    const hosts = [...dom.matchAll(/<tr [^>]*data-host="([^"]*)" data-service="([^"]*)"/g)].map((match) => `${match[2]}/${match[1]}`);
    expect(hosts).toEqual(['gateway/edge-1', 'gateway/edge-2', 'api/web-1', 'api/web-2', 'queue/mq-1']);
    expect([...dom.matchAll(/<tr data-rollout="([^"]*)"/g)]).toHaveLength(3);
    expect(dom).toContain('api: raise the connection pool to 400');
    expect(dom).toContain('Bob Builder');
  }, CHROMIUM_TIMEOUT_MS);

  it('renders an injected <script> and onerror as inert text', async () => {
    const dom = await chromium(['--dump-dom', `${base}/injected`]);
    // The message must reach the browser (or this test proves nothing) and stay text: no element, no effect.
    expect(dom).toContain('&lt;script&gt;document.documentElement.setAttribute');
    expect(dom).not.toMatch(/<script/i);
    expect(dom).not.toMatch(/<img/i);
    expect(dom).not.toContain('data-pwned=');
  }, CHROMIUM_TIMEOUT_MS);

  it('attaches phone and desktop screenshots to test-artifacts/', async () => {
    const shots: readonly (readonly [string, string, string, number])[] = [
      ['/failed-rollout', 'failed-rollout-phone', PHONE, 412],
      ['/failed-rollout', 'failed-rollout-desktop', DESKTOP, 1280],
      // Tall enough to show the host and rollout tables below the services.
      ['/failed-rollout', 'failed-rollout-desktop-full', DESKTOP_FULL, 1280],
      ['/invalid-commit', 'invalid-commit-phone', PHONE, 412],
      ['/converged', 'converged-phone', PHONE, 412],
    ];
    for (const [page, name, size, width] of shots) {
      expect({ name, width: pngWidth(await screenshot(page, name, size)) }).toEqual({ name, width });
    }
  }, CHROMIUM_TIMEOUT_MS * 4);
});
