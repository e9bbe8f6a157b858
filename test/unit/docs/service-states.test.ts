import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { statusCommand } from '../../../src/cli/status-command.js';
import { STATES_WORST_FIRST } from '../../../src/status/index.js';

/** The states on-call reads about are the states the daemon reports: a new state cannot go undocumented. */
describe('every service state is documented', () => {
  it('in the README\'s on-call paragraph', async () => {
    const readme = await readFile('README.md', 'utf8');
    const onCall = /^- \*\*On-call\*\*[^]*?(?=^- \*\*)/m.exec(readme)?.[0] ?? '';
    expect(onCall).not.toBe('');
    for (const state of STATES_WORST_FIRST) expect(onCall, state).toContain(`\`${state}\``);
  });

  it('in `tend status --help`', () => {
    for (const state of STATES_WORST_FIRST) expect(statusCommand.description, state).toMatch(new RegExp(`\\b${state}\\b`));
  });
});
