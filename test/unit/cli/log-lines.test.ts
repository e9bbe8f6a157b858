import { describe, expect, it } from 'vitest';
import { HostLineMerger } from '../../../src/cli/log-lines.js';
import { STOP_ON_EOF_SCRIPT, unitLogsArgv } from '../../../src/hosts/index.js';

/** `tend logs`: the argv each host runs, and lines from several hosts merged whole, each with its host. */
function merged(hosts: readonly string[], feed: (merger: HostLineMerger) => void): string[] {
  const writes: string[] = [];
  feed(new HostLineMerger(hosts, (text) => writes.push(text)));
  return writes;
}

describe('HostLineMerger', () => {
  it('prefixes every line with its host, padded to the longest host name', () => {
    const writes = merged(['web-1', 'batch-10'], (merger) => {
      merger.push('web-1', Buffer.from('a\nb\n'));
      merger.push('batch-10', Buffer.from('c\n'));
    });
    expect(writes.join('')).toBe('web-1    | a\nweb-1    | b\nbatch-10 | c\n');
  });

  it('never writes half a line: a line split across chunks waits, while other hosts\' lines go out whole', () => {
    const writes = merged(['web-1', 'web-2'], (merger) => {
      merger.push('web-1', Buffer.from('2026-12-03T10:00:00+0000 web-1 api[1]: hel'));
      merger.push('web-2', Buffer.from('one from web-2\n'));
      merger.push('web-1', Buffer.from('lo\nnext'));
      merger.push('web-1', Buffer.from(' line\n'));
    });
    expect(writes).toEqual(['web-2 | one from web-2\n', 'web-1 | 2026-12-03T10:00:00+0000 web-1 api[1]: hello\n', 'web-1 | next line\n']);
  });

  it('keeps a UTF-8 character split across chunks whole', () => {
    const bytes = Buffer.from('grüße\n');
    const writes = merged(['h'], (merger) => {
      merger.push('h', bytes.subarray(0, 3));
      merger.push('h', bytes.subarray(3));
    });
    expect(writes.join('')).toBe('h | grüße\n');
  });

  it('writes a last line without a newline when its host ends, and nothing for a host that printed nothing', () => {
    const writes = merged(['web-1', 'web-2'], (merger) => {
      merger.push('web-1', Buffer.from('no newline'));
      merger.end('web-1');
      merger.end('web-2');
    });
    expect(writes).toEqual(['web-1 | no newline\n']);
  });
});

describe('unitLogsArgv', () => {
  it('runs journalctl -u <unit> --no-pager -o short-iso under the script that ends it at EOF on stdin', () => {
    expect(unitLogsArgv('api.service', { follow: false })).toEqual(['sh', '-c', STOP_ON_EOF_SCRIPT, 'tend-logs', 'journalctl', '-u', 'api.service', '--no-pager', '-o', 'short-iso']);
  });

  it('passes --since as one word, so a value that looks like an option stays a value, and -f as --follow', () => {
    expect(unitLogsArgv('api.service', { since: '-1h; rm -rf /', follow: true }).slice(4)).toEqual([
      'journalctl',
      '-u',
      'api.service',
      '--no-pager',
      '-o',
      'short-iso',
      '--since=-1h; rm -rf /',
      '--follow',
    ]);
  });

  it('refuses a unit name that is not one', () => {
    expect(() => unitLogsArgv('api.service; reboot', { follow: false })).toThrow(/invalid unit name/);
  });
});
