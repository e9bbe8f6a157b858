import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ENV_DIR, OWNERSHIP_MARKER, PACKAGE_KEEP_ROOT, RELEASE_ROOT, UNIT_DIR } from '../../../src/render/host-layout.js';
import { parseObservation } from '../../../src/hosts/observe-parser.js';
import { OBSERVE_SCRIPT, observeArgv } from '../../../src/hosts/observe-script.js';

/**
 * The real observe script, run by the local POSIX shell against a scratch copy of the host layout (its
 * three directory constants pointed into a temp dir) with a stand-in `systemctl` on PATH: proves the
 * script and the parser agree, including on hostile file names, without touching this machine's /etc.
 * The parser then sees the real layout paths, as on a host.
 */
let root: string;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'tend-observe-'));
  for (const dir of [UNIT_DIR, ENV_DIR, RELEASE_ROOT, '/bin']) mkdirSync(join(root, dir), { recursive: true });
  // Prints one block per unit argument, as systemctl show does, with a blank line between blocks.
  writeFileSync(
    join(root, 'bin', 'systemctl'),
    `#!/bin/sh
while [ "$1" != "--" ]; do shift; done; shift
first=1
for u in "$@"; do
  [ $first = 1 ] || echo
  first=0
  printf 'Id=%s\\nActiveState=active\\nSubState=running\\nInvocationID=0123456789abcdef0123456789abcdef\\nNRestarts=2\\nNeedDaemonReload=no\\nMainPID=77\\nUnitFileState=enabled\\n' "$u"
done
`,
  );
  chmodSync(join(root, 'bin', 'systemctl'), 0o755);
});

afterEach(() => rmSync(root, { recursive: true, force: true }));

function sandboxed(script: string): string {
  return script
    .replace(`unit_dir='${UNIT_DIR}'`, `unit_dir='${root}${UNIT_DIR}'`)
    .replace(`env_dir='${ENV_DIR}'`, `env_dir='${root}${ENV_DIR}'`)
    .replace(`release_root='${RELEASE_ROOT}'`, `release_root='${root}${RELEASE_ROOT}'`)
    .replace(`deb_root='${PACKAGE_KEEP_ROOT}'`, `deb_root='${root}${PACKAGE_KEEP_ROOT}'`);
}

/** Runs the script and maps the sandbox paths back to the host layout, as a host would print them. */
function observe(hint: string[] = [], packages: string[] = []): string {
  const script = sandboxed(OBSERVE_SCRIPT);
  expect(script).not.toBe(OBSERVE_SCRIPT);
  const [, , ...args] = observeArgv(hint, packages);
  const stdout = execFileSync('sh', ['-s', ...args], {
    input: script,
    env: { PATH: `${join(root, 'bin')}:/usr/bin:/bin` },
  }).toString('utf8');
  return stdout.split(root).join('');
}

function put(path: string, content: string): string {
  writeFileSync(join(root, path), content);
  return createHash('sha256').update(content).digest('hex');
}

const owned = (service: string, body: string): string => `${OWNERSHIP_MARKER}\n# tend-service: ${service}\n${body}`;

describe('the observe script with the parser', () => {
  it('reports owned files with their hashes, current and kept releases newest first, and unit properties', () => {
    const unitHash = put(`${UNIT_DIR}/web.service`, owned('web', '[Service]\nExecStart=/x\n'));
    const timerHash = put(`${UNIT_DIR}/web-backup.timer`, owned('web', '[Timer]\nOnCalendar=daily\n'));
    const envHash = put(`${ENV_DIR}/web.env`, owned('web', 'A=1\n'));
    const [old, cur] = ['1'.repeat(64), '2'.repeat(64)];
    for (const [sha, when] of [[old, 1_000_000], [cur, 2_000_000]] as const) {
      mkdirSync(join(root, RELEASE_ROOT, 'web', sha), { recursive: true });
      utimesSync(join(root, RELEASE_ROOT, 'web', sha), when, when);
    }
    symlinkSync(cur, join(root, RELEASE_ROOT, 'web', 'current'));
    mkdirSync(join(root, RELEASE_ROOT, 'web', '.tend-stage.abc'));

    const observed = parseObservation('h', observe(['web']));
    const web = observed.services.get('web');
    expect(web?.files).toEqual(
      new Map([
        [`${UNIT_DIR}/web.service`, unitHash],
        [`${UNIT_DIR}/web-backup.timer`, timerHash],
        [`${ENV_DIR}/web.env`, envHash],
      ]),
    );
    expect(web?.currentRelease).toBe(cur);
    expect(web?.releases).toEqual([cur, old]);
    expect(web?.unit.nRestarts).toBe(2);
    expect([...(web?.timerUnits?.keys() ?? [])]).toEqual(['web-backup.timer']);
    expect(observed.foreignUnits).toEqual([]);
  });

  it('reports a same-named unit or env file without the marker as foreign, and does not own it', () => {
    put(`${UNIT_DIR}/api.service`, '[Service]\nExecStart=/usr/bin/api\n');
    put(`${ENV_DIR}/api.env`, 'A=1\n');
    symlinkSync('/dev/null', join(root, UNIT_DIR, 'masked.service'));
    put(`${UNIT_DIR}/unrelated.service`, '[Service]\n');
    const observed = parseObservation('h', observe(['api', 'masked.service', 'absent']));
    expect(observed.services.size).toBe(0);
    expect(observed.foreignUnits).toEqual([`${UNIT_DIR}/api.service`, `${ENV_DIR}/api.env`, `${UNIT_DIR}/masked.service`]);
  });

  it('ignores files with hostile names and a forged marker on a symlink', () => {
    put(`${UNIT_DIR}/evil\nfile sha256=x.service`, owned('web', ''));
    put(`${UNIT_DIR}/sp ace.service`, owned('web', ''));
    writeFileSync(join(root, 'target'), owned('evil', ''));
    symlinkSync(join(root, 'target'), join(root, UNIT_DIR, 'evil.service'));
    const observed = parseObservation('h', observe());
    expect(observed.services.size).toBe(0);
  });

  it('attributes a marked file with a bad service line by its name, and keeps hostile service lines out', () => {
    put(`${UNIT_DIR}/api.service`, `${OWNERSHIP_MARKER}\n# tend-service: x y=1\n`);
    put(`${UNIT_DIR}/api-job.timer`, `${OWNERSHIP_MARKER}\n# tend-service: ../../etc\n`);
    const observed = parseObservation('h', observe());
    expect([...observed.services.keys()]).toEqual(['api']);
    expect([...(observed.services.get('api')?.files.keys() ?? [])]).toEqual([`${UNIT_DIR}/api.service`]);
  });

  it('reports a dangling or odd current link as no current release', () => {
    put(`${UNIT_DIR}/web.service`, owned('web', ''));
    mkdirSync(join(root, RELEASE_ROOT, 'web'), { recursive: true });
    symlinkSync('../../../etc', join(root, RELEASE_ROOT, 'web', 'current'));
    expect(parseObservation('h', observe()).services.get('web')?.currentRelease).toBeUndefined();
  });
});

describe('the observe script on Debian packages', () => {
  beforeEach(() => {
    // dpkg-query -W -f '${Status}|${Version}' -- PKG, as dpkg answers for a held, a half-configured, an
    // unheld and an unknown package.
    writeFileSync(
      join(root, 'bin', 'dpkg-query'),
      `#!/bin/sh
eval pkg=\\\${$#}
case $pkg in
  hello) printf 'hold ok installed|1:1.1-1' ;;
  broken) printf 'hold ok half-configured|2.0' ;;
  manual) printf 'install ok installed|3.0' ;;
  *) echo "dpkg-query: no packages found matching $pkg" >&2; exit 1 ;;
esac
`,
    );
    chmodSync(join(root, 'bin', 'dpkg-query'), 0o755);
    mkdirSync(join(root, PACKAGE_KEEP_ROOT, 'hello'), { recursive: true });
    writeFileSync(join(root, PACKAGE_KEEP_ROOT, 'hello', 'held-version'), '1:1.1-1\n');
  });

  it('reports the installed version, the hold and the version tend holds, in the same round trip', () => {
    const observed = parseObservation('web-1', observe([], ['hello', 'broken', 'manual', 'absent']));
    expect([...(observed.packages?.values() ?? [])]).toEqual([
      { name: 'absent', version: undefined, held: false, tendVersion: undefined },
      { name: 'broken', version: undefined, held: true, tendVersion: undefined },
      { name: 'hello', version: '1:1.1-1', held: true, tendVersion: '1:1.1-1' },
      { name: 'manual', version: '3.0', held: false, tendVersion: undefined },
    ]);
  });

  it('never passes a name that is no Debian package name to the host', () => {
    expect(observeArgv([], ['hello', '../etc', 'Hello', 'a;rm'])).toEqual(['sh', '-s', '--', 'package:hello']);
  });
});
