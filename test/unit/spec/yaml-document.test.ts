import { describe, expect, it } from 'vitest';

import { firstInvalidUtf8, parseYamlFile } from '../../../src/spec/yaml-document.js';
import type { YamlFile } from '../../../src/spec/yaml-document.js';

function parse(text: string): YamlFile {
  const result = parseYamlFile('f.yml', new TextEncoder().encode(text));
  if (!result.ok) throw new Error(result.issues.map((issue) => issue.message).join('; '));
  return result.doc;
}

describe('YAML 1.2 core plus one underscore integer tag', () => {
  it.each([
    ['10_000', 10_000],
    ['1_000_000', 1_000_000],
    ['-1_000', -1_000],
    ['10000', 10_000],
    ['0644', 644],
    ['0x10', 16],
    ['1.5', 1.5],
    ['_1', '_1'],
    ['1_', '1_'],
    ['1__0', '1__0'],
    ['1_0.5', '1_0.5'],
    ['y', 'y'],
    ['yes', 'yes'],
    ['on', 'on'],
    ['true', true],
    ['~', null],
    ['"10_000"', '10_000'],
  ])('reads %s as %j', (source, value) => {
    expect(parse(`v: ${source}\n`).value).toEqual({ v: value });
  });

  it('keeps the key y a string (YAML 1.1 would make it true)', () => {
    expect(parse('y: 1\nn: 2\n').value).toEqual({ y: 1, n: 2 });
  });
});

describe('positions', () => {
  const doc = parse('a:\n  b: [x, "y"]\n  c: |\n    one\n      two\n  d: |2\n      three\n  e: "q"\n');

  it('points at values, keys and list items', () => {
    expect(doc.at('/a/b/1')).toEqual({ file: 'f.yml', line: 2, col: 10 });
    expect(doc.keyAt('/a/b')).toEqual({ file: 'f.yml', line: 2, col: 3 });
    expect(doc.at('/a/missing/deeper')).toEqual(doc.at('/a'));
  });

  it('maps a character of a literal block scalar to its line and column', () => {
    expect(doc.textAt('/a/c', 0, 0)).toEqual({ file: 'f.yml', line: 4, col: 5 });
    expect(doc.textAt('/a/c', 1, 2)).toEqual({ file: 'f.yml', line: 5, col: 7 });
  });

  it('honours an explicit indentation indicator', () => {
    // The indicator counts from the parent's indentation (2): content starts at column 5, so two of the
    // six leading spaces belong to the value.
    expect(doc.value).toMatchObject({ a: { d: '  three\n' } });
    expect(doc.textAt('/a/d', 0, 2)).toEqual({ file: 'f.yml', line: 7, col: 7 });
  });

  it('maps a character of a one-line quoted scalar', () => {
    expect(doc.textAt('/a/e', 0, 0)).toEqual({ file: 'f.yml', line: 8, col: 7 });
  });
});

describe('firstInvalidUtf8', () => {
  it.each([
    [[0x61, 0x62], -1],
    [[0xc3, 0xa9], -1],
    [[0xf0, 0x9f, 0x98, 0x80], -1],
    [[0x61, 0xff], 1],
    [[0xc0, 0xaf], 0],
    [[0xe0, 0x80, 0xaf], 0],
    [[0xed, 0xa0, 0x80], 0],
    [[0xf4, 0x90, 0x80, 0x80], 0],
    [[0x61, 0xe2, 0x82], 1],
    [[0x80], 0],
  ])('%j -> %d', (bytes, index) => {
    expect(firstInvalidUtf8(new Uint8Array(bytes))).toBe(index);
  });
});
