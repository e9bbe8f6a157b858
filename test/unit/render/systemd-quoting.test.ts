import { describe, expect, it } from 'vitest';
import { TendError } from '../../../src/errors/index.js';
import { envValue, execArg, execLine, unitText } from '../../../src/render/systemd-quoting.js';
import { formatBytes, formatPercent } from '../../../src/render/systemd-values.js';
import { readEnvLine, readExecLine } from './systemd-parsers.js';

describe('execArg', () => {
  it.each([
    ['plain word stays bare', '--port=8080', 1, '--port=8080'],
    ['path stays bare', '/var/lib/tend/releases/api/current/api', 0, '/var/lib/tend/releases/api/current/api'],
    ['space is quoted', 'hello world', 1, '"hello world"'],
    ['double quote is escaped inside quotes', 'say "hi"', 1, '"say \\"hi\\""'],
    ['single quote is kept literally inside double quotes', "it's", 1, '"it\'s"'],
    ['backslash is doubled', 'C:\\dir', 1, '"C:\\\\dir"'],
    ['percent becomes a literal specifier', '100%', 1, '100%%'],
    ['specifier-looking text is escaped', '%n', 1, '%%n'],
    ['dollar is doubled and quoted', '$HOME', 1, '"$$HOME"'],
    ['braced variable is not expanded', '${PATH}', 1, '"$${PATH}"'],
    ['lone semicolon is quoted, not a command separator', ';', 1, '";"'],
    ['backslash-semicolon stays literal', '\\;', 1, '"\\\\;"'],
    ['empty argument survives as an empty word', '', 1, '""'],
    ['hash is quoted', '#notacomment', 1, '"#notacomment"'],
    ['non-ASCII is quoted and kept', 'Grüße', 1, '"Grüße"'],
    ['leading dash is fine after the program', '-v', 1, '-v'],
    ['leading dash on the program would mean "ignore failure"', '-prog', 0, '"-prog"'],
    ['leading @ on the program would mean "argv0"', '@prog', 0, '"@prog"'],
    ['leading + on the program would mean "full privileges"', '+prog', 0, '"+prog"'],
  ] as const)('%s', (_name, arg, position, expected) => {
    expect(execArg(arg, position)).toBe(expected);
  });

  it.each([
    ['newline', 'a\nb'],
    ['tab', 'a\tb'],
    ['NUL', 'a\u0000b'],
    ['DEL', 'a\u007fb'],
    ['C1 control', 'a\u0085b'],
    ['lone surrogate', 'a\ud800b'],
  ])('refuses a %s, which would break the line', (_name, arg) => {
    expect(() => execArg(arg, 1)).toThrow(TendError);
  });
});

describe('execLine', () => {
  const argvs: readonly (readonly string[])[] = [
    ['/usr/bin/app'],
    ['/usr/bin/app', 'a b', 'c"d', "e'f", 'g\\h', '100%', '$X', '${Y}', ';', '\\;', '', '#', '--x=%%$$'],
    ['"-quoted-program"', '@', '-', '--', '%%', '$$', '\\\\', '\\"', 'Grüße 🌍'],
  ];

  it.each(argvs.map((argv) => [argv.join(' | '), argv] as const))('reads back as the same argv: %s', (_name, argv) => {
    expect(readExecLine(execLine(argv))).toEqual(argv);
  });

  it('refuses an empty argv, which systemd would reject', () => {
    expect(() => execLine([])).toThrow(TendError);
  });
});

describe('envValue', () => {
  it.each([
    ['plain text is quoted', 'value', '"value"'],
    ['empty value', '', '""'],
    ['leading and trailing spaces are kept', '  padded  ', '"  padded  "'],
    ['double quote', 'a"b', '"a\\"b"'],
    ['backslash', 'a\\b', '"a\\\\b"'],
    ['backtick', 'a`b', '"a\\`b"'],
    ['dollar', '$HOME', '"\\$HOME"'],
    ['single quote needs nothing', "it's", '"it\'s"'],
    ['hash and semicolon are not comments inside quotes', '#x;y', '"#x;y"'],
    ['equals signs stay', 'a=b=c', '"a=b=c"'],
  ])('%s', (_name, value, expected) => {
    expect(envValue(value, 'test')).toBe(expected);
  });

  it.each(['plain', '', ' x ', 'a"b', 'a\\b', 'a`b', '$X ${Y}', '\\"', '\\\\"', 'end\\', 'Grüße', "'q'"])(
    'reads back as the same value: %j',
    (value) => {
      expect(readEnvLine(`K=${envValue(value, 'test')}`)).toEqual(['K', value]);
    },
  );

  it('refuses a newline, which would start a new variable', () => {
    expect(() => envValue('a\nB=evil', 'test')).toThrow(TendError);
  });
});

describe('unitText', () => {
  it('escapes specifiers in free text', () => {
    expect(unitText('100% uptime for %n', 'description')).toBe('100%% uptime for %%n');
  });
});

describe('formatBytes', () => {
  it.each([
    [1024 ** 3, '1G'],
    [512 * 1024 ** 2, '512M'],
    [1536 * 1024 ** 2, '1536M'],
    [3 * 1024 ** 4, '3T'],
    [2 * 1024 ** 5, '2P'],
    [1024, '1K'],
    [1000, '1000'],
    [1025, '1025'],
    [0, '0'],
  ])('%d bytes render as %s', (bytes, expected) => {
    expect(formatBytes(bytes)).toBe(expected);
  });

  it.each([-1, 1.5, Number.NaN])('refuses %d', (bytes) => {
    expect(() => formatBytes(bytes)).toThrow(TendError);
  });
});

describe('formatPercent', () => {
  it.each([
    [50, '50%'],
    [150, '150%'],
    [12.5, '12.5%'],
    [33.333, '33.33%'],
  ])('%d renders as %s', (percent, expected) => {
    expect(formatPercent(percent)).toBe(expected);
  });
});
