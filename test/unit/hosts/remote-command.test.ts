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

describe('judgeOutcome: faults the host reports about itself', () => {
  const exited = (code: number, stderr: string) => ({ kind: 'exited' as const, code, stdout: out(''), stderr: out(stderr) });
  const judged = (run: () => unknown): TendError => {
    try {
      run();
    } catch (error) {
      return error as TendError;
    }
    throw new Error('judgeOutcome accepted the outcome');
  };

  // What sudo 1.9.13 (Debian 12) prints, captured from `sudo -n` run by a user in each situation.
  it.each([
    ['needs a password (no rule, or a rule without NOPASSWD)', 1, 'sudo: a password is required\n'],
    ['has no rule for this command', 1, "Sorry, user deploy is not allowed to execute '/usr/bin/timeout -k 2 120 systemctl daemon-reload' as root on web-1.\n"],
    ['is not in the sudoers file', 1, 'deploy is not in the sudoers file.\n'],
    ['is not in the sudoers file (older sudo)', 1, 'deploy is not in the sudoers file.  This incident will be reported.\n'],
    ['needs a terminal (sudo without -n)', 1, 'sudo: a terminal is required to read the password; either use the -S option to read from standard input or configure an askpass helper\n'],
    ['needs a tty (requiretty)', 1, 'sudo: sorry, you must have a tty to run sudo\n'],
    ['is not installed (dash)', 127, 'sh: 1: sudo: not found\n'],
    ['is not installed (bash)', 127, 'bash: line 1: sudo: command not found\n'],
  ])('reports sudo refusing when the user %s as E_SUDO_REFUSED, class conflict', (_name, code, stderr) => {
    const error = judged(() => judgeOutcome('web-1', ['systemctl', 'daemon-reload'], exited(code, stderr), [], { sudoUser: 'deploy' }));
    expect(error.code).toBe('E_SUDO_REFUSED');
    expect(error.errorClass).toBe('conflict');
    expect(error.where).toEqual({ host: 'web-1', command: 'systemctl daemon-reload' });
    expect(error.message).toContain(stderr.trim().split('\n')[0]?.slice(0, 40));
    expect(error.hint).toContain('deploy ALL=(root) NOPASSWD: ALL');
    expect(error.hint).toContain('/etc/sudoers.d/tend');
  });

  it('checks for a sudo refusal before an allowed exit code 1 is accepted', () => {
    const error = judged(() => judgeOutcome('web-1', ['systemctl', 'disable', 'x.timer'], exited(1, 'sudo: a password is required\n'), [1, 5], { sudoUser: 'deploy' }));
    expect(error.code).toBe('E_SUDO_REFUSED');
  });

  it('leaves the same words alone when the command did not go through sudo, or sudo ran it and it failed on its own', () => {
    expect(judged(() => judgeOutcome('web-1', ['x'], exited(1, 'sudo: a password is required\n'))).code).toBe('E_REMOTE_COMMAND');
    expect(judged(() => judgeOutcome('web-1', ['x'], exited(2, 'sudo: a password is required\n'), [], { sudoUser: 'deploy' })).code).toBe('E_REMOTE_COMMAND');
    expect(judged(() => judgeOutcome('web-1', ['x'], exited(1, 'Failed to reload: unit not found\n'), [], { sudoUser: 'deploy' })).code).toBe('E_REMOTE_COMMAND');
  });

  // What GNU coreutils 9.1 and dash print when the filesystem is full (or the user's quota is).
  it.each([
    ['cat: write error: No space left on device'],
    ["mkdir: cannot create directory '/var/lib/tend/releases/api': No space left on device"],
    ['mktemp: failed to create file via template ‘/var/lib/tend/.tend-tmp.XXXXXXXX’: No space left on device'],
    ['sh: 1: cannot create /etc/systemd/system/api.service: No space left on device'],
    ['cat: write error: Disk quota exceeded'],
  ])('reports %j as E_HOST_DISK_FULL, class conflict, with the host\'s own line and the directory written to', (line) => {
    const error = judged(() => judgeOutcome('web-1', ['sh', '-c', 'stage'], exited(1, `${line}\n`), [], { writesTo: '/var/lib/tend/releases' }));
    expect(error.code).toBe('E_HOST_DISK_FULL');
    expect(error.errorClass).toBe('conflict');
    expect(error.message).toBe(`web-1: /var/lib/tend/releases: ${line}`);
    expect(error.hint).toContain('tend retry');
  });

  it('reports a full disk without naming a directory when the command does not say where it writes', () => {
    const error = judged(() => judgeOutcome('web-1', ['systemctl', 'daemon-reload'], exited(1, 'Failed to write: No space left on device\n')));
    expect(error.message).toBe('web-1: Failed to write: No space left on device');
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
