import { readFile } from 'node:fs/promises';

/**
 * tend's version, from its package.json: `tend --version` prints it and `tend_build_info` exports it. The
 * path is the same from src/observability (tests) and dist/observability (the build): two levels up.
 */
export async function packageVersion(): Promise<string> {
  const raw = await readFile(new URL('../../package.json', import.meta.url), 'utf8');
  const version: unknown = (JSON.parse(raw) as { version?: unknown }).version;
  return typeof version === 'string' ? version : 'unknown';
}
