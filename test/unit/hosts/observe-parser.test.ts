import { describe, expect, it } from 'vitest';
import { TendError } from '../../../src/errors/index.js';
import { parseObservation } from '../../../src/hosts/observe-parser.js';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);
const C = 'c'.repeat(64);
const INV = '0123456789abcdef0123456789abcdef';

function show(id: string, overrides: Record<string, string> = {}): string[] {
  const props: Record<string, string> = {
    Id: id,
    ActiveState: 'active',
    SubState: 'running',
    InvocationID: INV,
    NRestarts: '0',
    NeedDaemonReload: 'no',
    MainPID: '4242',
    UnitFileState: 'enabled',
    ...overrides,
  };
  return Object.entries(props).map(([k, v]) => `${k}=${v}`);
}

/** A well-formed observation of one service `web` with a timer, two releases and a foreign unit. */
function goodLines(): string[] {
  return [
    'tend-observe version=1',
    `file kind=unit path=/etc/systemd/system/web.service service=web sha256=${A}`,
    `file kind=unit path=/etc/systemd/system/web-backup.timer service=web sha256=${B}`,
    `file kind=env path=/etc/tend/env/web.env service=web sha256=${C}`,
    `current service=web release=${A}`,
    `release service=web sha256=${A}`,
    `release service=web sha256=${B}`,
    'foreign path=/etc/systemd/system/api.service',
    'systemctl-show begin',
    ...show('web-backup.timer', { SubState: 'waiting', MainPID: '0', InvocationID: '' }),
    '',
    ...show('web.service'),
    'systemctl-show end rc=0',
    'end',
  ];
}

const text = (lines: string[]): string => `${lines.join('\n')}\n`;

function parseError(stdout: string): TendError {
  try {
    parseObservation('web-1', stdout);
  } catch (error) {
    if (error instanceof TendError) return error;
    throw error;
  }
  throw new Error('expected the parser to reject the output');
}

describe('parseObservation', () => {
  it('reads a timer block as systemd 252 prints it, without NRestarts or MainPID (regression)', () => {
    const timer = ['Id=web-backup.timer', 'ActiveState=active', 'SubState=waiting', 'UnitFileState=enabled', 'NeedDaemonReload=no', `InvocationID=${INV}`];
    const lines = goodLines();
    const start = lines.indexOf('systemctl-show begin') + 1;
    lines.splice(start, show('web-backup.timer').length, ...timer);
    const observed = parseObservation('web-1', text(lines));
    const web = observed.services.get('web');
    expect(web?.timerUnits?.get('web-backup.timer')).toMatchObject({ subState: 'waiting', nRestarts: 0, mainPid: 0 });
  });

  it('still rejects a service block without NRestarts', () => {
    const lines = goodLines().filter((line) => line !== 'NRestarts=0');
    expect(parseError(text(lines)).code).toBe('E_OBSERVE_PARSE');
  });

  it('reads files, releases, unit properties and foreign units of a well-formed observation', () => {
    const observed = parseObservation('web-1', text(goodLines()));
    expect(observed.reachable).toBe(true);
    expect(observed.foreignUnits).toEqual(['/etc/systemd/system/api.service']);
    const web = observed.services.get('web');
    expect(web?.files).toEqual(
      new Map([
        ['/etc/systemd/system/web.service', A],
        ['/etc/systemd/system/web-backup.timer', B],
        ['/etc/tend/env/web.env', C],
      ]),
    );
    expect(web?.currentRelease).toBe(A);
    expect(web?.releases).toEqual([A, B]);
    expect(web?.unit).toEqual({
      activeState: 'active',
      subState: 'running',
      invocationId: INV,
      nRestarts: 0,
      needDaemonReload: false,
      mainPid: 4242,
      unitFileState: 'enabled',
    });
    expect(web?.timerUnits?.get('web-backup.timer')?.subState).toBe('waiting');
  });

  it('reads a host with nothing of tend on it', () => {
    const observed = parseObservation('web-1', text(['tend-observe version=1', 'systemctl-show begin', 'systemctl-show end rc=0', 'end']));
    expect(observed.services.size).toBe(0);
    expect(observed.foreignUnits).toEqual([]);
  });

  it('reads "current release=-" as no current release', () => {
    const lines = goodLines().map((line) => (line.startsWith('current ') ? 'current service=web release=-' : line));
    expect(parseObservation('web-1', text(lines)).services.get('web')?.currentRelease).toBeUndefined();
  });

  it('accepts a unit whose InvocationID systemctl left out (never started)', () => {
    const lines = goodLines().filter((line) => line !== `InvocationID=${INV}`);
    expect(parseObservation('web-1', text(lines)).services.get('web')?.unit.invocationId).toBe('');
  });

  it('reads the packages it was asked about, after the foreign units', () => {
    const lines = goodLines();
    const at = lines.indexOf('systemctl-show begin');
    lines.splice(at, 0, 'package name=hello version=1.1-1 held=yes tend=1.1-1', 'package name=other version=- held=no tend=-');
    const observed = parseObservation('web-1', text(lines));
    expect(observed.packages?.get('hello')).toEqual({ name: 'hello', version: '1.1-1', held: true, tendVersion: '1.1-1' });
    expect(observed.packages?.get('other')).toEqual({ name: 'other', version: undefined, held: false, tendVersion: undefined });
  });

  const hostile: ReadonlyArray<readonly [string, (lines: string[]) => string[]]> = [
    ['a wrong version header', (l) => ['tend-observe version=2', ...l.slice(1)]],
    ['a missing header', (l) => l.slice(1)],
    ['an extra field', (l) => l.map((x) => (x.startsWith('current ') ? `${x} extra=1` : x))],
    ['a missing field', (l) => l.map((x) => (x.startsWith('current ') ? 'current service=web' : x))],
    ['a repeated field', (l) => l.map((x) => (x.startsWith('current ') ? `${x} release=-` : x))],
    ['an unknown record', (l) => [l[0] ?? '', 'rootkit path=/x', ...l.slice(1)]],
    ['a path outside the unit and env dirs', (l) => l.map((x) => x.replace('/etc/tend/env/web.env', '/etc/shadow'))],
    ['a path that climbs out of the unit dir', (l) => l.map((x) => x.replace('/etc/systemd/system/web.service', '/etc/systemd/system/../../root/.ssh/x.service'))],
    ['an env file reported as a unit', (l) => l.map((x) => x.replace('kind=env', 'kind=unit'))],
    ['an uppercase hash', (l) => l.map((x) => x.replace(`sha256=${C}`, `sha256=${C.toUpperCase()}`))],
    ['a short hash', (l) => l.map((x) => x.replace(`sha256=${C}`, 'sha256=abc'))],
    ['a service name with a space smuggled in', (l) => l.map((x) => x.replace('service=web sha256=' + C, 'service=web x sha256=' + C))],
    ['the same file twice', (l) => [...l.slice(0, 2), l[1] ?? '', ...l.slice(2)]],
    ['a release before current', (l) => [...l.slice(0, 4), l[5] ?? '', l[4] ?? '', ...l.slice(6)]],
    ['a release of a service with no files', (l) => l.map((x) => (x === `release service=web sha256=${B}` ? `release service=api sha256=${B}` : x))],
    ['a file record after the releases', (l) => [...l.slice(0, 7), l[1]?.replace('web.service', 'web2.service') ?? '', ...l.slice(7)]],
    ['no current record for a service', (l) => l.filter((x) => !x.startsWith('current '))],
    ['a carriage return in a value', (l) => l.map((x) => (x.startsWith('current ') ? `${x}\r` : x))],
    ['a NUL byte', (l) => l.map((x) => (x.startsWith('current ') ? `${x}\u0000` : x))],
    ['a newline inside a value (the rest becomes a bogus line)', (l) => l.map((x) => x.replace('service=web release', 'service=web\nevil=1 release'))],
    ['an overlong line', (l) => [...l.slice(0, 8), `foreign path=/etc/systemd/system/${'x'.repeat(5000)}.service`, ...l.slice(8)]],
    ['an unexpected systemctl property', (l) => l.map((x) => (x === 'MainPID=4242' ? 'ExecStart=/bin/sh' : x))],
    ['an invalid systemctl value', (l) => l.map((x) => (x === 'ActiveState=active' ? 'ActiveState=active; rm' : x))],
    ['a non-numeric MainPID', (l) => l.map((x) => (x === 'MainPID=4242' ? 'MainPID=-1' : x))],
    ['a unit systemctl reports twice', (l) => { const i = l.indexOf('systemctl-show end rc=0'); return [...l.slice(0, i), '', ...show('web.service'), ...l.slice(i)]; }],
    ['a unit that was not asked for', (l) => { const i = l.indexOf('systemctl-show end rc=0'); return [...l.slice(0, i), '', ...show('sshd.service'), ...l.slice(i)]; }],
    ['a unit systemctl did not report', (l) => { const i = l.indexOf('systemctl-show begin'); const j = l.indexOf(''); return [...l.slice(0, i + 1), ...l.slice(j + 1)]; }],
    ['a systemctl block missing a property', (l) => l.filter((x) => x !== 'UnitFileState=enabled')],
    ['a missing systemctl section', (l) => l.filter((x) => !x.startsWith('systemctl-show'))],
    ['a missing end', (l) => l.filter((x) => x !== 'end')],
    ['lines after end', (l) => [...l, 'file kind=unit']],
    ['a package version with a space smuggled in', (l) => { const i = l.indexOf('systemctl-show begin'); return [...l.slice(0, i), 'package name=hello version=1.0 x held=no tend=-', ...l.slice(i)]; }],
    ['a package before the foreign units', (l) => { const i = l.indexOf('foreign path=/etc/systemd/system/api.service'); return [...l.slice(0, i), 'package name=hello version=1.0 held=no tend=-', ...l.slice(i)]; }],
    ['a package reported twice', (l) => { const i = l.indexOf('systemctl-show begin'); const p = 'package name=hello version=1.0 held=no tend=-'; return [...l.slice(0, i), p, p, ...l.slice(i)]; }],
    ['a package held neither yes nor no', (l) => { const i = l.indexOf('systemctl-show begin'); return [...l.slice(0, i), 'package name=hello version=1.0 held=maybe tend=-', ...l.slice(i)]; }],
  ];

  it.each(hostile)('rejects %s with E_OBSERVE_PARSE naming the host', (_name, mutate) => {
    const error = parseError(text(mutate(goodLines())));
    expect(error.code).toBe('E_OBSERVE_PARSE');
    expect(error.errorClass).toBe('conflict');
    expect(error.message).toContain('web-1');
    expect(error.where).toEqual({ host: 'web-1', command: 'observe' });
  });

  it('rejects output cut off without its final newline', () => {
    expect(parseError(text(goodLines()).slice(0, -1)).code).toBe('E_OBSERVE_PARSE');
  });

  it('rejects huge output before looking at its lines', () => {
    const huge = `tend-observe version=1\n${'foreign path=/etc/systemd/system/x.service\n'.repeat(300_000)}`;
    const error = parseError(huge);
    expect(error.code).toBe('E_OBSERVE_PARSE');
    expect(error.message).toMatch(/larger than/);
  });

  it('shows control characters of hostile values escaped in the message, not raw', () => {
    const lines = goodLines().map((x) => (x === 'ActiveState=active' ? 'ActiveState=\u001b[31mred' : x));
    const error = parseError(text(lines));
    expect(error.message).not.toContain('\u001b');
  });

  it('reports a failed systemctl as E_OBSERVE_SYSTEMCTL with its stderr', () => {
    const lines = ['tend-observe version=1', 'systemctl-show begin', 'systemctl-show end rc=1', 'end'];
    let caught: unknown;
    try {
      parseObservation('web-1', text(lines), 'System has not been booted with systemd as init system (PID 1).');
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(TendError);
    expect((caught as TendError).code).toBe('E_OBSERVE_SYSTEMCTL');
    expect((caught as TendError).message).toContain('not been booted with systemd');
  });
});
