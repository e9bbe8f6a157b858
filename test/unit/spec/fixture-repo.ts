import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/**
 * Small deploy repos as data: path (relative to the repo root) -> file content, raw bytes, or a symlink.
 * The hostile corpus and the loader tests build every case from `baseRepo()`, so each case differs from a
 * valid repo by exactly the change it is about.
 */
export type RepoFile = string | Uint8Array | { readonly symlink: string };
export type RepoFiles = Readonly<Record<string, RepoFile>>;

export const HOST_KEYS = {
  web1: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILxCCF+oNWvrnWIOKRlEbeiGWeIBTLF93v/KkpyT2coF root@web-1',
  web2: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG0iV67QcqR0ahp+L8ZG4PtHVhbPFBnGHlQ5pxepSHXN',
  db1: 'ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBJ/qHiL/lPSDvaraEixE4Rxkw8db+WeupBXsYcjyQjLIpxIfOjl1tCI7Nqxe7k5bCoxPsDzFsBf3tnDW32pu5mo= root@db-1',
  rsa: 'ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQDYSkLFMsWDNGrYiRKL3WAetLeDE4HEcPuvlxE18X51CV2RzCRbcyqwWX8VQamMC5QCWVWfUF8WP0h47X9EGFZMCQK/kXEvDgLzsmWdaLLxjXTLUdQl4ZPM3kd8AqmlFK22gqapvhNnNWJ/D65OrI7DH/sgfT922hnO/RcuOjH+3ZNDKyEr1vvcF2D/MDEfUyDBXnWMBKmU6UroCcVv7VYakH4bxhrdG97EnRVFJR1ucg98H8Rdw2gFLuiP361HvFxDGaLjx8hB5ISQh5xkZD4YV9XVNmj8LULO/chjktARb4PG92ZsLTOn9AefRCApDf8sXN52ObeTKpwIC/7lfuLR rsa',
} as const;

/** Line numbers below are relied upon by the position assertions of the corpus. */
export const BASE_INVENTORY = `hosts:
  web-1: { address: 10.78.0.11, port: 22, user: deploy, host_key: "${HOST_KEYS.web1}" }
  web-2: { address: 10.78.0.12, user: deploy, host_key: "${HOST_KEYS.web2}" }
  db-1: { address: db-1.internal.example.com, host_key: "${HOST_KEYS.db1}" }
groups:
  web: [web-1, web-2]
  db: [db-1]
`;

/** The Kinescope article's spec.yml, pasted unchanged. */
export const ARTICLE_SPEC = `service:
  name: api
  group: web
  description: Kinescope API
  deploy:
    serial: 1
    probe:
      type: http
      port: 8080
      path: /health
  limits:
    mem: 1G
    no_file: 10_000
  resources:
    cpu: 2
  environments: |
    LISTEN=:8080
    DB_PASSWORD={{ db_password }}
`;

export const API_ARTIFACT = '#!/bin/sh\nexec python3 -m http.server 8080\n';

export const SPEC_PATH = 'services/api/spec.yml';

export function baseRepo(): Record<string, RepoFile> {
  return {
    'inventory.yml': BASE_INVENTORY,
    [SPEC_PATH]: ARTICLE_SPEC,
    'services/api/api': API_ARTIFACT,
  };
}

/** The base repo with some files replaced or added; `null` deletes a file. */
export function repoWith(changes: Readonly<Record<string, RepoFile | null>>): Record<string, RepoFile> {
  const files = baseRepo();
  for (const [path, content] of Object.entries(changes)) {
    if (content === null) delete files[path];
    else files[path] = content;
  }
  return files;
}

/** The base repo with the api service moved to services/<folder>/ and its spec replaced. */
export function repoWithService(folder: string, spec: string, extra: Readonly<Record<string, RepoFile>> = {}): Record<string, RepoFile> {
  return { 'inventory.yml': BASE_INVENTORY, [`services/${folder}/spec.yml`]: spec, [`services/${folder}/${folder}`]: API_ARTIFACT, ...extra };
}

export async function writeRepo(root: string, files: RepoFiles): Promise<void> {
  for (const [path, content] of Object.entries(files)) {
    const target = join(root, path);
    await mkdir(dirname(target), { recursive: true });
    if (typeof content === 'object' && !(content instanceof Uint8Array)) await symlink(content.symlink, target);
    else await writeFile(target, content);
  }
}
