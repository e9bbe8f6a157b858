import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensurePackages } from './debian-packages.js';
import { freePort } from './free-port.js';

/**
 * A real etcd cluster (Debian's etcd-server, installed here when missing) of `size` members on loopback,
 * each on free ports with its data in a temp directory. Members can be stopped (SIGKILL, as a crash or a
 * partition from this machine looks to a client) and started again on the same ports and data.
 */
export interface EtcdCluster {
  readonly endpoints: readonly string[];
  stopMembers(...indices: number[]): Promise<void>;
  /** Starts the members together (one alone has no quorum) and waits until each reports healthy. */
  startMembers(...indices: number[]): Promise<void>;
  /** Stops every member and removes the data. */
  stop(): Promise<void>;
}

interface Member {
  readonly name: string;
  readonly clientUrl: string;
  readonly peerUrl: string;
  readonly dataDir: string;
  process: ChildProcess | undefined;
  output: string;
}

export async function startEtcdCluster(size = 3): Promise<EtcdCluster> {
  await ensurePackages([['/usr/bin/etcd', 'etcd-server']]);
  const scratch = await mkdtemp(join(tmpdir(), 'tend-etcd-'));
  const token = `tend-test-${process.pid}-${Date.now()}`;
  const members: Member[] = [];
  for (let index = 0; index < size; index += 1) {
    members.push({ name: `m${index}`, clientUrl: `http://127.0.0.1:${await freePort()}`, peerUrl: `http://127.0.0.1:${await freePort()}`, dataDir: join(scratch, `m${index}`), process: undefined, output: '' });
  }
  const initialCluster = members.map((member) => `${member.name}=${member.peerUrl}`).join(',');

  const start = (member: Member): void => {
    const child = spawn(
      '/usr/bin/etcd',
      [
        `--name=${member.name}`,
        `--data-dir=${member.dataDir}`,
        `--listen-client-urls=${member.clientUrl}`,
        `--advertise-client-urls=${member.clientUrl}`,
        `--listen-peer-urls=${member.peerUrl}`,
        `--initial-advertise-peer-urls=${member.peerUrl}`,
        `--initial-cluster=${initialCluster}`,
        '--initial-cluster-state=new',
        `--initial-cluster-token=${token}`,
        // Fast elections among the members: the tests time out on minutes, not on etcd's defaults.
        '--heartbeat-interval=50',
        '--election-timeout=500',
        '--log-level=warn',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ETCD_UNSUPPORTED_ARCH: process.arch === 'x64' ? '' : process.arch } },
    );
    const keep = (chunk: Buffer): void => {
      member.output = (member.output + chunk.toString('utf8')).slice(-4_000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    member.process = child;
  };

  const waitHealthy = async (member: Member): Promise<void> => {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const healthy = await fetch(`${member.clientUrl}/health`, { signal: AbortSignal.timeout(2_000) })
        .then(async (response) => ((await response.json()) as { health?: string }).health === 'true')
        .catch(() => false);
      if (healthy) return;
      if (member.process?.exitCode !== null && member.process?.exitCode !== undefined) throw new Error(`etcd ${member.name} exited:\n${member.output}`);
      if (Date.now() > deadline) throw new Error(`etcd ${member.name} not healthy after 60s:\n${member.output}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };

  const stopMember = async (member: Member): Promise<void> => {
    const child = member.process;
    member.process = undefined;
    if (child === undefined || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  };

  for (const member of members) start(member);
  try {
    await Promise.all(members.map(waitHealthy));
  } catch (error) {
    await Promise.all(members.map(stopMember));
    await rm(scratch, { recursive: true, force: true });
    throw error;
  }
  const memberAt = (index: number): Member => {
    const member = members[index];
    if (member === undefined) throw new Error(`no etcd member ${index}`);
    return member;
  };
  return {
    endpoints: members.map((member) => member.clientUrl),
    async stopMembers(...indices) {
      await Promise.all(indices.map((index) => stopMember(memberAt(index))));
    },
    async startMembers(...indices) {
      for (const index of indices) start(memberAt(index));
      await Promise.all(indices.map((index) => waitHealthy(memberAt(index))));
    },
    async stop() {
      await Promise.all(members.map(stopMember));
      await rm(scratch, { recursive: true, force: true });
    },
  };
}
