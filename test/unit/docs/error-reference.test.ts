import { readFile } from 'node:fs/promises';

import { describe, expect, it } from 'vitest';

import { ERROR_CODES } from '../../../src/errors/index.js';
import { ERRORS_PAGE_URL, renderErrorReference } from '../../docs/error-reference.js';

describe('docs/errors.md', () => {
  it('is what the registry of codes generates today', async () => {
    const page = await readFile(ERRORS_PAGE_URL, 'utf8').catch(() => '');
    expect(page, 'docs/errors.md is out of date: run `npx tsx test/docs/error-reference.ts --write`').toBe(renderErrorReference());
  });

  it('has a row for every code, with its class', () => {
    const page = renderErrorReference();
    const missing = Object.entries(ERROR_CODES).filter(([code, entry]) => !page.includes(`\n| \`${code}\` | ${entry.errorClass} |`));
    expect(missing.map(([code]) => code)).toEqual([]);
  });
});
