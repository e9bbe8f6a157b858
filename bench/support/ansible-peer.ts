import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { TestHost } from '../../test/e2e/harness/hosts.js';
import { CLIENT_KEY_PATH, KNOWN_HOSTS_PATH } from '../../test/e2e/harness/layout.js';
import { FLEET_GROUP, serviceName, servicePort, sha256Hex } from './fleet-repo.js';
import { timedRun, type TimedRun } from './timed-process.js';

/**
 * Ansible, the tool a bare-metal team uses today, doing tend's job on the same hosts: bench/ansible's
 * playbook writes the very files tend renders for the fleet repo, so after either tool the hosts are in the
 * same state (the benchmarks check that `tend plan` finds nothing to do after an Ansible run).
 */

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const PLAYBOOK_DIR = join(ROOT, 'bench', 'ansible');
const TEND_BIN = join(ROOT, 'bin', 'tend.js');
const exec = promisify(execFile);

export interface PeerProbe {
  /** `delay` of the `until` loop; Ansible takes whole seconds. */
  readonly delaySeconds: number;
  readonly retries: number;
  /** Seconds the service must stay healthy before the next batch (tend's min_healthy_time). */
  readonly dwellSeconds: number;
}

export interface PeerRun extends TimedRun {
  /** PLAY RECAP totals over every host. */
  readonly changed: number;
  readonly failed: number;
  readonly unreachable: number;
}

/** Installs Debian's ansible when `ansible-playbook` is missing, as the harness installs what it needs. */
export async function ensureAnsible(log: (line: string) => void): Promise<void> {
  try {
    await exec('ansible-playbook', ['--version']);
  } catch {
    log('installing Debian\'s ansible (once per machine)');
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    await exec('apt-get', ['update', '-q'], { env, maxBuffer: 64 * 1024 * 1024 });
    await exec('apt-get', ['install', '-y', '-q', '--no-install-recommends', 'ansible'], { env, maxBuffer: 64 * 1024 * 1024 });
  }
}

export function parseRecap(output: string): { changed: number; failed: number; unreachable: number; hosts: number } {
  const totals = { changed: 0, failed: 0, unreachable: 0, hosts: 0 };
  for (const match of output.matchAll(/^\S+\s+: ok=\d+\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)/gm)) {
    totals.hosts += 1;
    totals.changed += Number(match[1]);
    totals.unreachable += Number(match[2]);
    totals.failed += Number(match[3]);
  }
  return totals;
}

function inventoryIni(hosts: readonly TestHost[]): string {
  return [
    `[${FLEET_GROUP}]`,
    ...hosts.map((host) => `${host.name} ansible_host=${host.address} ansible_port=${host.port}`),
    '',
    `[${FLEET_GROUP}:vars]`,
    'ansible_user=deploy',
    `ansible_ssh_private_key_file=${CLIENT_KEY_PATH}`,
    `ansible_ssh_common_args='-o UserKnownHostsFile=${KNOWN_HOSTS_PATH} -o StrictHostKeyChecking=yes'`,
    '',
  ].join('\n');
}

interface RenderedFile {
  readonly path: string;
  readonly content: string;
}

export class AnsiblePeer {
  private constructor(
    private readonly workDir: string,
    private readonly repoDir: string,
    private readonly firstHost: string,
  ) {}

  static async create(repoDir: string, hosts: readonly TestHost[]): Promise<AnsiblePeer> {
    const workDir = await mkdtemp(join(tmpdir(), 'tend-bench-ansible-'));
    await writeFile(join(workDir, 'inventory.ini'), inventoryIni(hosts));
    return new AnsiblePeer(workDir, repoDir, hosts[0]!.name);
  }

  /**
   * Runs the playbook for the services at `indexes` as the fleet repo now has them; only this run is timed,
   * not the rendering of its inputs.
   */
  async run(indexes: readonly number[], serial: number, probe: PeerProbe): Promise<PeerRun> {
    const runDir = await mkdtemp(join(this.workDir, 'run-'));
    const services = [];
    for (const index of indexes) services.push(await this.serviceVars(index, runDir));
    const vars = {
      services,
      rolling_serial: serial,
      probe_delay_seconds: probe.delaySeconds,
      probe_retries: probe.retries,
      dwell_seconds: probe.dwellSeconds,
    };
    await writeFile(join(runDir, 'vars.json'), JSON.stringify(vars));
    const controlDir = join(runDir, 'cp');
    await mkdir(controlDir);
    try {
      const run = await timedRun('ansible-playbook', ['-i', join(this.workDir, 'inventory.ini'), join(PLAYBOOK_DIR, 'deploy.yml'), '-e', `@${join(runDir, 'vars.json')}`], {
        env: {
          ANSIBLE_CONFIG: join(PLAYBOOK_DIR, 'ansible.cfg'),
          ANSIBLE_SSH_CONTROL_PATH_DIR: controlDir,
          ANSIBLE_LOCAL_TEMP: join(runDir, 'tmp'),
          ANSIBLE_HOME: join(this.workDir, 'home'),
        },
      });
      const recap = parseRecap(run.stdout);
      if (recap.hosts === 0) throw new Error(`ansible-playbook printed no recap (exit ${run.code}):\n${run.stderr.slice(-3000)}\n${run.stdout.slice(-3000)}`);
      return { ...run, ...recap };
    } finally {
      // Ends the multiplexed SSH masters of this run, so the next one starts cold too.
      await exec('pkill', ['-f', controlDir]).catch(() => undefined);
      await rm(runDir, { recursive: true, force: true });
    }
  }

  /** The unit and env file exactly as tend renders them, and the artifact's bytes and sha256. */
  private async serviceVars(index: number, runDir: string): Promise<Record<string, unknown>> {
    const name = serviceName(index);
    const { stdout } = await exec(process.execPath, [TEND_BIN, 'render', name, '--host', this.firstHost, '--json', this.repoDir], { maxBuffer: 16 * 1024 * 1024 });
    const files = (JSON.parse(stdout) as { files: RenderedFile[] }[])[0]!.files;
    const dir = join(runDir, name);
    await mkdir(dir);
    const fileOf = async (suffix: string): Promise<string> => {
      const file = files.find((candidate) => candidate.path.endsWith(suffix));
      if (file === undefined) throw new Error(`tend render ${name} wrote no *${suffix}`);
      const path = join(dir, suffix.slice(1));
      await writeFile(path, file.content);
      return path;
    };
    const artifactSource = join(this.repoDir, 'services', name, name);
    const artifact = join(dir, name);
    await copyFile(artifactSource, artifact);
    return {
      name,
      file: name,
      port: servicePort(index),
      sha256: sha256Hex(await readFile(artifact, 'utf8')),
      artifact,
      unit: await fileOf('.service'),
      env: await fileOf('.env'),
    };
  }

  async dispose(): Promise<void> {
    await rm(this.workDir, { recursive: true, force: true });
  }
}
