import { CronTime } from 'cron';

const MINUTE = 60_000;

/**
 * Whether `now` falls in a minute the window's cron expression matches: a rollout may start then. The
 * expression was validated by the spec loader, so it parses and fires.
 */
export function windowOpen(expression: string, now: number): boolean {
  const minute = Math.floor(now / MINUTE) * MINUTE;
  // cron only answers "next fire after t"; asking just before this minute tells whether this minute fires.
  const next = new CronTime(expression).getNextDateFrom(new Date(minute - 1)).toMillis();
  return next === minute;
}

/** The start of the next minute the window opens, after `now`. */
export function nextWindowOpening(expression: string, now: number): number {
  return new CronTime(expression).getNextDateFrom(new Date(now)).toMillis();
}
