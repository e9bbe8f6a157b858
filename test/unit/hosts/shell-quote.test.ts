import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { quoteArgv, quoteWord, remoteCommandText } from '../../../src/hosts/shell-quote.js';

const NASTY = [
  '$(rm -rf /)',
  '`touch /tmp/pwned`',
  "it's",
  "''",
  '"double"',
  'a;b',
  'a && b || c',
  'line1\nline2',
  '*',
  '~',
  '$HOME',
  '\\',
  ' leading and trailing ',
  '',
  '-n',
  '!',
  '#comment',
  '\t',
  'ünïcødé ☃',
];

describe('quoteWord', () => {
  it.each(NASTY)('makes a POSIX shell hand %j back byte for byte', (word) => {
    // sh -c "printf %s <quoted>" prints exactly the word if, and only if, the shell interpreted nothing.
    const out = execFileSync('sh', ['-c', `printf %s ${quoteWord(word)}`]).toString('utf8');
    expect(out).toBe(word);
  });

  it('refuses a NUL byte, which a C argv would silently cut', () => {
    expect(() => quoteWord('a\0b')).toThrow(/NUL/);
  });
});

describe('quoteArgv', () => {
  it('keeps every word a separate argument', () => {
    const out = execFileSync('sh', ['-c', `for a in ${quoteArgv(NASTY)}; do printf '[%s]' "$a"; done`]).toString('utf8');
    expect(out).toBe(NASTY.map((word) => `[${word}]`).join(''));
  });

  it('refuses an empty argv', () => {
    expect(() => quoteArgv([])).toThrow();
  });
});

describe('remoteCommandText', () => {
  it('prefixes sudo -n -- for a non-root user who asks for sudo', () => {
    expect(remoteCommandText('deploy', ['systemctl', 'daemon-reload'], true)).toBe("'sudo' '-n' '--' 'systemctl' 'daemon-reload'");
  });

  it('runs as is for root, and for a non-root user who does not ask', () => {
    expect(remoteCommandText('root', ['id'], true)).toBe("'id'");
    expect(remoteCommandText('deploy', ['id'], false)).toBe("'id'");
  });

  it('bounds the command with timeout inside sudo, so it can kill root processes', () => {
    expect(remoteCommandText('deploy', ['id'], true, 1500)).toBe("'sudo' '-n' '--' 'timeout' '-k' '2' '1.5' 'id'");
    expect(remoteCommandText('root', ['id'], false, 120_000)).toBe("'timeout' '-k' '2' '120' 'id'");
  });
});
