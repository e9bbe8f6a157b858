import { describe, expect, it } from 'vitest';
import { TendError } from '../../../src/errors/index.js';
import { describeArgv, judgeOutcome, stderrTail } from '../../../src/hosts/remote-command.js';

const out = (text: string): Buffer => Buffer.from(text, 'utf8');

describe('judgeOutcome', () => {
  it('returns exit 0 with stdout and stderr decoded as a whole', () => {
    // A multi-byte character split across chunks survives because chunks are joined before decoding.
    const snowman = Buffer.from('☃', 'utf8');
    const stdout = Buffer.concat([snowman.subarray(0, 1), snowman.subarray(1)]);
    expect(judgeOutcome('h', ['x'], { kind: 'exited', code: 0, stdout, stderr: out('warn') })).toEqual({ code: 0, stdout: '☃', stderr: 'warn' });
  });

  it('accepts an exit code the caller allows', () => {
    expect(judgeOutcome('h', ['systemctl', 'is-active', 'x'], { kind: 'exited', code: 3, stdout: out('inactive\n'), stderr: out('') }, [3]).code).toBe(3);
  });

  it('turns any other exit code into E_REMOTE_COMMAND with host, command, code and the stderr tail', () => {
    const stderr = out(`${Array.from({ length: 30 }, (_, i) => `line ${i}`).join('\n')}\n`);
    let caught: unknown;
    try {
      judgeOutcome('web-1', ['systemctl', 'start', 'api.service'], { kind: 'exited', code: 5, stdout: out(''), stderr });
    } catch (error) {
      caught = error;
    }
    const error = caught as TendError;
    expect(error).toBeInstanceOf(TendError);
    expect(error.code).toBe('E_REMOTE_COMMAND');
    expect(error.errorClass).toBe('transient');
    expect(error.where).toEqual({ host: 'web-1', command: 'systemctl start api.service' });
    expect(error.message).toContain('web-1');
    expect(error.message).toContain('exited 5');
    expect(error.message).toContain('line 29');
    expect(error.message).not.toContain('line 19\n');
  });

  it('reports a command killed by a signal', () => {
    expect(() => judgeOutcome('h', ['x'], { kind: 'signalled', signal: 'KILL', stdout: out(''), stderr: out('') })).toThrow(/killed by signal KILL/);
  });
});

describe('describeArgv and stderrTail', () => {
  it('shows plain words bare and quotes the rest, bounded', () => {
    expect(describeArgv(['ls', '-l', 'a b', '$(x)'])).toBe('ls -l "a b" "$(x)"');
    expect(describeArgv(['x'.repeat(1000)]).length).toBeLessThan(310);
  });

  it('keeps the last lines of stderr only', () => {
    expect(stderrTail('a\nb\nc\n')).toBe('a\nb\nc');
    expect(stderrTail('y'.repeat(5000)).length).toBeLessThan(2010);
  });
});
