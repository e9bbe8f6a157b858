import { spawnSync } from 'node:child_process';

import { CronTime } from 'cron';
import { describe, expect, it } from 'vitest';

import { cronToOnCalendar, parseCron, validateCron } from '../../../src/spec/index.js';

function onCalendar(expression: string): string {
  const parsed = parseCron(expression);
  if (!parsed.ok) throw new Error(parsed.message);
  const converted = cronToOnCalendar(parsed.value);
  if (!converted.ok) throw new Error(converted.message);
  return converted.value;
}

const conversions: readonly [string, string][] = [
  ['30 3 * * *', '*-*-* 03:30:00'],
  ['* * * * *', '*-*-* *:*:00'],
  ['*/15 * * * *', '*-*-* *:00/15:00'],
  ['*/5 * * * *', '*-*-* *:00/5:00'],
  ['5/15 * * * *', '*-*-* *:05/15:00'],
  ['0 9-17 * * 1-5', 'Mon..Fri *-*-* 09..17:00:00'],
  ['0 9-17/2 * * *', '*-*-* 09,11,13,15,17:00:00'],
  ['0 0 * * 0', 'Sun *-*-* 00:00:00'],
  ['0 0 * * 7', 'Sun *-*-* 00:00:00'],
  ['0 0 * * 0,6', 'Sat,Sun *-*-* 00:00:00'],
  ['0 0 * * 5-7', 'Fri..Sun *-*-* 00:00:00'],
  ['0 0 * * mon,wed,fri', 'Mon,Wed,Fri *-*-* 00:00:00'],
  ['0 0 * * 0-6', '*-*-* 00:00:00'],
  ['0 0 1 * *', '*-*-01 00:00:00'],
  ['0 0 1,15 * *', '*-*-01,15 00:00:00'],
  ['0 0 1 jan *', '*-01-01 00:00:00'],
  ['0 0 1 */3 *', '*-01/3-01 00:00:00'],
  ['0 0 29 2 *', '*-02-29 00:00:00'],
  ['15,45 8,20 * jun-aug *', '*-06..08-* 08,20:15,45:00'],
  ['@daily', '*-*-* 00:00:00'],
  ['@hourly', '*-*-* *:00:00'],
  ['@weekly', 'Sun *-*-* 00:00:00'],
  ['@monthly', '*-*-01 00:00:00'],
  ['@yearly', '*-01-01 00:00:00'],
];

describe('cron -> OnCalendar', () => {
  it.each(conversions)('converts %j to %j', (cron, calendar) => {
    expect(onCalendar(cron)).toBe(calendar);
  });

  it('refuses a schedule restricting both day of month and day of week, which cron ORs', () => {
    const parsed = parseCron('0 0 1 * 1');
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    const converted = cronToOnCalendar(parsed.value);
    expect(converted.ok).toBe(false);
    if (!converted.ok) expect(converted.message).toMatch(/either/);
  });

  // systemd-analyze (installed by test/unit/global-setup.ts) is the reader of OnCalendar=: the next firings
  // it computes must be cron's.
  it.each(conversions)('systemd fires %j at the same times as cron', (cron, calendar) => {
    const base = '2026-01-01 00:00:00 UTC';
    const run = spawnSync('systemd-analyze', ['calendar', '--iterations=6', `--base-time=${base}`, calendar], {
      encoding: 'utf8',
      env: { ...process.env, TZ: 'UTC', SYSTEMD_COLORS: '0' },
    });
    expect(run.status, run.stderr).toBe(0);
    const systemd = [...run.stdout.matchAll(/(?:Next elapse|Iter\. #\d+): \w+ (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)/g)].map((match) => match[1]);

    const expected: string[] = [];
    const time = new CronTime(cron.startsWith('@') ? { '@daily': '0 0 * * *', '@hourly': '0 * * * *', '@weekly': '0 0 * * 0', '@monthly': '0 0 1 * *', '@yearly': '0 0 1 1 *' }[cron] ?? cron : cron, 'UTC');
    let from = new Date('2026-01-01T00:00:00Z');
    for (let i = 0; i < 6; i++) {
      let next: Date;
      try {
        next = time.getNextDateFrom(from, 'UTC').toJSDate();
      } catch {
        // cron searches 8 years from *now*: the fourth 29 February is past its horizon.
        break;
      }
      expected.push(next.toISOString().replace('T', ' ').slice(0, 19));
      from = next;
    }
    expect(expected.length).toBeGreaterThanOrEqual(2);
    expect(systemd.slice(0, expected.length)).toEqual(expected);
  });
});

describe('validateCron', () => {
  it.each([
    ['0 0 30 2 *', /never fires/],
    ['0 0 31 4,6,9,11 *', /never fires/],
    ['60 * * * *', /out of range/],
    ['* 24 * * *', /out of range/],
    ['* * 0 * *', /out of range/],
    ['* * * 13 *', /out of range/],
    ['* * * * 8', /out of range/],
    ['* * * *', /5 fields/],
    ['0 0 0 * * *', /seconds field/],
    ['*/0 * * * *', /step of 0/],
    ['5-1 * * * *', /backwards/],
    ['x * * * *', /not a number or a known name/],
    ['@reboot', /not a known cron alias/],
    ['1,,2 * * * *', /not valid cron syntax/],
    ['', /5 fields/],
  ])('refuses %j', (expression, message) => {
    const result = validateCron(expression);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.message).toMatch(message);
  });

  it.each(['0 9-17 * * 1-5', '0 0 29 2 *', '30 3 * * *', '@daily', '0 0 1 jan mon'])('accepts %j', (expression) => {
    expect(validateCron(expression).ok).toBe(true);
  });
});
