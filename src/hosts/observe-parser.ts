import { TendError } from '../errors/index.js';
import { ENV_DIR, UNIT_DIR } from '../render/host-layout.js';
import { SERVICE_NAME } from '../spec/service-names.js';
import type { InstalledPackage, ObservedHost, ObservedService, UnitProperties } from './observed.js';
import { DEBIAN_PACKAGE_NAME, DEBIAN_VERSION, OBSERVE_FORMAT_VERSION, SAFE_FILE_NAME, SHOW_PROPERTIES } from './observe-script.js';

/**
 * Reads what the observe script printed. Everything a host says is untrusted: a compromised or broken host
 * must not be able to make tend believe in files, releases or states it did not report in exactly the
 * expected shape. So the parser accepts one line grammar, with explicit field names and a value pattern per
 * field, in one order, ending with `end`; anything else is `E_OBSERVE_PARSE` naming the host and the line.
 * Pure: the SSH side lives in observe.ts.
 */

/** Bounds on what is read at all, before any line is looked at. */
export const MAX_OBSERVE_OUTPUT_CHARS = 8 * 1024 * 1024;
const MAX_LINE_CHARS = 4096;

const HEX64 = /^[0-9a-f]{64}$/;
const STATE = /^[a-z][a-z-]{0,40}$/;
const UNIT_FILE_STATE = /^[a-z-]{0,40}$/;
const INVOCATION_ID = /^([0-9a-f]{32})?$/;
const DECIMAL = /^(0|[1-9][0-9]{0,9})$/;
const YES_NO = /^(yes|no)$/;

type Field = (value: string) => boolean;

const fileKinds = new Set(['unit', 'env']);
const SERVICE_ONLY_PROPERTIES: ReadonlySet<string> = new Set(['NRestarts', 'MainPID']);

/** Record name -> its fields, each with its value check. Every field is required, no other is allowed. */
const RECORDS: Readonly<Record<string, Readonly<Record<string, Field>>>> = {
  file: {
    kind: (v) => fileKinds.has(v),
    path: (v) => unitFilePath(v) !== undefined || envFilePath(v) !== undefined,
    service: (v) => SERVICE_NAME.test(v),
    sha256: (v) => HEX64.test(v),
  },
  current: { service: (v) => SERVICE_NAME.test(v), release: (v) => v === '-' || HEX64.test(v) },
  release: { service: (v) => SERVICE_NAME.test(v), sha256: (v) => HEX64.test(v) },
  foreign: { path: (v) => unitFilePath(v) !== undefined || envFilePath(v) !== undefined },
  package: {
    name: (v) => DEBIAN_PACKAGE_NAME.test(v),
    version: (v) => v === '-' || DEBIAN_VERSION.test(v),
    held: (v) => YES_NO.test(v),
    tend: (v) => v === '-' || DEBIAN_VERSION.test(v),
  },
};

const SHOW_CHECKS: Readonly<Record<(typeof SHOW_PROPERTIES)[number], Field>> = {
  Id: (v) => SAFE_FILE_NAME.test(v),
  ActiveState: (v) => STATE.test(v),
  SubState: (v) => STATE.test(v),
  InvocationID: (v) => INVOCATION_ID.test(v),
  NRestarts: (v) => DECIMAL.test(v),
  NeedDaemonReload: (v) => YES_NO.test(v),
  MainPID: (v) => DECIMAL.test(v),
  UnitFileState: (v) => UNIT_FILE_STATE.test(v),
};

/** A unit file name in the unit dir (`<name>.service` or `<name>.timer`), or undefined. */
function unitFilePath(path: string): string | undefined {
  const prefix = `${UNIT_DIR}/`;
  if (!path.startsWith(prefix)) return undefined;
  const name = path.slice(prefix.length);
  return SAFE_FILE_NAME.test(name) && /\.(service|timer)$/.test(name) && !name.startsWith('.') ? name : undefined;
}

function envFilePath(path: string): string | undefined {
  const prefix = `${ENV_DIR}/`;
  if (!path.startsWith(prefix)) return undefined;
  const name = path.slice(prefix.length);
  return SAFE_FILE_NAME.test(name) && name.endsWith('.env') && !name.startsWith('.') ? name : undefined;
}

class ParseFailure extends Error {
  constructor(
    readonly line: number,
    readonly reason: string,
  ) {
    super(reason);
  }
}

function parseRecord(text: string, lineNumber: number): { kind: string; fields: Map<string, string> } | undefined {
  const [kind, ...words] = text.split(' ');
  const spec = kind === undefined ? undefined : RECORDS[kind];
  if (kind === undefined || spec === undefined || !Object.hasOwn(RECORDS, kind)) return undefined;
  const fields = new Map<string, string>();
  for (const word of words) {
    const eq = word.indexOf('=');
    if (eq <= 0) throw new ParseFailure(lineNumber, `"${kind}" field without a name`);
    const key = word.slice(0, eq);
    const value = word.slice(eq + 1);
    const check = Object.hasOwn(spec, key) ? spec[key] : undefined;
    if (check === undefined) throw new ParseFailure(lineNumber, `"${kind}" has an unexpected field "${printable(key)}"`);
    if (fields.has(key)) throw new ParseFailure(lineNumber, `"${kind}" repeats field "${key}"`);
    if (!check(value)) throw new ParseFailure(lineNumber, `"${kind}" has an invalid ${key} "${printable(value)}"`);
    fields.set(key, value);
  }
  for (const key of Object.keys(spec)) {
    if (!fields.has(key)) throw new ParseFailure(lineNumber, `"${kind}" lacks field "${key}"`);
  }
  return { kind, fields };
}

/** Values quoted in messages: bounded and with control characters made visible. */
function printable(value: string): string {
  const shown = value.length > 80 ? `${value.slice(0, 80)}…` : value;
  return JSON.stringify(shown).slice(1, -1);
}

function field(record: { fields: Map<string, string> }, key: string): string {
  const value = record.fields.get(key);
  // parseRecord guarantees every declared field; reaching this is a bug in the table above.
  if (value === undefined) throw new Error(`record lacks ${key}`);
  return value;
}

interface ServiceDraft {
  files: Map<string, string>;
  units: string[];
  current: string | undefined | null;
  releases: string[];
}

/**
 * Parses the observe script's stdout into an ObservedHost (reachable). `stderrText` only feeds the
 * message when systemctl failed. Throws E_OBSERVE_PARSE (or E_OBSERVE_SYSTEMCTL) naming the host.
 */
export function parseObservation(host: string, stdout: string, stderrText = ''): Extract<ObservedHost, { reachable: true }> {
  try {
    return parseOrFail(host, stdout);
  } catch (error) {
    if (!(error instanceof ParseFailure)) throw error;
    if (error.reason.startsWith('systemctl show failed')) {
      const tail = stderrText.trim().split('\n').slice(-5).join('\n');
      return throwSystemctl(host, `${error.reason}${tail === '' ? '' : `: ${printable(tail)}`}`);
    }
    throw new TendError(
      'E_OBSERVE_PARSE',
      'conflict',
      `${host}: unexpected output from the observe script at line ${error.line}: ${error.reason}`,
      {
        where: { host, command: 'observe' },
        hint:
          'tend trusts nothing a host prints that is not in the expected form, so it changes nothing on this host. ' +
          'Check the host by hand (a tampered shell, sha256sum or systemctl, or a tend version mismatch).',
      },
    );
  }
}

function throwSystemctl(host: string, reason: string): never {
  throw new TendError('E_OBSERVE_SYSTEMCTL', 'conflict', `${host}: ${reason}`, {
    where: { host, command: 'systemctl show' },
    hint: 'tend needs systemd running as PID 1 on the host; check `systemctl is-system-running` there.',
  });
}

function parseOrFail(host: string, stdout: string): Extract<ObservedHost, { reachable: true }> {
  if (stdout.length > MAX_OBSERVE_OUTPUT_CHARS) {
    throw new ParseFailure(0, `output is larger than ${MAX_OBSERVE_OUTPUT_CHARS} characters`);
  }
  if (!stdout.endsWith('\n')) throw new ParseFailure(0, 'output does not end with a newline (truncated?)');
  const lines = stdout.slice(0, -1).split('\n');
  let index = 0;
  const next = (): string | undefined => lines[index++];
  const lineNo = (): number => index;

  for (const [i, line] of lines.entries()) {
    if (line.length > MAX_LINE_CHARS) throw new ParseFailure(i + 1, `line longer than ${MAX_LINE_CHARS} characters`);
    // Carriage returns, NULs and other control characters have no place in this format.
    if (/[\u0000-\u0008\u000b-\u001f\u007f]/.test(line)) throw new ParseFailure(i + 1, 'control character in line');
  }

  if (next() !== `tend-observe version=${OBSERVE_FORMAT_VERSION}`) {
    throw new ParseFailure(1, `expected header "tend-observe version=${OBSERVE_FORMAT_VERSION}"`);
  }

  const services = new Map<string, ServiceDraft>();
  const paths = new Set<string>();
  const foreign: string[] = [];
  const packages = new Map<string, InstalledPackage>();
  const draft = (service: string): ServiceDraft => {
    let d = services.get(service);
    if (d === undefined) {
      d = { files: new Map(), units: [], current: null, releases: [] };
      services.set(service, d);
    }
    return d;
  };
  const known = (service: string): ServiceDraft => {
    const d = services.get(service);
    if (d === undefined) throw new ParseFailure(lineNo(), `service "${service}" was reported without any file`);
    return d;
  };

  // Records, in the order the script writes them: files, then per service current + releases, then foreign, then packages.
  let phase = 0;
  const PHASE = { file: 0, current: 1, release: 1, foreign: 2, package: 3 } as const;
  for (;;) {
    const line = next();
    if (line === undefined) throw new ParseFailure(lineNo(), 'output ends before "systemctl-show begin"');
    if (line === 'systemctl-show begin') break;
    const record = parseRecord(line, lineNo());
    if (record === undefined) throw new ParseFailure(lineNo(), `unexpected line "${printable(line)}"`);
    const recordPhase = PHASE[record.kind as keyof typeof PHASE];
    if (recordPhase < phase) throw new ParseFailure(lineNo(), `"${record.kind}" out of order`);
    phase = recordPhase;
    switch (record.kind) {
      case 'file': {
        const path = field(record, 'path');
        const kind = field(record, 'kind');
        if ((kind === 'unit') !== (unitFilePath(path) !== undefined)) {
          throw new ParseFailure(lineNo(), `"${printable(path)}" is not a ${kind} file path`);
        }
        if (paths.has(path)) throw new ParseFailure(lineNo(), `"${printable(path)}" reported twice`);
        paths.add(path);
        const d = draft(field(record, 'service'));
        d.files.set(path, field(record, 'sha256'));
        const unit = unitFilePath(path);
        if (unit !== undefined) d.units.push(unit);
        break;
      }
      case 'current': {
        const d = known(field(record, 'service'));
        if (d.current !== null) throw new ParseFailure(lineNo(), `"current" repeated for ${field(record, 'service')}`);
        const release = field(record, 'release');
        d.current = release === '-' ? undefined : release;
        break;
      }
      case 'release': {
        const service = field(record, 'service');
        const d = known(service);
        if (d.current === null) throw new ParseFailure(lineNo(), `"release" before "current" for ${service}`);
        const sha = field(record, 'sha256');
        if (d.releases.includes(sha)) throw new ParseFailure(lineNo(), `release ${sha} repeated for ${service}`);
        d.releases.push(sha);
        break;
      }
      case 'foreign': {
        const path = field(record, 'path');
        if (paths.has(path) || foreign.includes(path)) {
          throw new ParseFailure(lineNo(), `"${printable(path)}" is both reported and foreign, or repeated`);
        }
        foreign.push(path);
        break;
      }
      case 'package': {
        const name = field(record, 'name');
        if (packages.has(name)) throw new ParseFailure(lineNo(), `package "${name}" reported twice`);
        const version = field(record, 'version');
        const tend = field(record, 'tend');
        packages.set(name, { name, version: version === '-' ? undefined : version, held: field(record, 'held') === 'yes', tendVersion: tend === '-' ? undefined : tend });
        break;
      }
    }
  }
  for (const [service, d] of services) {
    if (d.current === null) throw new ParseFailure(lineNo(), `no "current" record for ${service}`);
  }

  const shown = parseShowBlocks(next, lineNo);

  const end = next();
  if (end !== 'end') throw new ParseFailure(lineNo(), 'expected "end"');
  if (index !== lines.length) throw new ParseFailure(lineNo() + 1, 'output continues after "end"');

  const expectedUnits = new Set<string>();
  for (const [service, d] of services) {
    expectedUnits.add(`${service}.service`);
    for (const unit of d.units) expectedUnits.add(unit);
  }
  for (const unit of shown.keys()) {
    if (!expectedUnits.has(unit)) throw new ParseFailure(lineNo(), `systemctl reported unit "${unit}" that was not asked for`);
  }
  const props = (unit: string): UnitProperties => {
    const p = shown.get(unit);
    if (p === undefined) throw new ParseFailure(lineNo(), `systemctl did not report unit "${unit}"`);
    return p;
  };

  const result = new Map<string, ObservedService>();
  for (const service of [...services.keys()].sort()) {
    const d = services.get(service);
    if (d === undefined) continue;
    const main = `${service}.service`;
    const timerUnits = new Map<string, UnitProperties>();
    for (const unit of [...d.units].sort()) if (unit !== main) timerUnits.set(unit, props(unit));
    result.set(service, {
      service,
      files: d.files,
      currentRelease: d.current ?? undefined,
      releases: d.releases,
      unit: props(main),
      timerUnits,
    });
  }
  return { host, reachable: true, services: result, foreignUnits: foreign, packages };
}

function parseShowBlocks(next: () => string | undefined, lineNo: () => number): Map<string, UnitProperties> {
  const units = new Map<string, UnitProperties>();
  let block = new Map<string, string>();
  const flush = (): void => {
    if (block.size === 0) return;
    const id = block.get('Id') ?? '';
    for (const key of SHOW_PROPERTIES) {
      // systemctl omits a property it has no value for unless --all is honoured; only InvocationID (empty
      // before the first start) may legitimately be empty, and a timer has no NRestarts or MainPID at all.
      const optional = key === 'InvocationID' || (id.endsWith('.timer') && SERVICE_ONLY_PROPERTIES.has(key));
      if (!block.has(key) && !optional) throw new ParseFailure(lineNo(), `systemctl block lacks ${key}`);
    }
    if (units.has(id)) throw new ParseFailure(lineNo(), `systemctl reported "${id}" twice`);
    units.set(id, {
      activeState: block.get('ActiveState') ?? '',
      subState: block.get('SubState') ?? '',
      invocationId: block.get('InvocationID') ?? '',
      nRestarts: Number(block.get('NRestarts') ?? '0'),
      needDaemonReload: block.get('NeedDaemonReload') === 'yes',
      mainPid: Number(block.get('MainPID') ?? '0'),
      unitFileState: block.get('UnitFileState') ?? '',
    });
    block = new Map();
  };
  for (;;) {
    const line = next();
    if (line === undefined) throw new ParseFailure(lineNo(), 'output ends inside the systemctl section');
    const end = /^systemctl-show end rc=(0|[1-9][0-9]{0,2})$/.exec(line);
    if (end !== null) {
      flush();
      if (end[1] !== '0') throw new ParseFailure(lineNo(), `systemctl show failed with exit code ${end[1]}`);
      return units;
    }
    if (line === '') {
      flush();
      continue;
    }
    const eq = line.indexOf('=');
    const key = eq > 0 ? line.slice(0, eq) : '';
    const value = line.slice(eq + 1);
    const check = Object.hasOwn(SHOW_CHECKS, key) ? SHOW_CHECKS[key as keyof typeof SHOW_CHECKS] : undefined;
    if (check === undefined) throw new ParseFailure(lineNo(), `unexpected systemctl line "${printable(line)}"`);
    if (block.has(key)) throw new ParseFailure(lineNo(), `systemctl block repeats ${key}`);
    if (!check(value)) throw new ParseFailure(lineNo(), `systemctl reported an invalid ${key} "${printable(value)}"`);
    block.set(key, value);
  }
}

/**
 * Parses the output of `systemctl show --all -p <SHOW_PROPERTIES> -- UNITS` followed by the line
 * `systemctl-show end rc=N`, as the health watch asks for it between probes. Same strictness as observe.
 */
export function parseUnitStatus(host: string, stdout: string, stderrText = ''): Map<string, UnitProperties> {
  const lines = stdout.replace(/\n$/, '').split('\n');
  let index = 0;
  try {
    return parseShowBlocks(
      () => lines[index++],
      () => index,
    );
  } catch (error) {
    if (!(error instanceof ParseFailure)) throw error;
    if (error.reason.startsWith('systemctl show failed')) {
      const tail = stderrText.trim().split('\n').slice(-5).join('\n');
      return throwSystemctl(host, `${error.reason}${tail === '' ? '' : `: ${printable(tail)}`}`);
    }
    throw new TendError('E_OBSERVE_PARSE', 'conflict', `${host}: unexpected output from systemctl show at line ${error.line}: ${error.reason}`, {
      where: { host, command: 'systemctl show' },
      hint: 'tend trusts nothing a host prints that is not in the expected form; check the host by hand.',
    });
  }
}
