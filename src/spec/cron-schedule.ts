import { CronTime } from 'cron';

/**
 * Five-field cron expressions, for deploy windows and timers. tend parses them itself, because a timer
 * becomes a systemd OnCalendar= expression and the conversion must be exact, and then asks the `cron`
 * package, which evaluates windows at run time, to confirm the expression and that it ever fires:
 * cron 4 "validates" `0 0 30 2 *` and only throws when asked for the next date.
 */

export interface CronFields {
  readonly minute: readonly number[];
  readonly hour: readonly number[];
  readonly dayOfMonth: readonly number[];
  readonly month: readonly number[];
  /** 0 = Sunday ... 6 = Saturday (cron's 7 is folded into 0). */
  readonly dayOfWeek: readonly number[];
  /** Whether the field was written as anything but `*`: cron ORs day of month and day of week when both are. */
  readonly dayOfMonthRestricted: boolean;
  readonly dayOfWeekRestricted: boolean;
}

export type CronResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly message: string; readonly hint: string };

const ALIASES: Readonly<Record<string, string>> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

const MONTH_NAMES = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const DAY_NAMES = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

interface FieldSpec {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  readonly names?: readonly string[];
  /** Value of names[0]. */
  readonly namesFrom?: number;
}

const FIELDS: readonly FieldSpec[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: MONTH_NAMES, namesFrom: 1 },
  { name: 'day of week', min: 0, max: 7, names: DAY_NAMES, namesFrom: 0 },
];

const FORMAT_HINT = 'Write five fields: minute hour day-of-month month day-of-week, for example "30 3 * * *" (03:30 every day).';

function fieldValue(text: string, spec: FieldSpec): number | undefined {
  if (/^\d{1,2}$/.test(text)) return Number(text);
  const index = spec.names?.indexOf(text.toLowerCase()) ?? -1;
  return index === -1 ? undefined : index + (spec.namesFrom ?? 0);
}

function parseField(text: string, spec: FieldSpec): CronResult<number[]> {
  const values = new Set<number>();
  for (const element of text.split(',')) {
    const match = /^(\*|[A-Za-z0-9]+(?:-[A-Za-z0-9]+)?)(?:\/(\d{1,2}))?$/.exec(element);
    if (match === null) return { ok: false, message: `${spec.name} field \`${text}\` is not valid cron syntax`, hint: FORMAT_HINT };
    const [, range = '', stepText] = match;
    const step = stepText === undefined ? 1 : Number(stepText);
    if (step === 0) return { ok: false, message: `${spec.name} field \`${text}\` has a step of 0`, hint: 'Use a step of 1 or more, as in */15.' };
    let from: number | undefined;
    let to: number | undefined;
    if (range === '*') {
      from = spec.min;
      to = spec.max;
    } else {
      const [fromText = '', toText] = range.split('-');
      from = fieldValue(fromText, spec);
      // `a/n` means a, a+n, ... up to the field's maximum, as in Vixie cron and the cron package.
      to = toText === undefined ? (stepText === undefined ? from : spec.max) : fieldValue(toText, spec);
    }
    if (from === undefined || to === undefined) return { ok: false, message: `${spec.name} field \`${text}\` has a value that is not a number or a known name`, hint: FORMAT_HINT };
    for (const value of [from, to]) {
      if (value < spec.min || value > spec.max) {
        return { ok: false, message: `${spec.name} ${value} is out of range ${spec.min}-${spec.max}`, hint: FORMAT_HINT };
      }
    }
    if (from > to) {
      return { ok: false, message: `${spec.name} range \`${range}\` runs backwards`, hint: `Write it as two ranges, for example ${to === spec.min ? '' : `${spec.min}-${to},`}${from}-${spec.max}.` };
    }
    for (let value = from; value <= to; value += step) values.add(value);
  }
  return { ok: true, value: [...values].sort((a, b) => a - b) };
}

/** Parses a five-field expression or an @alias. */
export function parseCron(expression: string): CronResult<CronFields> {
  const trimmed = expression.trim();
  const source = trimmed.startsWith('@') ? ALIASES[trimmed.toLowerCase()] : trimmed;
  if (source === undefined) {
    return { ok: false, message: `\`${trimmed}\` is not a known cron alias`, hint: `Use one of ${Object.keys(ALIASES).join(', ')} or five fields.` };
  }
  const parts = source.split(/\s+/);
  if (parts.length !== 5) {
    const extra = parts.length === 6 ? ' (a seconds field is not supported)' : '';
    return { ok: false, message: `a cron expression has 5 fields, this one has ${parts.length}${extra}`, hint: FORMAT_HINT };
  }
  const values: number[][] = [];
  for (const [index, spec] of FIELDS.entries()) {
    const parsed = parseField(parts[index] ?? '', spec);
    if (!parsed.ok) return parsed;
    values.push(parsed.value);
  }
  const [minute = [], hour = [], dayOfMonth = [], month = [], rawDayOfWeek = []] = values;
  const dayOfWeek = [...new Set(rawDayOfWeek.map((day) => day % 7))].sort((a, b) => a - b);
  return {
    ok: true,
    value: { minute, hour, dayOfMonth, month, dayOfWeek, dayOfMonthRestricted: parts[2] !== '*', dayOfWeekRestricted: parts[4] !== '*' },
  };
}

/**
 * Confirms with the `cron` package that it reads the expression too and that it fires within the
 * package's search horizon (8 years, which covers every 29 February).
 */
export function checkCronFires(expression: string): CronResult<Date> {
  const source = ALIASES[expression.trim().toLowerCase()] ?? expression.trim();
  let time: CronTime;
  try {
    time = new CronTime(source, 'UTC');
  } catch (error) {
    return { ok: false, message: `the cron expression is invalid: ${error instanceof Error ? error.message : String(error)}`, hint: FORMAT_HINT };
  }
  try {
    return { ok: true, value: time.sendAt().toJSDate() };
  } catch {
    return {
      ok: false,
      message: `the cron expression \`${expression.trim()}\` never fires (no such date exists)`,
      hint: 'Check the day of month against the month: 30 February or 31 April never happen.',
    };
  }
}

/** Parses, confirms with the cron package and checks that the schedule ever fires. */
export function validateCron(expression: string): CronResult<CronFields> {
  const parsed = parseCron(expression);
  if (!parsed.ok) return parsed;
  const fires = checkCronFires(expression);
  return fires.ok ? parsed : fires;
}

const WEEKDAYS_FROM_MONDAY = [1, 2, 3, 4, 5, 6, 0];
const WEEKDAY_NAMES = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

function pad(value: number): string {
  return String(value).padStart(2, '0');
}

/** Runs of consecutive items as `a..b` (three or more) or single items, comma-separated. */
function compressRuns<T>(items: readonly T[], isNext: (previous: T, next: T) => boolean, show: (item: T) => string): string {
  const out: string[] = [];
  let start = 0;
  while (start < items.length) {
    let end = start;
    while (end + 1 < items.length && isNext(items[end] as T, items[end + 1] as T)) end += 1;
    if (end - start >= 2) out.push(`${show(items[start] as T)}..${show(items[end] as T)}`);
    else for (let i = start; i <= end; i++) out.push(show(items[i] as T));
    start = end + 1;
  }
  return out.join(',');
}

function calendarComponent(values: readonly number[], min: number, max: number): string {
  if (values.length === max - min + 1) return '*';
  const first = values[0] ?? min;
  const second = values[1];
  // An evenly stepped set that runs to the end of the field is systemd's repetition syntax: `00/15`.
  if (second !== undefined && values.length >= 3) {
    const step = second - first;
    const stepped = values.every((value, index) => value === first + index * step);
    const last = values.at(-1) ?? first;
    if (step >= 2 && stepped && last + step > max) return `${pad(first)}/${step}`;
  }
  return compressRuns(values, (a, b) => b === a + 1, pad);
}

/**
 * The same schedule in systemd's OnCalendar= syntax, evaluated in the host's time zone like cron.
 * Refuses what OnCalendar cannot say: cron fires when *either* a restricted day of month or a restricted
 * day of week matches, OnCalendar only when both do.
 */
export function cronToOnCalendar(fields: CronFields): CronResult<string> {
  if (fields.dayOfMonthRestricted && fields.dayOfWeekRestricted) {
    return {
      ok: false,
      message: 'this schedule restricts both the day of month and the day of week; cron runs it when either matches, which systemd timers cannot express',
      hint: 'Restrict only one of the two (write * in the other), or split the job into two timers.',
    };
  }
  const minute = calendarComponent(fields.minute, 0, 59);
  const hour = calendarComponent(fields.hour, 0, 23);
  const day = calendarComponent(fields.dayOfMonth, 1, 31);
  const month = calendarComponent(fields.month, 1, 12);
  const date = `*-${month}-${day} ${hour}:${minute}:00`;
  if (fields.dayOfWeek.length === 7 || !fields.dayOfWeekRestricted) return { ok: true, value: date };
  const days = WEEKDAYS_FROM_MONDAY.filter((day) => fields.dayOfWeek.includes(day));
  const weekdays = compressRuns(
    days,
    (a, b) => WEEKDAYS_FROM_MONDAY.indexOf(b) === WEEKDAYS_FROM_MONDAY.indexOf(a) + 1,
    (day) => WEEKDAY_NAMES[day] ?? '',
  );
  return { ok: true, value: `${weekdays} ${date}` };
}
