import { createHash, randomBytes } from 'node:crypto';
import { posix } from 'node:path';
import type { SFTPWrapper } from 'ssh2';
import { InternalError, TendError } from '../errors/index.js';
import { releaseDir, releasePath } from '../render/host-layout.js';
import { diskFullError } from './host-faults.js';
import type { RemoteRunner, RunResult, RunTarget } from './remote-command.js';

/**
 * Every file tend writes on a host: bytes to a temp name in the SAME directory (so the rename cannot cross
 * a filesystem), fsync'd, mode and owner set, then `mv -f` over the destination: a reader sees the old file
 * or the new one, never half of one. node-ssh's putFile is not atomic and is not used for destinations.
 *
 * Each operation is one fixed shell script (a constant) with the paths, mode and hashes as positional
 * parameters: no spec value is ever spliced into shell text. Bytes travel on the command's stdin, or for
 * large files by SFTP to a private staging file in the SSH user's home first.
 */

/** What file transfer needs of the pool: run, plus SFTP for large files. */
export interface RemoteFiles extends RemoteRunner {
  withSftp<T>(host: RunTarget, work: (sftp: SFTPWrapper) => Promise<T>): Promise<T>;
}

export interface WriteOptions {
  /** Default `root:root`. */
  readonly owner?: string;
  /** `stdin` (one round trip) or `sftp` (staging upload, then a root copy). Default: sftp above 8 MiB. */
  readonly via?: 'stdin' | 'sftp';
  readonly timeoutMs?: number;
}

const SFTP_THRESHOLD_BYTES = 8 * 1024 * 1024;
/** Exit code the scripts use for "the bytes on the host do not hash to what was sent". */
const EXIT_CORRUPT = 65;
const EXIT_MISSING = 66;
const OWNER = /^[a-z_][a-z0-9_-]{0,31}(:[a-z_][a-z0-9_-]{0,31})?$/;
const HEX64 = /^[0-9a-f]{64}$/;

/**
 * $1 destination, $2 mode (octal), $3 owner, $4 expected sha256, $5 staged source ('' = stdin).
 * The temp file is created by mktemp (O_EXCL, 0600) next to the destination and removed on any failure,
 * and so is the staged source: left behind, every retry on a full disk would add one more to the home.
 */
const WRITE_SCRIPT = `set -eu
dest=$1 mode=$2 owner=$3 want=$4 src=$5 tmp=''
trap '[ -z "$tmp" ] || rm -f -- "$tmp"; [ -z "$src" ] || rm -f -- "$src"' EXIT
dir=$(dirname -- "$dest")
umask 022
mkdir -p -- "$dir"
umask 077
tmp=$(mktemp -- "$dir/.tend-tmp.XXXXXXXX")
if [ -n "$src" ]; then cat -- "$src" > "$tmp"; rm -f -- "$src"; else cat > "$tmp"; fi
got=$(sha256sum < "$tmp")
got=\${got%% *}
if [ "$got" != "$want" ]; then echo "tend-write corrupt sha256=$got"; exit ${EXIT_CORRUPT}; fi
chown -- "$owner" "$tmp"
chmod -- "$mode" "$tmp"
sync -- "$tmp" 2>/dev/null || sync
mv -f -- "$tmp" "$dest"
trap - EXIT
echo 'tend-write ok'
`;

/**
 * $1 release dir (`<root>/<service>/<sha256>`), $2 file name, $3 sha256, $4 staged source ('' = stdin).
 * Idempotent: a release already there with the right bytes is left alone (and its mtime refreshed).
 * Otherwise the bytes go to a temp dir beside it, are checked with sha256sum ON THE HOST, and only then
 * is the temp dir renamed into place: a release directory either holds verified bytes or does not exist.
 */
const STAGE_SCRIPT = `set -eu
dir=$1 file=$2 want=$3 src=$4 tmp=''
trap '[ -z "$tmp" ] || rm -rf -- "$tmp"; [ -z "$src" ] || rm -f -- "$src"' EXIT
if [ -f "$dir/$file" ] && [ ! -L "$dir/$file" ]; then
  got=$(sha256sum < "$dir/$file")
  if [ "\${got%% *}" = "$want" ]; then
    [ -z "$src" ] || rm -f -- "$src"
    touch -- "$dir"
    echo 'tend-stage present'
    exit 0
  fi
fi
parent=$(dirname -- "$dir")
umask 022
mkdir -p -- "$parent"
tmp=$(mktemp -d -- "$parent/.tend-stage.XXXXXXXX")
if [ -n "$src" ]; then cat -- "$src" > "$tmp/$file"; rm -f -- "$src"; else cat > "$tmp/$file"; fi
got=$(sha256sum < "$tmp/$file")
got=\${got%% *}
if [ "$got" != "$want" ]; then echo "tend-stage corrupt sha256=$got"; exit ${EXIT_CORRUPT}; fi
chmod 0755 -- "$tmp" "$tmp/$file"
sync
rm -rf -- "$dir"
mv -T -- "$tmp" "$dir"
trap - EXIT
echo 'tend-stage staged'
`;

/**
 * $1 service release dir, $2 sha256. The new link is made under a temp name and renamed over `current`
 * (rename(2) replaces a symlink atomically; `ln -sfn` alone unlinks first and leaves a moment without one).
 * The target is relative, so the release tree stays valid if it is ever moved or inspected from a rescue
 * system.
 */
const SWITCH_SCRIPT = `set -eu
dir=$1 sha=$2
if [ ! -d "$dir/$sha" ] || [ -L "$dir/$sha" ]; then echo 'tend-switch missing'; exit ${EXIT_MISSING}; fi
tmp="$dir/.tend-current.$$"
ln -sfn -- "$sha" "$tmp"
mv -T -f -- "$tmp" "$dir/current"
touch -- "$dir/$sha"
echo 'tend-switch ok'
`;

/**
 * $1 service release dir, $2 how many releases to keep (current included), $3.. releases never to remove.
 * Only names that are sha256 hex are considered; `current`'s target is always kept.
 */
const PRUNE_SCRIPT = `set -eu
dir=$1 keep=$2
shift 2
[ -d "$dir" ] || exit 0
cur=''
if [ -L "$dir/current" ]; then cur=$(readlink -- "$dir/current"); cur=\${cur%/}; cur=\${cur##*/}; fi
kept=0
[ -z "$cur" ] || [ ! -d "$dir/$cur" ] || kept=1
set -f
for r in $(ls -1t -- "$dir"); do
  case $r in *[!0-9a-f]*) continue ;; esac
  [ \${#r} -eq 64 ] || continue
  [ "$r" != "$cur" ] || continue
  protected=no
  for p in "$@"; do [ "$p" != "$r" ] || protected=yes; done
  if [ "$protected" = yes ]; then continue; fi
  if [ "$kept" -lt "$keep" ]; then kept=$((kept + 1)); continue; fi
  rm -rf -- "\${dir:?}/$r"
  echo "tend-prune removed sha256=$r"
done
`;

function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function modeText(mode: number): string {
  if (!Number.isInteger(mode) || mode < 0 || mode > 0o7777) throw new InternalError(`invalid file mode ${mode}`);
  return mode.toString(8).padStart(4, '0');
}

function checkAbsolutePath(path: string): void {
  // A destination comes from host-layout.ts, never from a spec; this keeps a bug from writing elsewhere.
  if (!path.startsWith('/') || path.endsWith('/') || path.split('/').some((part) => part === '..' || part === '.')) {
    throw new InternalError(`refusing to write to ${JSON.stringify(path)}: not a plain absolute path`);
  }
}

function defaultTimeout(bytes: number): number {
  // One minute plus a second per MiB: a slow link must not turn a large artifact into a timeout loop.
  return 60_000 + Math.ceil(bytes / (1024 * 1024)) * 1000;
}

/**
 * Uploads bytes by SFTP to a fresh file in the SSH user's home (created exclusively, 0600): a directory
 * no other user can plant a symlink in. Returns its absolute path; the root-side script removes it.
 *
 * ssh2 1.17's write stream swallows a failed write (it destroys itself without the error and emits only
 * 'close'): a full home would pass for a finished upload, cut short. So the file is written with ssh2's
 * own open/write/close, whose callbacks do report errors, and a failed upload is looked into with statvfs
 * before its partial file is removed: OpenSSH reports ENOSPC to SFTP as a bare "Failure", so free space is
 * the only way to tell a full disk.
 */
async function uploadToStaging(pool: RemoteFiles, host: RunTarget, bytes: Uint8Array): Promise<string> {
  const command = 'sftp put';
  try {
    return await pool.withSftp(host, async (sftp) => {
      const home = await new Promise<string>((resolve, reject) =>
        sftp.realpath('.', (error, path) => (error ? reject(error) : resolve(path))),
      );
      const path = `${home.replace(/\/$/, '')}/.tend-upload-${randomBytes(8).toString('hex')}`;
      const handle = await new Promise<Buffer>((resolve, reject) =>
        sftp.open(path, 'wx', { mode: 0o600 }, (error, opened) => (error ? reject(error) : resolve(opened))),
      );
      const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      // ssh2 splits one write into packets the server accepts and sends them in order.
      const writeFailure = await new Promise<Error | undefined>((resolve) =>
        sftp.write(handle, buffer, 0, buffer.byteLength, 0, (error) => resolve(error ?? undefined)),
      );
      const closeFailure = await new Promise<Error | undefined>((resolve) => sftp.close(handle, (error) => resolve(error ?? undefined)));
      const failure = writeFailure ?? closeFailure;
      if (failure === undefined) return path;
      const free = await freeBytes(sftp, home);
      await new Promise<void>((resolve) => sftp.unlink(path, () => resolve()));
      if (free !== undefined && free < buffer.byteLength) {
        throw diskFullError(host.name, command, `No space left on device (SFTP upload of ${buffer.byteLength} bytes, ${free} bytes free)`, home, failure);
      }
      throw failure;
    });
  } catch (error) {
    if (error instanceof TendError) throw error;
    throw new TendError('E_TRANSFER', 'transient', `${host.name}: SFTP upload failed: ${(error as Error).message}`, {
      where: { host: host.name, command },
      hint: 'tend retries; check free space in the SSH user\'s home on the host.',
      cause: error,
    });
  }
}

/** Bytes an unprivileged user may still write in the filesystem of `path`; undefined when the server cannot say. */
function freeBytes(sftp: SFTPWrapper, path: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    try {
      sftp.ext_openssh_statvfs(path, (error, info: { f_bavail?: unknown; f_frsize?: unknown } | undefined) => {
        const available = info?.f_bavail;
        const blockSize = info?.f_frsize;
        resolve(error === undefined && typeof available === 'number' && typeof blockSize === 'number' ? available * blockSize : undefined);
      });
    } catch {
      // A server without the statvfs@openssh.com extension: ssh2 throws at once.
      resolve(undefined);
    }
  });
}

/**
 * Runs `script` with `args` and the bytes as its last argument's source: '' when they come on stdin, or the
 * path of a staged SFTP upload (large files), which the script removes. Exit code 65 (corrupt) is returned.
 */
export async function sendBytes(
  pool: RemoteFiles,
  host: RunTarget,
  script: string,
  args: readonly string[],
  bytes: Uint8Array,
  options: WriteOptions & { readonly writesTo: string; readonly okExitCodes?: readonly number[] },
): Promise<RunResult> {
  const via = options.via ?? (bytes.byteLength > SFTP_THRESHOLD_BYTES ? 'sftp' : 'stdin');
  const timeoutMs = options.timeoutMs ?? defaultTimeout(bytes.byteLength);
  const run = { sudo: true, timeoutMs, okExitCodes: options.okExitCodes ?? [EXIT_CORRUPT], writesTo: options.writesTo };
  if (via === 'stdin') return pool.run(host, ['sh', '-c', script, 'sh', ...args, ''], { ...run, stdin: bytes });
  const staged = await uploadToStaging(pool, host, bytes);
  return pool.run(host, ['sh', '-c', script, 'sh', ...args, staged], run);
}

/** Writes `bytes` to `path` on the host atomically with `mode` (e.g. 0o600 for env files) and owner. */
export async function writeFileAtomic(
  pool: RemoteFiles,
  host: RunTarget,
  path: string,
  bytes: Uint8Array,
  mode: number,
  options: WriteOptions = {},
): Promise<void> {
  checkAbsolutePath(path);
  const owner = options.owner ?? 'root:root';
  if (!OWNER.test(owner)) throw new InternalError(`invalid owner ${JSON.stringify(owner)}`);
  const want = sha256Hex(bytes);
  const result = await sendBytes(pool, host, WRITE_SCRIPT, [path, modeText(mode), owner, want], bytes, { ...options, writesTo: posix.dirname(path) });
  if (result.code === EXIT_CORRUPT) {
    throw new TendError('E_TRANSFER_CORRUPT', 'transient', `${host.name}: ${path} arrived with different bytes than were sent; not written`, {
      where: { host: host.name, command: `write ${path}` },
      hint: 'The destination is untouched. tend retries; repeated failures point at the network or the host\'s disk.',
    });
  }
  expectLine(host, `write ${path}`, result, 'tend-write ok');
}

export type StageOutcome = 'staged' | 'present';

/**
 * Puts an artifact at `releasePath(service, sha256)/<fileName>`, verified by sha256sum on the host before
 * it counts as staged. A mismatch is `E_ARTIFACT_CORRUPT`, class transient: the bytes were checked against
 * the commit's sha256 here before sending, so a mismatch on the host is the transfer's or the host disk's
 * fault; sending again may succeed, and nothing running was touched (the release dir is not created and
 * `current` is not switched), so there is nothing to revert. If it keeps failing, the retry budget surfaces it.
 */
export async function stageRelease(
  pool: RemoteFiles,
  host: RunTarget,
  service: string,
  sha256: string,
  fileName: string,
  bytes: Uint8Array,
  options: Omit<WriteOptions, 'owner'> = {},
): Promise<StageOutcome> {
  if (!HEX64.test(sha256)) throw new InternalError(`invalid release sha256 ${JSON.stringify(sha256)}`);
  if (!/^[A-Za-z0-9_.+-]{1,200}$/.test(fileName) || fileName === '.' || fileName === '..') {
    throw new InternalError(`invalid artifact file name ${JSON.stringify(fileName)}`);
  }
  const command = `stage ${service}@${sha256.slice(0, 12)}`;
  if (sha256Hex(bytes) !== sha256) {
    throw new TendError('E_ARTIFACT_CORRUPT', 'transient', `${host.name}: the artifact ${fileName} of ${service} does not hash to ${sha256} before sending`, {
      where: { host: host.name, command },
      hint: 'The bytes read from the deploy repo changed since the commit was loaded; tend reloads and retries.',
    });
  }
  const dir = releasePath(service, sha256);
  checkAbsolutePath(dir);
  const result = await sendBytes(pool, host, STAGE_SCRIPT, [dir, fileName, sha256], bytes, { ...options, writesTo: posix.dirname(dir) });
  if (result.code === EXIT_CORRUPT) {
    const got = /sha256=([0-9a-f]{64})/.exec(result.stdout)?.[1] ?? 'unknown';
    throw new TendError(
      'E_ARTIFACT_CORRUPT',
      'transient',
      `${host.name}: the artifact ${fileName} of ${service} hashed to ${got} on the host, not ${sha256}; not staged`,
      {
        where: { host: host.name, command },
        hint: 'Nothing running was touched. tend retries the upload; repeated failures point at the network or the host\'s disk.',
      },
    );
  }
  if (result.stdout.trim() === 'tend-stage present') return 'present';
  expectLine(host, command, result, 'tend-stage staged');
  return 'staged';
}

/** Points `current` of the service at a staged release, atomically. */
export async function switchRelease(pool: RemoteRunner, host: RunTarget, service: string, sha256: string): Promise<void> {
  if (!HEX64.test(sha256)) throw new InternalError(`invalid release sha256 ${JSON.stringify(sha256)}`);
  const command = `switch ${service}@${sha256.slice(0, 12)}`;
  const result = await pool.run(host, ['sh', '-c', SWITCH_SCRIPT, 'sh', releaseDir(service), sha256], {
    sudo: true,
    okExitCodes: [EXIT_MISSING],
  });
  if (result.code === EXIT_MISSING) {
    throw new TendError('E_RELEASE_MISSING', 'transient', `${host.name}: release ${sha256} of ${service} is not staged; current unchanged`, {
      where: { host: host.name, command },
      hint: 'The host changed since it was observed; tend re-observes and stages the release again.',
    });
  }
  expectLine(host, command, result, 'tend-switch ok');
}

/**
 * Removes old releases of a service, keeping the `keep` newest (by mtime, `current` included and always
 * kept) and any in `protect`. Returns the removed sha256s.
 */
export async function pruneReleases(
  pool: RemoteRunner,
  host: RunTarget,
  service: string,
  keep: number,
  protect: readonly string[] = [],
): Promise<string[]> {
  if (!Number.isInteger(keep) || keep < 1) throw new InternalError(`keep must be at least 1, got ${keep}`);
  const result = await pool.run(
    host,
    ['sh', '-c', PRUNE_SCRIPT, 'sh', releaseDir(service), String(keep), ...protect.filter((sha) => HEX64.test(sha))],
    { sudo: true },
  );
  const removed: string[] = [];
  for (const line of result.stdout.split('\n')) {
    const match = /^tend-prune removed sha256=([0-9a-f]{64})$/.exec(line);
    if (match?.[1] !== undefined) removed.push(match[1]);
  }
  return removed;
}

/** The scripts end by printing one line; anything else means the host did not run what we sent. */
function expectLine(host: RunTarget, command: string, result: RunResult, line: string): void {
  if (result.code === 0 && result.stdout.trim() === line) return;
  throw new TendError('E_REMOTE_COMMAND', 'transient', `${host.name}: \`${command}\` ended without confirming (${JSON.stringify(result.stdout.slice(0, 200))})`, {
    where: { host: host.name, command },
    hint: 'The host\'s shell did not behave as expected; check it by hand.',
  });
}
