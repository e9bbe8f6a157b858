import { InternalError } from '../errors/index.js';

/**
 * Numbers as systemd settings spell them. Sizes use systemd's base-1024 suffixes, largest exact one first,
 * so `1073741824` renders as `1G`: what a person wrote in the spec (`mem: 1G`) is what they read on the
 * host, and the same number always gives the same text.
 */
const BINARY_UNITS: readonly (readonly [suffix: string, bytes: number])[] = [
  ['P', 2 ** 50],
  ['T', 2 ** 40],
  ['G', 2 ** 30],
  ['M', 2 ** 20],
  ['K', 2 ** 10],
];

export function formatBytes(bytes: number): string {
  if (!Number.isSafeInteger(bytes) || bytes < 0) throw new InternalError(`size ${bytes} is not a whole number of bytes`);
  if (bytes === 0) return '0';
  for (const [suffix, size] of BINARY_UNITS) {
    if (bytes % size === 0) return `${bytes / size}${suffix}`;
  }
  return String(bytes);
}

/** CPUQuota= percent; systemd 252 accepts up to two decimals, and more than 100% means more than one CPU. */
export function formatPercent(percent: number): string {
  if (!Number.isFinite(percent) || percent <= 0) throw new InternalError(`CPU quota ${percent}% is not a positive number`);
  const rounded = Math.round(percent * 100) / 100;
  return `${rounded}%`;
}

export function formatCount(count: number, what: string): string {
  if (!Number.isSafeInteger(count) || count <= 0) throw new InternalError(`${what} ${count} is not a positive whole number`);
  return String(count);
}
