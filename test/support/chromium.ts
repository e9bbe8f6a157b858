import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ensurePackages } from './debian-packages.js';

/**
 * Debian's headless Chromium for tests that look at tend's status page in a real browser: the sandbox
 * cannot download a browser, apt can.
 */

const run = promisify(execFile);

const CHROMIUM = '/usr/bin/chromium';
/** A fresh machine downloads ~110 MB of packages; a cold mirror can be slow. */
export const INSTALL_TIMEOUT_MS = 15 * 60_000;
export const CHROMIUM_TIMEOUT_MS = 90_000;

/** Debian's chromium, installed on first use: the sandbox has no browser download, apt does. */
export async function ensureChromium(): Promise<void> {
  await ensurePackages([[CHROMIUM, 'chromium']]);
}

/** One headless chromium run with its own profile, so runs never share state or wait on each other's lock. */
export async function chromium(args: readonly string[]): Promise<string> {
  const profile = await mkdtemp(join(tmpdir(), 'tend-chromium-'));
  try {
    const { stdout } = await run(
      CHROMIUM,
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-dev-shm-usage',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--hide-scrollbars',
        `--user-data-dir=${profile}`,
        ...args,
      ],
      { timeout: CHROMIUM_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024 },
    );
    return stdout;
  } finally {
    await rm(profile, { recursive: true, force: true });
  }
}
