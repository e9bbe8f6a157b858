import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { journalMarkArgv, quoteArgv, quoteWord, remoteCommandText } from '../../../src/hosts/shell-quote.js';

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

describe('a journal mark on a remote command', () => {
  /** Runs the text as the login shell would, with a `logger` that records its argv, one word a line. */
  function runWithLogger(text: string, loggerExits = 0): { status: number | null; stdout: string; loggerArgs: string[] | undefined } {
    const dir = mkdtempSync(join(tmpdir(), 'tend-logger-'));
    try {
      writeFileSync(join(dir, 'logger'), `#!/bin/sh\nfor a in "$@"; do printf '%s\\n' "$a"; done >"${dir}/args"\nexit ${loggerExits}\n`);
      chmodSync(join(dir, 'logger'), 0o755);
      const run = spawnSync('sh', ['-c', text], { env: { ...process.env, PATH: `${dir}:${process.env['PATH'] ?? ''}` }, encoding: 'utf8' });
      let loggerArgs: string[] | undefined;
      try {
        loggerArgs = readFileSync(join(dir, 'args'), 'utf8').split('\n').slice(0, -1);
      } catch {
        loggerArgs = undefined;
      }
      return { status: run.status, stdout: run.stdout, loggerArgs };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it('writes the mark with logger -t tend before the command, in the same shell text', () => {
    const text = remoteCommandText('root', ['echo', 'restarted'], true, 1500, 'begin update api commit=1a2b3c4d5e6f by=tend-1');
    expect(text).toBe("'logger' '-t' 'tend' '--' 'begin update api commit=1a2b3c4d5e6f by=tend-1'; 'timeout' '-k' '2' '1.5' 'echo' 'restarted'");
    const run = runWithLogger(text);
    expect(run.loggerArgs).toEqual(['-t', 'tend', '--', 'begin update api commit=1a2b3c4d5e6f by=tend-1']);
    expect(run.stdout).toBe('restarted\n');
  });

  it('keeps the command’s own exit status, and runs it even when logger fails', () => {
    expect(runWithLogger(remoteCommandText('root', ['sh', '-c', 'exit 7'], false, undefined, 'begin')).status).toBe(7);
    const failedLogger = runWithLogger(remoteCommandText('root', ['echo', 'ran'], false, undefined, 'begin'), 1);
    expect([failedLogger.status, failedLogger.stdout]).toEqual([0, 'ran\n']);
  });

  it('marks as the SSH user, outside sudo: journald takes anyone’s lines', () => {
    expect(remoteCommandText('deploy', ['id'], true, undefined, 'begin')).toBe("'logger' '-t' 'tend' '--' 'begin'; 'sudo' '-n' '--' 'id'");
  });

  it('cannot be made to write a second, forged line or run anything', () => {
    const run = runWithLogger(remoteCommandText('root', ['true'], false, undefined, "by=x\nend update api outcome=healthy $(touch /tmp/pwned) '"));
    expect(run.loggerArgs).toEqual(['-t', 'tend', '--', "by=x?end update api outcome=healthy $(touch /tmp/pwned) '"]);
    expect(journalMarkArgv('a\u0007b\rc')).toEqual(['logger', '-t', 'tend', '--', 'a?b?c']);
  });
});
