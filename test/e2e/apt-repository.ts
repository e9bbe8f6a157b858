import { createReadStream } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, normalize } from 'node:path';
import { ensurePackages, pathWithSbin } from '../support/debian-packages.js';
import { runCommand } from './harness/run-command.js';

/**
 * A real signed apt repository for the e2e hosts: .debs built with dpkg-deb, published with reprepro,
 * signed by a throw-away gpg key made for the run, and served over HTTP on the harness bridge. Everything
 * it runs is installed by the suite itself.
 */

const REQUIRED = [
  ['reprepro', 'reprepro'],
  ['gpg', 'gnupg'],
  ['dpkg-deb', 'dpkg'],
] as const;

function withGnupg(home: string): NodeJS.ProcessEnv {
  return { ...process.env, PATH: pathWithSbin(), GNUPGHOME: home };
}

export interface DebPackage {
  readonly name: string;
  readonly version: string;
  /** Path inside the package -> content; executables under usr/bin get mode 0755. */
  readonly files: Readonly<Record<string, string>>;
  /** A postinst maintainer script, if any. */
  readonly postinst?: string;
}

export class AptRepository {
  private server: Server | undefined;

  private constructor(
    readonly dir: string,
    private readonly gnupgHome: string,
    /** The repository's public key, binary (`gpg --export`): what a deploy repo commits. */
    readonly publicKey: Buffer,
    private readonly bindAddress: string,
    private port: number,
  ) {}

  static async create(bindAddress: string): Promise<AptRepository> {
    await ensurePackages(REQUIRED);
    const root = await mkdtemp(join(tmpdir(), 'tend-e2e-apt-'));
    const gnupgHome = join(root, 'gnupg');
    const dir = join(root, 'repo');
    await mkdir(gnupgHome, { mode: 0o700 });
    await mkdir(join(dir, 'conf'), { recursive: true });
    const env = withGnupg(gnupgHome);
    await runCommand('gpg', ['--batch', '--passphrase', '', '--quick-gen-key', 'tend e2e apt <e2e@tend.invalid>', 'ed25519', 'sign', 'never'], { env });
    const listed = await runCommand('gpg', ['--batch', '--with-colons', '--list-secret-keys'], { env });
    const fingerprint = /^fpr:+([0-9A-F]{40}):/m.exec(listed.stdout)?.[1];
    if (fingerprint === undefined) throw new Error(`gpg made no key: ${listed.stdout}`);
    await writeFile(
      join(dir, 'conf', 'distributions'),
      `Codename: stable\nSuite: stable\nComponents: main\nArchitectures: amd64\nSignWith: ${fingerprint}\n`,
    );
    const keyFile = join(root, 'public.gpg');
    await runCommand('gpg', ['--batch', '--output', keyFile, '--export', fingerprint], { env });
    const publicKey = await readFile(keyFile);
    return new AptRepository(dir, gnupgHome, publicKey, bindAddress, 0);
  }

  /** Builds the .deb and publishes it; reprepro keeps one version per package, so it replaces the last. */
  async publish(deb: DebPackage): Promise<void> {
    const built = await this.build(deb);
    await runCommand('reprepro', ['-b', this.dir, 'includedeb', 'stable', built], { env: withGnupg(this.gnupgHome) });
  }

  async build(deb: DebPackage): Promise<string> {
    const tree = await mkdtemp(join(tmpdir(), `tend-e2e-deb-${deb.name}-`));
    await mkdir(join(tree, 'DEBIAN'));
    await writeFile(
      join(tree, 'DEBIAN', 'control'),
      `Package: ${deb.name}\nVersion: ${deb.version}\nArchitecture: all\nSection: misc\nPriority: optional\nMaintainer: tend e2e <e2e@tend.invalid>\nDescription: a service for tend's e2e tests\n`,
    );
    if (deb.postinst !== undefined) {
      await writeFile(join(tree, 'DEBIAN', 'postinst'), deb.postinst);
      await chmod(join(tree, 'DEBIAN', 'postinst'), 0o755);
    }
    for (const [path, content] of Object.entries(deb.files)) {
      const target = join(tree, path);
      await mkdir(join(target, '..'), { recursive: true });
      await writeFile(target, content);
      await chmod(target, path.startsWith('usr/bin/') ? 0o755 : 0o644);
    }
    const out = `${tree}.deb`;
    await runCommand('dpkg-deb', ['--root-owner-group', '--build', tree, out]);
    return out;
  }

  /** Serves the repository on the bridge (the same port across restarts); returns its URI. */
  async start(): Promise<string> {
    const server = createServer((request, response) => {
      const path = normalize(decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname));
      const file = join(this.dir, path);
      if (!file.startsWith(`${this.dir}/`) || path.split('/').includes('conf') || path.split('/').includes('db')) {
        response.writeHead(404).end();
        return;
      }
      stat(file).then(
        (info) => {
          if (!info.isFile()) return void response.writeHead(404).end();
          response.writeHead(200, { 'content-length': info.size });
          createReadStream(file).pipe(response);
        },
        () => void response.writeHead(404).end(),
      );
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, this.bindAddress, () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
    return this.uri();
  }

  uri(): string {
    return `http://${this.bindAddress}:${this.port}`;
  }

  /** Stops serving: the hosts get "connection refused", as from a repository that is down. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server === undefined) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  async readFile(path: string): Promise<Buffer> {
    return readFile(join(this.dir, path));
  }
}
