/**
 * Durations and sizes as the spec writes them. Sizes use binary units because systemd does
 * (`MemoryMax=1G` is 1024^3 bytes), so the number tend renders means what the spec author wrote.
 */

const DURATION = /^(?:(\d{1,9})h)?(?:(\d{1,9})m(?!s))?(?:(\d{1,9})s)?(?:(\d{1,12})ms)?$/;
const MS_PER: readonly number[] = [3_600_000, 60_000, 1_000, 1];

/**
 * `"500ms"`, `"5s"`, `"2m"`, `"1h30m"`, `"1m30s500ms"` -> milliseconds. Units go from largest to smallest,
 * each at most once. A bare number is refused (undefined): systemd reads it as seconds, humans often
 * mean milliseconds, and a deploy tool must not guess.
 */
export function parseDuration(text: string): number | undefined {
  if (text === '') return undefined;
  const match = DURATION.exec(text);
  if (match === null) return undefined;
  let total = 0;
  for (let i = 0; i < MS_PER.length; i++) {
    const digits = match[i + 1];
    if (digits !== undefined) total += Number(digits) * (MS_PER[i] ?? 0);
  }
  return Number.isSafeInteger(total) ? total : undefined;
}

/** Milliseconds -> the shortest spelling `parseDuration` reads back (`90000` -> `"1m30s"`). */
export function formatDuration(ms: number): string {
  if (!Number.isSafeInteger(ms) || ms < 0) throw new RangeError(`not a duration in milliseconds: ${ms}`);
  if (ms === 0) return '0s';
  const units = ['h', 'm', 's', 'ms'];
  let rest = ms;
  let out = '';
  for (let i = 0; i < MS_PER.length; i++) {
    const per = MS_PER[i] ?? 1;
    const count = Math.floor(rest / per);
    rest -= count * per;
    if (count > 0) out += `${count}${units[i] ?? ''}`;
  }
  return out;
}

const SIZE = /^(\d{1,15})([KMGT])?$/;
const SIZE_FACTOR: Readonly<Record<string, number>> = { K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };

/**
 * `"1G"`, `"512M"`, `"1024K"`, `"2T"`, `"4096"` or the number `4096` -> bytes (K = 1024, as systemd).
 * Undefined for anything else, including `"1GB"`, `"1Gi"` and `"1g"`, which systemd would read differently
 * or not at all.
 */
export function parseSize(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
  const match = SIZE.exec(value);
  if (match === null) return undefined;
  const bytes = Number(match[1]) * (match[2] === undefined ? 1 : (SIZE_FACTOR[match[2]] ?? 1));
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}

/** Bytes -> the largest exact binary unit systemd reads (`1073741824` -> `"1G"`, `1536` -> `"1536"`). */
export function formatSize(bytes: number): string {
  if (!Number.isSafeInteger(bytes) || bytes < 0) throw new RangeError(`not a size in bytes: ${bytes}`);
  if (bytes === 0) return '0';
  for (const unit of ['T', 'G', 'M', 'K']) {
    const factor = SIZE_FACTOR[unit] ?? 1;
    if (bytes % factor === 0) return `${bytes / factor}${unit}`;
  }
  return String(bytes);
}
