import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TendError } from '../../src/errors/index.js';
import {
  journalTail,
  observeHost,
  probeExec,
  probeHttp,
  probeTcp,
  pruneReleases,
  restartUnits,
  showUnits,
  SshPool,
  stageRelease,
  switchRelease,
  writeFileAtomic,
  type ObservedHost,
  type SshHost,
} from '../../src/hosts/index.js';
import { envFilePath, OWNERSHIP_MARKER, releaseDir, unitPath } from '../../src/render/host-layout.js';
import { blockSshPort, changeHostKey } from './harness/faults.js';
import type { TestHost } from './harness/hosts.js';
import { useHosts } from './harness/use-hosts.js';

/**
 * src/hosts against real hosts: systemd as PID 1, sshd, and the unprivileged `deploy` user going through
 * `sudo -n`. Writes a tend-owned service by hand (render is not involved), then checks that observeHost
 * reports exactly what is there, that probes see it, and that unreachable or impostor hosts come back as
 * unobservable with the right codes.
 */
const SERVICE = 'e2eobs';
const FOREIGN = 'e2eforeign';
/** Crash-loops until its flag file exists, waiting long in `auto-restart` between runs. */
const CRASHING = 'e2ecrash';
const CRASHING_FLAG = `/run/${CRASHING}-ok`;
const PORT = 18081;

const script = (version: string): Buffer =>
  Buffer.from(`#!/bin/sh
mkdir -p /run/${SERVICE}
echo "$GREETING ${version}" > /run/${SERVICE}/index.html
exec /bin/busybox httpd -f -p ${PORT} -h /run/${SERVICE}
`);

const sha = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

const unitFile = Buffer.from(`${OWNERSHIP_MARKER}
# tend-service: ${SERVICE}
[Unit]
Description=tend e2e observe

[Service]
EnvironmentFile=${envFilePath(SERVICE)}
ExecStart=${releaseDir(SERVICE)}/current/server.sh

[Install]
WantedBy=multi-user.target
`);
const envFile = Buffer.from(`${OWNERSHIP_MARKER}\n# tend-service: ${SERVICE}\nGREETING=hello\n`);

function reachable(observed: ObservedHost): Extract<ObservedHost, { reachable: true }> {
  if (!observed.reachable) throw new Error(`${observed.host} unobservable: ${observed.code} ${observed.message}`);
  return observed;
}

async function until<T>(attempt: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  let value = await attempt();
  for (let i = 0; i < 100 && !done(value); i += 1) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    value = await attempt();
  }
  return value;
}

describe('hosts on real systemd hosts', () => {
  let testHosts: TestHost[] = [];
  let pool: SshPool;
  let host: SshHost;

  beforeAll(async () => {
    testHosts = await useHosts(2);
    const first = testHosts[0];
    if (first === undefined) throw new Error('no host');
    host = first;
    pool = new SshPool({ privateKeyPath: first.privateKeyPath });
  });

  afterAll(async () => {
    if (pool === undefined) return;
    await pool
      .run(
        host,
        [
          'sh',
          '-c',
          'systemctl disable --now "$1.service" || true; systemctl stop "$6.service" || true; rm -rf -- "$2" "$3" "$4" "$5" /run/"$1" "$7" "$8"; systemctl daemon-reload',
          'sh',
          SERVICE,
          unitPath(SERVICE),
          envFilePath(SERVICE),
          releaseDir(SERVICE),
          unitPath(FOREIGN),
          CRASHING,
          unitPath(CRASHING),
          CRASHING_FLAG,
        ],
        { sudo: true },
      )
      .catch(() => undefined);
    await pool.close();
  });

  it('observes a host with nothing of the service on it', async () => {
    const observed = reachable(await observeHost(pool, host, [SERVICE]));
    expect(observed.services.has(SERVICE)).toBe(false);
    expect(observed.foreignUnits).toEqual([]);
  });

  it('writes, stages, switches and starts a service as deploy through sudo, and observes exactly that', async () => {
    const v1 = script('v1');
    await writeFileAtomic(pool, host, unitPath(SERVICE), unitFile, 0o644);
    await writeFileAtomic(pool, host, envFilePath(SERVICE), envFile, 0o600, { via: 'sftp' });
    expect(await stageRelease(pool, host, SERVICE, sha(v1), 'server.sh', v1)).toBe('staged');
    await switchRelease(pool, host, SERVICE, sha(v1));
    await pool.run(host, ['systemctl', 'daemon-reload'], { sudo: true });
    await pool.run(host, ['systemctl', 'enable', '--now', `${SERVICE}.service`], { sudo: true });

    const observed = reachable(await until(() => observeHost(pool, host, [SERVICE]), (o) => o.reachable && o.services.get(SERVICE)?.unit.subState === 'running'));
    const service = observed.services.get(SERVICE);
    expect(service?.files).toEqual(
      new Map([
        [unitPath(SERVICE), sha(unitFile)],
        [envFilePath(SERVICE), sha(envFile)],
      ]),
    );
    expect(service?.currentRelease).toBe(sha(v1));
    expect(service?.releases).toEqual([sha(v1)]);
    expect(service?.unit.activeState).toBe('active');
    expect(service?.unit.invocationId).toMatch(/^[0-9a-f]{32}$/);
    expect(service?.unit.mainPid).toBeGreaterThan(0);
    expect(service?.unit.unitFileState).toBe('enabled');
    expect(service?.unit.needDaemonReload).toBe(false);

    const mode = await pool.run(host, ['stat', '-c', '%a %U', envFilePath(SERVICE)], { sudo: true });
    expect(mode.stdout.trim()).toBe('600 root');
  });

  it('sees a new run as a new InvocationID after a restart', async () => {
    const before = reachable(await observeHost(pool, host)).services.get(SERVICE)?.unit.invocationId;
    await pool.run(host, ['systemctl', 'restart', `${SERVICE}.service`], { sudo: true });
    const after = reachable(await observeHost(pool, host)).services.get(SERVICE)?.unit.invocationId;
    expect(after).toMatch(/^[0-9a-f]{32}$/);
    expect(after).not.toBe(before);
  });

  // What the health judgement relies on (src/rollout/health-decision.ts): systemd 252 keeps a crash loop's
  // NRestarts across a restart issued while the unit waits in auto-restart, and resets it on a restart of a
  // running unit. Only the run a restart started, read in the same command, is a safe baseline.
  it('reports the run a restart started, with the crash loop\'s NRestarts kept when it waited in auto-restart', async () => {
    const unit = `${CRASHING}.service`;
    const crashing = `[Service]\nExecStart=/bin/sh -c 'test -e ${CRASHING_FLAG} && exec sleep 600; sleep 0.2; exit 1'\nRestart=on-failure\nRestartSec=3s\n`;
    await writeFileAtomic(pool, host, unitPath(CRASHING), Buffer.from(`${OWNERSHIP_MARKER}\n# tend-service: ${CRASHING}\n[Unit]\nStartLimitIntervalSec=0\n${crashing}`), 0o644);
    await pool.run(host, ['sh', '-c', 'systemctl daemon-reload && systemctl start "$1"', 'sh', unit], { sudo: true });
    const waiting = await until(
      async () => (await showUnits(pool, host, [unit])).get(unit),
      (properties) => properties?.subState === 'auto-restart' && properties.nRestarts >= 1,
    );
    expect(waiting).toMatchObject({ subState: 'auto-restart', nRestarts: expect.any(Number) });
    await pool.run(host, ['touch', CRASHING_FLAG], { sudo: true });

    const started = (await restartUnits(pool, host, [unit])).get(unit);
    expect(started?.invocationId).toMatch(/^[0-9a-f]{32}$/);
    expect(started?.invocationId).not.toBe(waiting?.invocationId);
    expect(started).toMatchObject({ activeState: 'active', subState: 'running', nRestarts: waiting?.nRestarts });

    const restartedWhileRunning = (await restartUnits(pool, host, [unit])).get(unit);
    expect(restartedWhileRunning).toMatchObject({ subState: 'running', nRestarts: 0 });
    expect(restartedWhileRunning?.invocationId).not.toBe(started?.invocationId);
  });

  it('probes the service over http and tcp from tend, and by exec on the host', async () => {
    const url = `http://${host.address}:${PORT}/index.html`;
    const http = await until(() => probeHttp({ url, expectStatus: 200, expectBody: 'hello v1', timeoutMs: 2000 }), (r) => r.ok);
    expect(http).toMatchObject({ ok: true, status: 200 });
    expect(http.bodyExcerpt).toContain('hello v1');
    expect(await probeTcp({ host: host.address, port: PORT, timeoutMs: 2000 })).toMatchObject({ ok: true });
    expect(await probeTcp({ host: host.address, port: PORT + 1, timeoutMs: 2000 })).toMatchObject({ ok: false });
    expect(await probeExec(pool, host, { argv: ['systemctl', 'is-active', `${SERVICE}.service`], timeoutMs: 5000 })).toMatchObject({ ok: true });
    expect(await probeExec(pool, host, { argv: ['systemctl', 'is-active', 'no-such-unit.service'], timeoutMs: 5000 })).toMatchObject({ ok: false });
    const wrongBody = await probeHttp({ url, expectBody: 'goodbye', timeoutMs: 2000 });
    expect(wrongBody.ok).toBe(false);
  });

  it('reads the journal of the unit', async () => {
    const journal = await journalTail(pool, host, `${SERVICE}.service`, 20);
    expect(journal).toMatch(/Start/);
  });

  it('keeps the newest releases and the current one when pruning', async () => {
    const versions = ['v2', 'v3', 'v4'].map(script);
    for (const bytes of versions) await stageRelease(pool, host, SERVICE, sha(bytes), 'server.sh', bytes);
    const removed = await pruneReleases(pool, host, SERVICE, 2);
    const observed = reachable(await observeHost(pool, host)).services.get(SERVICE);
    // current (v1) is always kept, plus the newest other one (v4).
    expect(observed?.currentRelease).toBe(sha(script('v1')));
    expect(new Set(observed?.releases)).toEqual(new Set([sha(script('v1')), sha(script('v4'))]));
    expect(new Set(removed)).toEqual(new Set([sha(script('v2')), sha(script('v3'))]));
  });

  it('reports a same-named unit without the marker as foreign', async () => {
    await writeFileAtomic(pool, host, unitPath(FOREIGN), Buffer.from('[Service]\nExecStart=/bin/true\n'), 0o644);
    const observed = reachable(await observeHost(pool, host, [SERVICE, FOREIGN]));
    expect(observed.foreignUnits).toEqual([unitPath(FOREIGN)]);
    expect(observed.services.has(FOREIGN)).toBe(false);
  });

  it('kills a sudo command on the host when it times out', async () => {
    const pidFile = `/run/${SERVICE}/sleeper.pid`;
    let caught: unknown;
    try {
      await pool.run(host, ['sh', '-c', 'echo $$ > "$1"; exec sleep 300', 'sh', pidFile], { sudo: true, timeoutMs: 1000 });
    } catch (error) {
      caught = error;
    }
    expect((caught as TendError).code).toBe('E_COMMAND_TIMEOUT');
    const pid = (await pool.run(host, ['cat', pidFile], { sudo: true })).stdout.trim();
    const gone = await until(() => pool.run(host, ['test', '-d', `/proc/${pid}`], { okExitCodes: [1] }), (r) => r.code === 1);
    expect(gone.code).toBe(1);
  });

  it('reports a host with a changed key as unobservable with E_HOSTKEY', async () => {
    const target = testHosts[1];
    if (target === undefined) throw new Error('no second host');
    const fault = await changeHostKey(target);
    const fresh = new SshPool({ privateKeyPath: target.privateKeyPath });
    try {
      const observed = await observeHost(fresh, target);
      expect(observed).toMatchObject({ reachable: false, code: 'E_HOSTKEY' });
    } finally {
      await fresh.close();
      await fault.restore();
    }
  });

  it('reports a host whose SSH port rejects connections as unobservable with E_HOST_UNREACHABLE', async () => {
    const target = testHosts[1];
    if (target === undefined) throw new Error('no second host');
    const fault = await blockSshPort(target, 'reject');
    const fresh = new SshPool({ privateKeyPath: target.privateKeyPath, connectTimeoutMs: 5000 });
    try {
      const observed = await observeHost(fresh, target);
      expect(observed).toMatchObject({ reachable: false, code: 'E_HOST_UNREACHABLE' });
    } finally {
      await fresh.close();
      await fault.restore();
    }
  });
});
