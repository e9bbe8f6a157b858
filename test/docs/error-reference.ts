/**
 * docs/errors.md, generated from the registry of codes (src/errors/codes.ts) so the two cannot drift: what
 * each error class means, then every code with its class, summary and hint.
 *
 *   npx tsx test/docs/error-reference.ts           print the page
 *   npx tsx test/docs/error-reference.ts --write   write docs/errors.md
 *
 * test/unit/docs/error-reference.test.ts fails when docs/errors.md is out of date.
 */
import { rename, writeFile } from 'node:fs/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { ERROR_CODES, type CodeEntry, type ErrorCode } from '../../src/errors/index.js';

export const ERRORS_PAGE_URL = new URL('../../docs/errors.md', import.meta.url);

/** What a class means for what tend does next, in the order on-call meets them. */
const CLASSES: readonly (readonly [CodeEntry['errorClass'], string])[] = [
  ['transient', 'Retried with backoff and jitter within `retry.max_attempts`, then shown as `E_RETRIES_EXHAUSTED` until a new commit, `tend retry` or the resync schedule. Never reverts a commit.'],
  ['change', 'The new version failed on a host (probe, crash, never healthy): the rollout stops and tend reverts the commit, unless `auto_rollback: false`.'],
  ['invalid', 'The deploy repo, the daemon config or the command line is wrong: nothing touches a host until it is fixed (for a commit, a new commit).'],
  ['conflict', 'Something a person must decide (a changed host key, refused credentials, a revert that conflicts): tend stops and waits, with no retries on the same inputs.'],
  ['internal', 'A bug in tend: please report it.'],
  ['warning', 'Not an error: a state status shows (drift being corrected, a pause, a deploy window) or a validation warning that blocks nothing.'],
];

function cell(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').replace(/\|/g, '\\|');
}

export function renderErrorReference(): string {
  const codes = (Object.keys(ERROR_CODES) as ErrorCode[]).sort();
  const lines = [
    '# Error codes',
    '',
    'Generated from `src/errors/codes.ts` by `npx tsx test/docs/error-reference.ts --write`; edit the registry, not this page.',
    '',
    'Every error tend reports carries one of these codes, in `tend validate` (`file:line:col: message (CODE)`), `tend status`, `/status`, the `code` label of `/metrics`, logs, notifications and the `Tend-Error-Code` trailer of a revert commit. The class decides what tend does next; the hint shown is the one from the place that raised the error when it had a more specific one, else the one below.',
    '',
    '| class | what tend does |',
    '| --- | --- |',
    ...CLASSES.map(([name, meaning]) => `| ${name} | ${cell(meaning)} |`),
    '',
    `## Codes (${codes.length})`,
    '',
    '| code | class | what happened | what to do |',
    '| --- | --- | --- | --- |',
    ...codes.map((code) => {
      const entry: CodeEntry = ERROR_CODES[code];
      return `| \`${code}\` | ${entry.errorClass} | ${cell(entry.summary)} | ${cell(entry.hint)} |`;
    }),
  ];
  return `${lines.join('\n')}\n`;
}

async function main(args: readonly string[]): Promise<void> {
  const page = renderErrorReference();
  if (args.includes('--write')) {
    const temporary = new URL(`errors.md.${process.pid}.tmp`, ERRORS_PAGE_URL);
    await writeFile(temporary, page, 'utf8');
    await rename(temporary, ERRORS_PAGE_URL);
    process.stderr.write(`updated ${fileURLToPath(ERRORS_PAGE_URL)}\n`);
  } else {
    process.stdout.write(page);
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main(process.argv.slice(2));
}
