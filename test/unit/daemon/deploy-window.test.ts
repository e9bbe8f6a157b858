import { describe, expect, it } from 'vitest';
import { nextWindowOpening, windowOpen } from '../../../src/daemon/deploy-window.js';

/** Local time, as the window is evaluated in the time zone of the machine tend runs on. */
function at(year: number, month: number, day: number, hour: number, minute: number, second = 0): number {
  return new Date(year, month - 1, day, hour, minute, second).getTime();
}

describe('deploy windows', () => {
  const workingHours = '* 9-17 * * 1-5';

  it('is open in any minute the expression matches, to the last second of it', () => {
    expect(windowOpen(workingHours, at(2026, 11, 18, 9, 0))).toBe(true);
    expect(windowOpen(workingHours, at(2026, 11, 18, 17, 59, 59))).toBe(true);
  });

  it('is closed outside the matched hours and days', () => {
    expect(windowOpen(workingHours, at(2026, 11, 18, 8, 59, 59))).toBe(false);
    expect(windowOpen(workingHours, at(2026, 11, 18, 18, 0))).toBe(false);
    expect(windowOpen(workingHours, at(2026, 11, 21, 12, 0))).toBe(false);
  });

  it('opens a single-minute window only in that minute', () => {
    expect(windowOpen('30 3 * * *', at(2026, 11, 18, 3, 30, 45))).toBe(true);
    expect(windowOpen('30 3 * * *', at(2026, 11, 18, 3, 31))).toBe(false);
  });

  it('names the next opening after a closed moment', () => {
    expect(nextWindowOpening(workingHours, at(2026, 11, 21, 12, 0))).toBe(at(2026, 11, 23, 9, 0));
  });
});
