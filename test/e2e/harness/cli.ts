import { spawnSync } from 'node:child_process';
import { HarnessError } from './errors.js';
import { hostStatuses, runningHosts, sshArgs, startHosts, stopHosts } from './hosts.js';
import { hostIndex, hostAddress, SSH_PORT, STATE_DIR, KNOWN_HOSTS_PATH, HOSTS_JSON_PATH } from './layout.js';
import { findHarnessLeftovers } from './leftovers.js';
import { prepareMachine } from './prepare-machine.js';
import { assertRoot } from './prerequisites.js';

const USAGE = `usage: npx tsx test/e2e/harness/cli.ts <command>
  up N              start host-1..host-N (reuses running ones, stops extras); builds the image if needed
  down              stop every host and remove all their traces (keeps the cached image and keys)
  status            list hosts with their supervisor pid, SSH state and process count
  ssh HOST [CMD…]   log in to HOST as deploy (strict host-key checking), or run CMD there
  ssh-root HOST [CMD…]  the same as root
  leftovers         list anything of the harness still on this machine (netns, links, mounts, cgroups, processes)`;

const log = (line: string) => process.stderr.write(`harness: ${line}\n`);

async function up(countArg: string | undefined): Promise<void> {
  const n = Number(countArg);
  if (!Number.isInteger(n) || n < 1) throw new HarnessError('E_HARNESS_USAGE', `"up" needs a host count, got "${countArg ?? ''}"`, USAGE);
  await prepareMachine(log);
  const started = performance.now();
  const hosts = await startHosts(n, { log });
  log(`${hosts.length} host(s) up in ${((performance.now() - started) / 1000).toFixed(1)}s`);
  console.log(['NAME', 'ADDRESS', 'PORT', 'USER', 'HOST KEY'].join('\t'));
  for (const host of hosts) console.log([host.name, host.address, host.port, host.user, host.hostKey].join('\t'));
  console.log(`\nclient key ${hosts[0]?.privateKeyPath ?? ''}\nknown_hosts ${KNOWN_HOSTS_PATH}\nhosts.json ${HOSTS_JSON_PATH}`);
}

async function status(): Promise<void> {
  const statuses = await hostStatuses();
  if (statuses.length === 0) console.log(`no hosts (state in ${STATE_DIR})`);
  for (const s of statuses) {
    console.log(`${s.name}\t${s.address}\t${s.supervisorPid === undefined ? 'stopped' : `pid ${s.supervisorPid}`}\tssh ${s.sshAnswers ? 'up' : 'down'}\t${s.processes} processes`);
  }
}

function ssh(user: string, name: string | undefined, command: readonly string[]): number {
  if (name === undefined) throw new HarnessError('E_HARNESS_USAGE', 'ssh needs a host name', USAGE);
  const index = hostIndex(name);
  const interactive = command.length === 0 ? ['-t'] : [];
  const result = spawnSync('ssh', [...interactive, ...sshArgs({ address: hostAddress(index), port: SSH_PORT }, user), ...command], {
    stdio: 'inherit',
  });
  return result.status ?? 1;
}

async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'up':
      assertRoot();
      await up(rest[0]);
      return 0;
    case 'down':
      assertRoot();
      await stopHosts();
      log('all hosts stopped and removed');
      return 0;
    case 'status':
      await status();
      return 0;
    case 'hosts':
      console.log(JSON.stringify(await runningHosts(), null, 2));
      return 0;
    case 'leftovers': {
      const leftovers = await findHarnessLeftovers();
      console.log(JSON.stringify(leftovers, null, 2));
      return Object.values(leftovers).some((found: string[]) => found.length > 0) ? 1 : 0;
    }
    case 'ssh':
      return ssh('deploy', rest[0], rest.slice(1));
    case 'ssh-root':
      return ssh('root', rest[0], rest.slice(1));
    default:
      console.error(USAGE);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
