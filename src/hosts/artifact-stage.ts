import { posix } from 'node:path';
import type { DownloadFailure } from '../artifacts/index.js';
import { InternalError } from '../errors/index.js';
import { releasePath } from '../render/host-layout.js';
import type { ArchiveFormat } from '../spec/model.js';
import { sendBytes, type RemoteFiles } from './file-transfer.js';
import type { RunResult, RunTarget } from './remote-command.js';

/**
 * Stages a run.url release on a host: the host downloads it itself (`fetch: host`, curl or wget there) or
 * receives the bytes tend downloaded (`fetch: tend`); either way the download is hashed with sha256sum ON
 * THE HOST, unpacked when it is a tarball, and only then renamed into `releasePath(service, sha256)`, so a
 * release directory holds verified bytes or does not exist, and nothing running is touched before that.
 *
 * One fixed script with the values as positional parameters, as every remote write in tend. A private
 * store's Authorization header travels on stdin into a file in the 0700 staging directory, removed on
 * exit: never in an argv that `ps` shows on the host, never in tend's messages.
 */

const EXIT_CORRUPT = 65;
const EXIT_FETCH = 67;
const EXIT_UNPACK = 68;
const EXIT_TOOL = 69;
const EXIT_FILE = 70;
const FAILURE_EXITS = [EXIT_CORRUPT, EXIT_FETCH, EXIT_UNPACK, EXIT_TOOL, EXIT_FILE] as const;

/**
 * $1 release dir, $2 sha256, $3 download name, $4 archive format ('' = the download is the program),
 * $5 program path inside the release, $6 url ('' = the bytes come from tend), $7 with a url: `header` when
 * an Authorization header comes on stdin, else ''; without: '' = bytes on stdin, else a staged upload.
 *
 * Debian's busybox installs no applet links, so its wget is `busybox wget`; it takes headers only on its
 * command line, so it is used for public stores only. curl and GNU wget give up on a stalled transfer
 * themselves; Debian 12's busybox wget crashes with -T (SIGSEGV, measured), so its own 900 s default
 * stands. The SSH command's timeout bounds the whole.
 */
const STAGE_URL_SCRIPT = `set -eu
dir=$1 want=$2 name=$3 archive=$4 program=$5 url=$6 src=$7 tmp='' staged=''
[ -n "$url" ] || staged=$src
trap '[ -z "$tmp" ] || rm -rf -- "$tmp"; [ -z "$staged" ] || rm -f -- "$staged"' EXIT
if [ -d "$dir" ] && [ ! -L "$dir" ] && [ -f "$dir/$program" ] && [ ! -L "$dir/$program" ]; then
  touch -- "$dir"
  echo 'tend-stage present'
  exit 0
fi
parent=$(dirname -- "$dir")
umask 022
mkdir -p -- "$parent"
tmp=$(mktemp -d -- "$parent/.tend-stage.XXXXXXXX")
chmod 0700 -- "$tmp"
dl=$tmp/download err=$tmp/stderr
if [ -z "$url" ]; then
  if [ -n "$src" ]; then cat -- "$src" > "$dl"; rm -f -- "$src"; else cat > "$dl"; fi
else
  hdr=''
  if [ "$src" = header ]; then hdr=$tmp/header; (umask 077; cat > "$hdr"); fi
  tool=''
  if command -v curl >/dev/null 2>&1; then tool=curl
  elif command -v wget >/dev/null 2>&1 && wget --version 2>/dev/null | grep -q 'GNU Wget'; then tool=gnu-wget
  elif command -v busybox >/dev/null 2>&1 && busybox --list 2>/dev/null | grep -qx wget; then tool=busybox-wget
  fi
  if [ -z "$tool" ]; then echo 'tend-fetch missing-tool neither curl nor wget is installed on the host'; exit ${EXIT_TOOL}; fi
  rc=0 http=000
  case $tool in
  curl)
    set -- -sS -L --proto =http,https --fail -o "$dl" -w '%{http_code}' --connect-timeout 15 --speed-time 60 --speed-limit 1
    [ -z "$hdr" ] || set -- "$@" -H "@$hdr"
    http=$(curl "$@" -- "$url" 2>"$err") || rc=$?
    ;;
  gnu-wget)
    set -- -nv --tries=1 --timeout=60 -O "$dl"
    if [ -n "$hdr" ]; then
      (umask 077; printf 'header = %s\\n' "$(cat -- "$hdr")" > "$tmp/wgetrc")
      set -- --config="$tmp/wgetrc" "$@"
    fi
    wget "$@" -- "$url" 2>"$err" || rc=$?
    ;;
  busybox-wget)
    if [ -n "$hdr" ]; then echo 'tend-fetch missing-tool the host has only busybox wget, which can send credentials only on its command line (visible in ps): install curl or GNU wget'; exit ${EXIT_TOOL}; fi
    busybox wget -q -O "$dl" "$url" 2>"$err" || rc=$?
    ;;
  esac
  if [ "$rc" -ne 0 ]; then
    echo "tend-fetch failed tool=$tool exit=$rc http=$http"
    tail -n 5 -- "$err" || true
    exit ${EXIT_FETCH}
  fi
fi
got=$(sha256sum < "$dl")
got=\${got%% *}
if [ "$got" != "$want" ]; then echo "tend-stage corrupt sha256=$got"; exit ${EXIT_CORRUPT}; fi
rel=$tmp/release
mkdir -- "$rel"
if [ -z "$archive" ]; then
  mv -- "$dl" "$rel/$name"
else
  case $archive in
  tar) flag='' need='' ;;
  tar.gz) flag=-z need=gzip ;;
  tar.xz) flag=-J need=xz ;;
  tar.bz2) flag=-j need=bzip2 ;;
  tar.zst) flag=--zstd need=zstd ;;
  *) echo "tend-stage unpack unknown format $archive"; exit ${EXIT_UNPACK} ;;
  esac
  if [ -n "$need" ] && ! command -v "$need" >/dev/null 2>&1; then echo "tend-fetch missing-tool $need is not installed on the host, and unpacking a .$archive needs it"; exit ${EXIT_TOOL}; fi
  if ! tar -x $flag --no-same-owner -f "$dl" -C "$rel" 2>"$err"; then
    echo 'tend-stage unpack'
    tail -n 5 -- "$err" || true
    exit ${EXIT_UNPACK}
  fi
  rm -f -- "$dl"
fi
real=$(readlink -f -- "$rel/$program" || true)
case $real in "$rel"/*) ;; *) echo 'tend-stage file-missing'; exit ${EXIT_FILE} ;; esac
if [ ! -f "$rel/$program" ] || [ -L "$rel/$program" ]; then echo 'tend-stage file-missing'; exit ${EXIT_FILE}; fi
chmod 0755 -- "$rel" "$rel/$program"
sync
rm -rf -- "$dir"
mv -T -- "$rel" "$dir"
echo 'tend-stage staged'
`;

/** What is staged and run: the release is `releasePath(service, sha256)`, the program `<release>/<program>`. */
export interface UrlRelease {
  readonly service: string;
  readonly sha256: string;
  /** The URL's last path segment: the file name of a download that is the program itself. */
  readonly downloadName: string;
  readonly archive: ArchiveFormat | undefined;
  /** Relative to the release: the download itself, or run.file inside the tarball. */
  readonly program: string;
}

export type HostStageResult =
  | { readonly ok: true; readonly outcome: 'staged' | 'present' }
  | { readonly ok: false; readonly failure: DownloadFailure };

/** A download tolerates a slow store; the tools themselves give up on a stalled transfer after 60 s. */
const HOST_FETCH_TIMEOUT_MS = 30 * 60_000;

const HEX64 = /^[0-9a-f]{64}$/;

function releaseArgs(release: UrlRelease): string[] {
  if (!HEX64.test(release.sha256)) throw new InternalError(`invalid release sha256 ${JSON.stringify(release.sha256)}`);
  const dir = releasePath(release.service, release.sha256);
  return [dir, release.sha256, release.downloadName, release.archive ?? '', release.program];
}

/**
 * The host downloads `url` itself. `authorization` is a whole `Authorization: ...` header line, sent on the
 * command's stdin; the URL itself carries no credentials (validation refuses them).
 */
export async function fetchReleaseOnHost(
  pool: RemoteFiles,
  host: RunTarget,
  release: UrlRelease,
  url: string,
  authorization: string | undefined,
): Promise<HostStageResult> {
  const args = releaseArgs(release);
  const result = await pool.run(host, ['sh', '-c', STAGE_URL_SCRIPT, 'sh', ...args, url, authorization === undefined ? '' : 'header'], {
    sudo: true,
    timeoutMs: HOST_FETCH_TIMEOUT_MS,
    okExitCodes: FAILURE_EXITS,
    writesTo: posix.dirname(args[0] ?? '/'),
    ...(authorization === undefined ? {} : { stdin: `${authorization}\n` }),
  });
  return parseStageResult(result, release.program);
}

/** tend downloaded and verified the bytes; they travel over SSH and are verified again on the host. */
export async function stageDownloadedRelease(pool: RemoteFiles, host: RunTarget, release: UrlRelease, bytes: Uint8Array): Promise<HostStageResult> {
  const args = releaseArgs(release);
  const result = await sendBytes(pool, host, STAGE_URL_SCRIPT, [...args, ''], bytes, { writesTo: posix.dirname(args[0] ?? '/'), okExitCodes: FAILURE_EXITS });
  return parseStageResult(result, release.program);
}

/** Output from a host is untrusted: printable characters only, bounded, before it reaches a message. */
function untrusted(text: string): string {
  const clean = text.replace(/[^\x20-\x7e\n]/g, '?').trim().split('\n').filter((line) => line !== '').join('; ');
  return clean.length > 300 ? `${clean.slice(0, 300)}…` : clean;
}

/**
 * Turns what the script printed into an outcome. Exported for its table test: the lines each tool prints
 * (curl's exit codes and `-w '%{http_code}'`, GNU wget's exit codes and `ERROR 404:`, busybox wget's
 * `server returned error: HTTP/1.1 404`) are what tells a missing file from an unreachable store.
 */
export function parseStageResult(result: RunResult, program: string): HostStageResult {
  const [first = '', ...rest] = result.stdout.trim().split('\n');
  const tail = untrusted(rest.join('\n'));
  if (result.code === 0) {
    if (first === 'tend-stage present') return { ok: true, outcome: 'present' };
    if (first === 'tend-stage staged') return { ok: true, outcome: 'staged' };
  }
  if (result.code === EXIT_CORRUPT) {
    const got = /^tend-stage corrupt sha256=([0-9a-f]{64})$/.exec(first)?.[1] ?? 'unknown';
    return { ok: false, failure: { kind: 'hash-mismatch', got } };
  }
  if (result.code === EXIT_TOOL && first.startsWith('tend-fetch missing-tool ')) {
    return { ok: false, failure: { kind: 'missing-tool', reason: untrusted(first.slice('tend-fetch missing-tool '.length)) } };
  }
  if (result.code === EXIT_UNPACK) return { ok: false, failure: { kind: 'unpack', reason: tail === '' ? untrusted(first) : tail } };
  if (result.code === EXIT_FILE) return { ok: false, failure: { kind: 'file-missing', file: program } };
  const fetch = /^tend-fetch failed tool=(curl|gnu-wget|busybox-wget) exit=(\d+) http=(\d{3})$/.exec(first);
  if (result.code === EXIT_FETCH && fetch !== null) {
    return { ok: false, failure: fetchToolFailure(fetch[1] as FetchTool, Number(fetch[2]), Number(fetch[3]), tail) };
  }
  // Not what the script prints: a host that does not run what was sent. Nothing says the store is wrong.
  return { ok: false, failure: { kind: 'unreachable', reason: `the host's stage script ended unexpectedly (exit ${result.code}): ${untrusted(result.stdout)}` } };
}

type FetchTool = 'curl' | 'gnu-wget' | 'busybox-wget';

/** curl's exit codes for a refused or unverifiable TLS peer (man curl, EXIT CODES). */
const CURL_TLS_EXITS: ReadonlySet<number> = new Set([35, 51, 53, 54, 58, 59, 60, 64, 66, 77, 80, 82, 83, 90, 91]);

function fetchToolFailure(tool: FetchTool, exit: number, http: number, tail: string): DownloadFailure {
  const reason = tail === '' ? `${tool} exited ${exit}` : tail;
  switch (tool) {
    case 'curl':
      if (exit === 22 && http >= 400) return { kind: 'http', status: http };
      if (exit === 28) return { kind: 'timeout', reason };
      if (CURL_TLS_EXITS.has(exit)) return { kind: 'tls', reason };
      return { kind: 'unreachable', reason };
    case 'gnu-wget': {
      const status = /ERROR (\d{3})/.exec(tail)?.[1];
      if (exit === 8 && status !== undefined) return { kind: 'http', status: Number(status) };
      if (exit === 6) return { kind: 'http', status: 401 };
      if (exit === 5) return { kind: 'tls', reason };
      if (/timed out/i.test(tail)) return { kind: 'timeout', reason };
      return { kind: 'unreachable', reason };
    }
    case 'busybox-wget': {
      const status = /server returned error: HTTP\/\d(?:\.\d)? (\d{3})/.exec(tail)?.[1];
      if (status !== undefined) return { kind: 'http', status: Number(status) };
      if (/timed out/i.test(tail)) return { kind: 'timeout', reason };
      if (/certificate|TLS|SSL/i.test(tail)) return { kind: 'tls', reason };
      return { kind: 'unreachable', reason };
    }
  }
}
