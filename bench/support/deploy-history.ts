import { runCommand } from '../../test/e2e/harness/run-command.js';
import { seededRandom } from '../../test/unit/rollback/random-history.js';
import { sha256Hex } from './fleet-repo.js';
import { NATIVE_GIT_ENV, nativeGit } from './git-native.js';

/**
 * A deploy repo with a long history, made up deterministically from a seed: `services` spec files
 * (`services/<name>/spec.yml`, about 1 KB each, shaped like deploy-repo-example's) and an `inventory.yml`,
 * changed one commit at a time the way a busy repo is: mostly releases (a new artifact sha256 or package
 * version), then environment and limit changes, now and then a new host. Each commit edits 1–3 files.
 */

export interface DeployCommit {
  readonly message: string;
  /** Path -> full new content. */
  readonly files: Readonly<Record<string, string>>;
}

export interface DeployHistoryOptions {
  readonly services: number;
  /** Commits in all, the first (which adds every file) included. */
  readonly commits: number;
  readonly seed: number;
}

const DOMAINS = [
  'billing', 'checkout', 'search', 'catalog', 'stock', 'orders', 'payments', 'shipping', 'accounts', 'auth',
  'notify', 'reports', 'media', 'pricing', 'reviews', 'ledger', 'fraud', 'support', 'analytics', 'export',
  'import', 'sessions', 'profiles', 'geo', 'audit',
] as const;

/** Role -> the host group it runs on and how it is probed. */
const ROLES = {
  api: { group: 'web', probe: 'http' },
  gateway: { group: 'edge', probe: 'http' },
  admin: { group: 'web', probe: 'http' },
  proxy: { group: 'edge', probe: 'http' },
  webhooks: { group: 'web', probe: 'http' },
  renderer: { group: 'web', probe: 'http' },
  worker: { group: 'batch', probe: 'exec' },
  scheduler: { group: 'batch', probe: 'exec' },
  mailer: { group: 'batch', probe: 'exec' },
  sweeper: { group: 'batch', probe: 'exec' },
  backfill: { group: 'batch', probe: 'exec' },
  indexer: { group: 'data', probe: 'tcp' },
  cache: { group: 'data', probe: 'tcp' },
  sync: { group: 'data', probe: 'tcp' },
  ingest: { group: 'data', probe: 'tcp' },
  stream: { group: 'data', probe: 'tcp' },
  exporter: { group: 'data', probe: 'tcp' },
  poller: { group: 'batch', probe: 'exec' },
  relay: { group: 'edge', probe: 'tcp' },
  cron: { group: 'batch', probe: 'exec' },
} as const;

type Role = keyof typeof ROLES;

const GROUPS = ['web', 'edge', 'batch', 'data'] as const;
const FIRST_HOSTS_PER_GROUP = 8;
const LOG_LEVELS = ['info', 'debug', 'warn', 'info'] as const;
const FEATURES = ['fast-path', 'new-cache', 'strict-tls', 'async-writes', 'retry-v2', 'compact-json'] as const;
const MEMORY = ['128M', '256M', '512M', '1G', '2G'] as const;
const AUTHORS = ['Ada Author', 'Brook Ops', 'Cy Release', 'Dee Oncall', 'Eli Platform', 'Fay Infra'] as const;
const FIRST_COMMIT_TIME = 1_700_000_000;

interface ServiceState {
  readonly name: string;
  readonly domain: string;
  readonly role: Role;
  readonly index: number;
  /** Artifact services pin a sha256; the others run an OS package at a version. */
  readonly packaged: boolean;
  version: [number, number, number];
  logLevel: string;
  features: string[];
  maxConnections: number;
  memory: string;
}

interface HostState {
  readonly name: string;
  readonly group: string;
  readonly address: string;
}


/** The repo's current content and the sequence of changes to it; `nextCommit` and `release` advance it. */
export class DeployRepoModel {
  private readonly random: () => number;
  private readonly services: ServiceState[] = [];
  private readonly hosts: HostState[] = [];

  constructor(options: { services: number; seed: number }) {
    this.random = seededRandom(options.seed);
    const roles = Object.keys(ROLES) as Role[];
    for (let index = 0; index < options.services; index += 1) {
      const domain = DOMAINS[index % DOMAINS.length]!;
      const role = roles[Math.floor(index / DOMAINS.length) % roles.length]!;
      const round = Math.floor(index / (DOMAINS.length * roles.length));
      this.services.push({
        name: round === 0 ? `${domain}-${role}` : `${domain}-${role}-${round + 1}`,
        domain,
        role,
        index,
        packaged: this.random() < 0.2,
        version: [1 + this.pick([0, 0, 1, 2]), this.integer(20), this.integer(10)],
        logLevel: 'info',
        features: FEATURES.filter(() => this.random() < 0.3),
        maxConnections: 100 * (1 + this.integer(10)),
        memory: this.pick(MEMORY),
      });
    }
    for (const [groupIndex, group] of GROUPS.entries()) {
      for (let n = 1; n <= FIRST_HOSTS_PER_GROUP; n += 1) this.addHost(group, groupIndex);
    }
  }

  /** The first commit: every file. */
  initialCommit(): DeployCommit {
    const files: Record<string, string> = { 'inventory.yml': this.inventory() };
    for (const service of this.services) files[specPath(service)] = this.spec(service);
    return { message: `Deploy repo: ${this.services.length} services on ${this.hosts.length} hosts`, files };
  }

  /** A typical later commit: 1–3 files, mostly releases. */
  nextCommit(): DeployCommit {
    const count = this.pick([1, 1, 1, 1, 1, 1, 2, 2, 2, 3]);
    const subjects: string[] = [];
    const files: Record<string, string> = {};
    if (this.random() < 0.02) {
      subjects.push(this.growFleet());
      files['inventory.yml'] = this.inventory();
    }
    while (Object.keys(files).length < count) {
      const service = this.pick(this.services);
      if (files[specPath(service)] !== undefined) continue;
      subjects.push(this.changeService(service));
      files[specPath(service)] = this.spec(service);
    }
    return { message: commitMessage(subjects), files };
  }

  /** A release of one service: what lands on the repo between two polls of a busy day. */
  release(): DeployCommit {
    const service = this.pick(this.services);
    return { message: commitMessage([this.bumpVersion(service)]), files: { [specPath(service)]: this.spec(service) } };
  }

  /** A deterministic author, so the history is the same on every machine. */
  author(): string {
    return this.pick(AUTHORS);
  }

  private changeService(service: ServiceState): string {
    const roll = this.random();
    if (roll < 0.6) return this.bumpVersion(service);
    if (roll < 0.75) {
      service.logLevel = this.pick(LOG_LEVELS.filter((level) => level !== service.logLevel));
      return `${service.name}: LOG_LEVEL=${service.logLevel}`;
    }
    if (roll < 0.9) {
      const feature = this.pick(FEATURES);
      const on = !service.features.includes(feature);
      service.features = on ? [...service.features, feature].sort() : service.features.filter((f) => f !== feature);
      return `${service.name}: ${on ? 'enable' : 'disable'} ${feature}`;
    }
    if (roll < 0.95) {
      service.maxConnections = 100 * (1 + this.integer(10));
      return `${service.name}: MAX_CONNECTIONS=${service.maxConnections}`;
    }
    service.memory = this.pick(MEMORY.filter((size) => size !== service.memory));
    return `${service.name}: memory limit ${service.memory}`;
  }

  private bumpVersion(service: ServiceState): string {
    const [major, minor, patch] = service.version;
    service.version = this.random() < 0.15 ? [major, minor + 1, 0] : [major, minor, patch + 1];
    return `${service.name}: release ${service.version.join('.')}`;
  }

  private growFleet(): string {
    const groupIndex = this.integer(GROUPS.length);
    return `inventory: add ${this.addHost(GROUPS[groupIndex]!, groupIndex).name}`;
  }

  private addHost(group: string, groupIndex: number): HostState {
    const n = this.hosts.filter((host) => host.group === group).length + 1;
    const host = { name: `${group}-${n}`, group, address: `10.${20 + groupIndex}.${Math.floor(n / 250)}.${(n % 250) + 2}` };
    this.hosts.push(host);
    return host;
  }

  private inventory(): string {
    const lines = ['# Every host tend deploys to. Host keys are pinned: tend refuses a host whose key differs.', 'hosts:'];
    for (const host of this.hosts) {
      const key = Buffer.from(sha256Hex(`host-key ${host.name}`), 'hex').toString('base64').slice(0, 43);
      lines.push(`  ${host.name}:`, `    address: ${host.address}`, '    port: 22', '    user: deploy', `    host_key: ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI${key}`);
    }
    lines.push('', 'groups:');
    for (const group of GROUPS) {
      lines.push(`  ${group}: [${this.hosts.filter((host) => host.group === group).map((host) => host.name).join(', ')}]`);
    }
    return `${lines.join('\n')}\n`;
  }

  private spec(service: ServiceState): string {
    const { name, domain, role, index } = service;
    const { group, probe } = ROLES[role];
    const version = service.version.join('.');
    const port = 8000 + index;
    const run = service.packaged
      ? [`    package: ${domain}-${role}`, `    version: "${version}-1"`, `    command: [/usr/bin/${domain}-${role}, --port, "${port}"]`]
      : [`    artifact: bin/${name}`, `    sha256: ${sha256Hex(`${name}@${version}`)}`, `    command: [--port, "${port}"]`];
    const probeLines = {
      http: ['      type: http', `      port: ${port}`, '      path: /health', '      expect_status: 200'],
      tcp: ['      type: tcp', `      port: ${port}`],
      exec: ['      type: exec', `      command: [/usr/local/bin/${name}-check, --quiet]`],
    }[probe];
    return [
      `# ${role} of the ${domain} domain, owned by team-${domain}. A release changes ${service.packaged ? 'run.version' : 'run.sha256'}`,
      '# and APP_VERSION together; the rollout goes host by host and stops at the first failed probe.',
      'service:',
      `  name: ${name}`,
      `  group: ${group}`,
      `  description: "${capitalise(domain)} ${role}: the ${role} of the ${domain} domain"`,
      ...(role === 'api' ? [] : [`  after: [${domain}-api]`]),
      '  run:',
      ...run,
      `    ports: [${20_000 + index}]`,
      '  deploy:',
      `    serial: ${group === 'batch' ? '50%' : '1'}`,
      `    canary: ${group === 'web' ? 1 : 0}`,
      '    probe:',
      ...probeLines,
      '      interval: 500ms',
      '      timeout: 2s',
      '    min_healthy_time: 5s',
      '    healthy_deadline: 60s',
      '    progress_deadline: 5m',
      '    auto_rollback: true',
      '  limits:',
      `    mem: ${service.memory}`,
      '    no_file: 8192',
      '  environments: |',
      `    APP_VERSION=${version}`,
      `    LOG_LEVEL=${service.logLevel}`,
      `    PORT=${port}`,
      `    DATABASE_URL=postgres://${domain}@db-${domain}.internal:5432/${domain}`,
      `    FEATURES=${service.features.join(',')}`,
      `    MAX_CONNECTIONS=${service.maxConnections}`,
      '',
    ].join('\n');
  }

  private integer(below: number): number {
    return Math.floor(this.random() * below);
  }

  private pick<T>(items: readonly T[]): T {
    return items[this.integer(items.length)]!;
  }
}

function specPath(service: ServiceState): string {
  return `services/${service.name}/spec.yml`;
}

function capitalise(word: string): string {
  return `${word[0]!.toUpperCase()}${word.slice(1)}`;
}

function commitMessage(subjects: readonly string[]): string {
  if (subjects.length === 1) return `${subjects[0]}\n`;
  return `${subjects.length} changes: ${subjects.map((subject) => subject.split(':')[0]).join(', ')}\n\n${subjects.map((s) => `- ${s}`).join('\n')}\n`;
}

/** `data` of fast-import: a byte count, then the bytes. */
function data(text: string): string {
  return `data ${Buffer.byteLength(text)}\n${text}\n`;
}

/** The fast-import stream of the whole history on `refs/heads/<branch>`, one commit at a time. */
function* fastImportStream(model: DeployRepoModel, commits: number, branch: string): Generator<string> {
  for (let n = 0; n < commits; n += 1) {
    const commit = n === 0 ? model.initialCommit() : model.nextCommit();
    const author = model.author();
    // About an hour apart, so the history spans months like a real one.
    const signature = `${author} <${author.split(' ')[0]!.toLowerCase()}@tend.invalid> ${FIRST_COMMIT_TIME + n * 3600} +0000`;
    const changes = Object.entries(commit.files).map(([path, content]) => `M 100644 inline ${path}\n${data(content)}`);
    yield `commit refs/heads/${branch}\nauthor ${signature}\ncommitter ${signature}\n${data(commit.message)}${changes.join('')}\n`;
  }
  yield 'done\n';
}

/**
 * Writes the history into the existing bare repository `gitDir` with `git fast-import` (seconds for
 * thousands of commits, where a process per commit would take minutes), then repacks it as a server's
 * gc would, so clones are served from a delta-compressed pack. Returns the model, ready for more commits.
 */
export async function importDeployHistory(gitDir: string, options: DeployHistoryOptions, branch = 'main'): Promise<DeployRepoModel> {
  const model = new DeployRepoModel(options);
  // A few MB of commands for 2,000 commits: handed over whole, as fast-import's stdin.
  const input = [...fastImportStream(model, options.commits, branch)].join('');
  await runCommand('git', ['--git-dir', gitDir, 'fast-import', '--quiet', '--done'], { input, env: NATIVE_GIT_ENV });
  await nativeGit(['--git-dir', gitDir, 'repack', '-a', '-d', '-f', '--quiet']);
  return model;
}
