import { describe, expect, it } from 'vitest';

import { commitSubject, commitTrailers } from '../../../src/source/index.js';

describe('commitSubject is the first paragraph on one line, as git %s', () => {
  it.each([
    ['Fix the probe\n', 'Fix the probe'],
    ['Fix the probe\n\nBody text.\n', 'Fix the probe'],
    ['Fix the\nprobe timing\n\nBody\n', 'Fix the probe timing'],
    ['\n\nLeading blank lines\n', 'Leading blank lines'],
    ['', ''],
  ])('%j -> %j', (message, subject) => {
    expect(commitSubject(message)).toBe(subject);
  });
});

describe('commitTrailers reads the last paragraph when every line in it is a trailer', () => {
  it.each([
    [
      'a revert tend writes',
      'Revert "Bump api"\n\nThis reverts commit abc.\n\nTend-Service: api\nTend-Hosts: web-1, web-2\nTend-Error: E_PROBE\n',
      { 'Tend-Service': ['api'], 'Tend-Hosts': ['web-1, web-2'], 'Tend-Error': ['E_PROBE'] },
    ],
    ['repeated keys keep every value in order, keys as written', 'Subject\n\nSigned-off-by: A <a@x>\nSigned-off-by: B <b@x>\nco-authored-by: C\n', { 'Signed-off-by': ['A <a@x>', 'B <b@x>'], 'co-authored-by': ['C'] }],
    ['a continuation line folds into the value above', 'Subject\n\nTend-Probe: http 503\n  after 3 tries\n', { 'Tend-Probe': ['http 503 after 3 tries'] }],
    ['CRLF line ends', 'Subject\r\n\r\nKey: value\r\n', { Key: ['value'] }],
    ['an empty value is kept', 'Subject\n\nKey:\n', { Key: [''] }],
  ])('%s', (_name, message, expected) => {
    expect(Object.fromEntries(commitTrailers(message))).toEqual(expected);
  });

  it.each([
    ['only a subject that looks like a trailer', 'Fix: the probe\n'],
    ['a last paragraph with one prose line', 'Subject\n\nKey: value\nand some prose\n'],
    ['trailers that are not in the last paragraph', 'Subject\n\nKey: value\n\nClosing words.\n'],
    ['a key with a space', 'Subject\n\nNot a key: value\n'],
    ['no body at all', ''],
  ])('none for %s', (_name, message) => {
    expect(commitTrailers(message).size).toBe(0);
  });
});
