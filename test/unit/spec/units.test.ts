import { describe, expect, it } from 'vitest';

import { formatDuration, formatSize, parseDuration, parseSize } from '../../../src/spec/index.js';

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['1s', 1_000],
    ['2m', 120_000],
    ['1h', 3_600_000],
    ['1h30m', 5_400_000],
    ['1m30s', 90_000],
    ['1m30s500ms', 90_500],
    ['0s', 0],
    ['90s', 90_000],
    ['36h', 129_600_000],
  ])('reads %s as %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each([
    ['', 'empty'],
    ['5', 'a bare number'],
    ['1.5s', 'a fraction'],
    ['5 s', 'a blank inside'],
    ['5S', 'an uppercase unit'],
    ['1d', 'days'],
    ['30m1h', 'units out of order'],
    ['1m1m', 'a unit twice'],
    ['-5s', 'a negative'],
    ['5sec', 'a long unit name'],
    ['ms', 'a unit without a number'],
  ])('refuses %j (%s)', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });

  it.each([0, 1, 999, 1_000, 60_000, 90_500, 5_400_000, 86_400_000])('formats %d ms so that it reads back', (ms) => {
    expect(parseDuration(formatDuration(ms))).toBe(ms);
  });
});

describe('parseSize (binary units, as systemd reads them)', () => {
  it.each([
    ['1G', 1024 ** 3],
    ['512M', 512 * 1024 ** 2],
    ['1024K', 1024 * 1024],
    ['2T', 2 * 1024 ** 4],
    ['4096', 4096],
    [4096, 4096],
    ['0', 0],
  ] as const)('reads %j as %d bytes', (value, bytes) => {
    expect(parseSize(value)).toBe(bytes);
  });

  it.each([['1GB'], ['1Gi'], ['1g'], ['1.5G'], ['G'], [''], [' 1G'], ['-1G'], [1.5], [-1]] as const)('refuses %j', (value) => {
    expect(parseSize(value)).toBeUndefined();
  });

  it.each([
    [1024 ** 3, '1G'],
    [536_870_912, '512M'],
    [1536, '1536'],
    [1024 * 1024 * 3, '3M'],
    [1024 ** 4, '1T'],
    [1000, '1000'],
  ])('formats %d bytes as %s', (bytes, text) => {
    expect(formatSize(bytes)).toBe(text);
    expect(parseSize(text)).toBe(bytes);
  });
});
