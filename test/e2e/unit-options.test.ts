import { mkdir, rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execInHost, type TestHost } from './harness/hosts.js';
import { useHosts } from './harness/use-hosts.js';
import { unitProperty, wipeTendState } from './daemon-support.js';
import { buildTend, runTend, ScratchRepo } from '../support/tend-cli.js';

/**
 * Issue 16 item 1 end to end: a service that runs as a fixed account (www-data, which every Debian host
 * has), writes its own /var/lib directory and binds port 80 with CAP_NET_BIND_SERVICE deploys with the
 * real binary and passes its HTTP probe on web-1 and web-2; each host's env file carries that host's
 * `{{ host.vars.zone }}` from deploy-repo-example's inventory (web-1 eu-1, web-2 eu-2).
 */

const EDGE_SPEC = `service:
  name: edge
  group: web
  description: "HTTP on port 80 as www-data, keeping its pages in /var/lib/edge"
  run:
    artifact: edge
  deploy:
    probe:
      type: http
      port: 80
      path: /health
      expect_body: ok
      interval: 300ms
      timeout: 2s
    min_healthy_time: 1s
    healthy_deadline: 15s
    progress_deadline: 30s
  unit:
    user: www-data
    group: www-data
    capabilities: [CAP_NET_BIND_SERVICE]
    directories:
      state: [edge]
    timeout_stop: 5s
  environments: |
    ZONE={{ host.vars.zone }}
    NODE={{ host.name }}
`;

/** Writes its pages into $STATE_DIRECTORY (as whoever it runs as), then serves them on port 80. */
const EDGE_SCRIPT = `#!/bin/sh
set -eu
www="$STATE_DIRECTORY/www"
mkdir -p "$www"
printf 'ok\\n' >"$www/health"
printf '%s\\n' "$ZONE" >"$www/zone"
printf '%s\\n' "$NODE" >"$www/node"
id -un >"$www/user"
exec busybox httpd -f -p 80 -h "$www"
`;

let hosts: TestHost[];
let repo: ScratchRepo;

function web(index: 0 | 1): TestHost {
  const found = hosts[index];
  if (found === undefined) throw new Error(`no test host ${index + 1}`);
  return found;
}

async function onHost(target: TestHost, script: string): Promise<string> {
  return (await execInHost(target, ['sh', '-c', script])).stdout.trim();
}

/** The service's state survives wipeTendState (as it should on a real host); a test run starts without it. */
async function removeEdge(target: TestHost): Promise<void> {
  await wipeTendState(target);
  await execInHost(target, ['rm', '-rf', '/var/lib/edge', '/var/lib/private/edge']);
}

beforeAll(async () => {
  [hosts] = await Promise.all([useHosts(3), buildTend()]);
  repo = await ScratchRepo.copyOf('deploy-repo-example');
  for (const service of ['api', 'gateway', 'queue', 'reports']) await rm(`${repo.dir}/services/${service}`, { recursive: true });
  await mkdir(`${repo.dir}/services/edge`);
  await repo.write('services/edge/spec.yml', EDGE_SPEC);
  await repo.write('services/edge/edge', EDGE_SCRIPT);
  await Promise.all([removeEdge(web(0)), removeEdge(web(1))]);
}, 600_000);

afterAll(async () => {
  await Promise.all((hosts ?? []).slice(0, 2).map((target) => removeEdge(target)));
  if (repo !== undefined) await rm(repo.dir, { recursive: true, force: true });
});

describe('a service with a fixed user, its own state directory, port 80 and per-host values', () => {
  it("tend render --host shows that host's zone in the env file", async () => {
    const run = await runTend(['render', 'edge', '--host', 'web-2', repo.dir]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('ZONE="eu-2"\n');
    expect(run.stdout).toContain('User=www-data\n');
    expect(run.stdout).not.toContain('DynamicUser=');
  });

  it('deploys on both web hosts and passes its probe on port 80', async () => {
    const run = await runTend(['apply', '--yes', '--repo', repo.dir, '--ssh-key', web(0).privateKeyPath]);
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
    for (const target of [web(0), web(1)]) {
      expect(await unitProperty(target, 'edge.service', 'ActiveState'), target.name).toBe('active');
      expect(await onHost(target, 'busybox wget -qO- http://127.0.0.1:80/health'), target.name).toBe('ok');
    }
  }, 120_000);

  it('runs as www-data, not a dynamic user, with only CAP_NET_BIND_SERVICE', async () => {
    for (const target of [web(0), web(1)]) {
      const pid = await unitProperty(target, 'edge.service', 'MainPID');
      expect(await onHost(target, `stat -c %U:%G /proc/${pid}`), target.name).toBe('www-data:www-data');
      expect(await onHost(target, 'busybox wget -qO- http://127.0.0.1:80/user'), target.name).toBe('www-data');
      // CapEff of the running server: bit 10 is CAP_NET_BIND_SERVICE, and nothing else is set.
      expect(await onHost(target, `grep '^CapEff:' /proc/${pid}/status | tr -d '\\t' | cut -d: -f2`), target.name).toBe('0000000000000400');
    }
  });

  it('wrote its pages to its own /var/lib/edge, owned by www-data (no /var/lib/private)', async () => {
    for (const target of [web(0), web(1)]) {
      expect(await onHost(target, 'stat -c %U /var/lib/edge /var/lib/edge/www/health | sort -u'), target.name).toBe('www-data');
      expect(await onHost(target, 'test -L /var/lib/edge && echo symlink || echo directory'), target.name).toBe('directory');
    }
  });

  it("gives each host its own zone and name, in the env file and in the running process's environment", async () => {
    const expected = [
      [web(0), 'eu-1', 'web-1'],
      [web(1), 'eu-2', 'web-2'],
    ] as const;
    for (const [target, zone, node] of expected) {
      const envFile = await onHost(target, 'cat /etc/tend/env/edge.env');
      expect(envFile, target.name).toContain(`ZONE="${zone}"`);
      expect(envFile, target.name).toContain(`NODE="${node}"`);
      expect(await onHost(target, 'busybox wget -qO- http://127.0.0.1:80/zone'), target.name).toBe(zone);
    }
  });
});
