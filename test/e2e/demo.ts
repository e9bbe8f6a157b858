/**
 * tend's demo: three hosts and a git server with the example deploy repo, tend deploying it to them, up
 * until Ctrl-C. Run as root: `npm run demo` (TEND_HARNESS_KEEP=1 leaves the hosts up afterwards).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GitServer } from './harness/git-server.js';
import { startHosts, stopHosts, type TestHost } from './harness/hosts.js';
import { KNOWN_HOSTS_PATH, keepHostsRequested } from './harness/layout.js';
import { prepareMachine } from './harness/prepare-machine.js';
import { assertRoot } from './harness/prerequisites.js';

const EXAMPLE_REPO = fileURLToPath(new URL('../../deploy-repo-example', import.meta.url));
const TEND_BIN = fileURLToPath(new URL('../../bin/tend.js', import.meta.url));
const PINO_PRETTY_BIN = fileURLToPath(new URL('../../node_modules/pino-pretty/bin.js', import.meta.url));
const HOSTS = 3;

export interface DemoContext {
  readonly hosts: readonly TestHost[];
  readonly gitServer: GitServer;
  /** Clone URL of the deploy repo, without credentials. */
  readonly repoUrl: string;
  readonly gitUser: string;
  readonly gitPassword: string;
}

/** Stops what startTendDaemon started. */
export type StopDaemon = () => Promise<void>;

/**
 * tend's main job against the demo: `tend run` following the git server's deploy repo, as systemd would
 * run it, its JSON log made readable by pino-pretty. Every push to the repo is rolled out to the hosts.
 */
export async function startTendDaemon(context: DemoContext): Promise<StopDaemon | undefined> {
  const stateDir = await mkdtemp(join(tmpdir(), 'tend-demo-state-'));
  const secretsDir = join(stateDir, 'secrets');
  await mkdir(secretsDir, { mode: 0o700 });
  await writeFile(join(secretsDir, 'api_token'), `demo-${randomBytes(6).toString('hex')}\n`, { mode: 0o600 });
  const credentials = join(stateDir, 'git-credentials');
  await writeFile(credentials, `${context.gitUser}:${context.gitPassword}\n`, { mode: 0o600 });
  const webhookSecret = join(stateDir, 'webhook-secret');
  await writeFile(webhookSecret, `${randomBytes(16).toString('hex')}\n`, { mode: 0o600 });
  const args = [
    'run',
    '--repo-url', context.repoUrl,
    '--git-credentials', credentials,
    '--state-dir', stateDir,
    '--ssh-key', context.hosts[0]?.privateKeyPath ?? '',
    '--secrets-dir', secretsDir,
    '--poll-interval', '5s',
    '--listen', '127.0.0.1:9464',
    '--webhook-secret-file', webhookSecret,
  ];
  say(`\n$ tend ${args.join(' ')}\n`);
  const tend = spawn(process.execPath, [TEND_BIN, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const pretty = spawn(process.execPath, [PINO_PRETTY_BIN, '--translateTime', 'SYS:HH:MM:ss', '--ignore', 'pid,hostname,name'], { stdio: ['pipe', 'inherit', 'inherit'] });
  tend.stdout.pipe(pretty.stdin);
  say('tend status:   node bin/tend.js status            (or curl http://127.0.0.1:9464/status)');
  for (const host of context.hosts.slice(0, 2)) say(`api version:   curl http://${host.address}:8080/version    (on ${host.name})`);
  return async () => {
    const exited = new Promise((resolve) => tend.once('close', resolve));
    tend.kill('SIGTERM');
    await exited;
    pretty.stdin.end();
    await rm(stateDir, { recursive: true, force: true });
  };
}

const say = (line = '') => process.stdout.write(`${line}\n`);

async function exampleRepoSource(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const entries = await readdir(EXAMPLE_REPO).catch(() => [] as string[]);
  if (entries.length > 0) return { dir: EXAMPLE_REPO, cleanup: async () => undefined };
  // The example repo is written in parallel with the harness; a stand-in keeps the demo usable meanwhile.
  const dir = await mkdtemp(join(tmpdir(), 'tend-demo-repo-'));
  await writeFile(join(dir, 'README.md'), `Stand-in: ${EXAMPLE_REPO} was missing or empty when the demo started.\n`);
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

async function stopEverything(parts: { stopDaemon?: StopDaemon; gitServer?: GitServer; cleanup?: () => Promise<void> }) {
  const log = (line: string) => process.stderr.write(`harness: ${line}\n`);
  await parts.stopDaemon?.();
  await parts.gitServer?.close();
  await parts.cleanup?.();
  if (keepHostsRequested()) log('TEND_HARNESS_KEEP=1: hosts left running');
  else await stopHosts();
  log('stopped');
}

async function main(): Promise<void> {
  assertRoot();
  const log = (line: string) => process.stderr.write(`harness: ${line}\n`);
  await prepareMachine(log);
  const hosts = await startHosts(HOSTS, { log });

  const gitUser = 'tend';
  const gitPassword = randomBytes(9).toString('base64url');
  const parts: Parameters<typeof stopEverything>[0] = {};
  try {
    const gitServer = await GitServer.start({
      user: gitUser,
      password: gitPassword,
      onRequest: (entry) => log(`git ${entry.method} ${entry.path} -> ${entry.status ?? 'no answer'} (${entry.durationMs} ms)`),
    });
    parts.gitServer = gitServer;
    const source = await exampleRepoSource();
    parts.cleanup = source.cleanup;
    const head = await gitServer.createRepo('deploy', source.dir, { message: 'Import the example deploy repo' });
    const repoUrl = gitServer.repoUrl('deploy');
    const stopDaemon = await startTendDaemon({ hosts, gitServer, repoUrl, gitUser, gitPassword });
    if (stopDaemon !== undefined) parts.stopDaemon = stopDaemon;

    say('\nhosts (ssh as deploy, sudo -n for root; root accepts the same key):');
    for (const host of hosts) say(`  ${host.name}  ${host.address}:${host.port}  ${host.hostKey}`);
    say(`  client key  ${hosts[0]?.privateKeyPath ?? ''}`);
    say(`  known_hosts ${KNOWN_HOSTS_PATH}`);
    say('  shell       npx tsx test/e2e/harness/cli.ts ssh host-1');
    say(`\ndeploy repo (from ${source.dir}, initial commit ${head.slice(0, 12)}):`);
    say(`  clone URL   ${repoUrl}   user ${gitUser}   password ${gitPassword}`);
    say('  make a commit; tend rolls it out within the 5 s poll (a broken version is reverted by a commit of tend\'s):');
    say(`    git clone ${gitServer.repoUrlWithCredentials('deploy')} /tmp/deploy && cd /tmp/deploy`);
    say('    $EDITOR services/api/spec.yml');
    say('    git commit -am "Change api" && git push');

    say('\nup; Ctrl-C stops everything\n');
  } catch (error) {
    await stopEverything(parts);
    throw error;
  }

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: shutting down`);
    stopEverything(parts).then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error instanceof Error ? error.message : error);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
