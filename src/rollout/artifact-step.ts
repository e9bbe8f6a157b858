import { authorizationHeader, classifyDownloadFailure, downloadFailureError, type UrlDelivery } from '../artifacts/index.js';
import { InternalError, TendError } from '../errors/index.js';
import { fetchReleaseOnHost, stageDownloadedRelease, type HostStageResult, type RemoteFiles, type UrlRelease } from '../hosts/index.js';
import type { HostSpec, ServiceSpec, UrlRun } from '../spec/model.js';

/** Attempts of a host's download when the store is unreachable or overloaded, before the step fails transient. */
const HOST_FETCH_ATTEMPTS = 3;

export interface UrlStageEffects {
  readonly pool: RemoteFiles;
  readonly sleep: (ms: number) => Promise<void>;
  readonly urlDelivery?: UrlDelivery;
}

/**
 * Stages a run.url release on one host, verified there before anything running is touched: the host
 * downloads it (`fetch: host`), or tend does once per rollout and uploads it (`fetch: tend`). A failure is
 * a TendError classified by what it says about the commit: a missing file or other bytes than it pins is
 * the change's fault (revert); a store that cannot be reached is retried a few times here, then transient.
 */
export async function stageUrlRelease(
  service: ServiceSpec,
  run: UrlRun,
  host: HostSpec,
  effects: UrlStageEffects,
  progress: (detail: string) => void,
): Promise<void> {
  const delivery = effects.urlDelivery;
  if (delivery === undefined) throw new InternalError(`${service.name} has a run.url, and this rollout was given no url delivery`);
  const release: UrlRelease = { service: service.name, sha256: run.sha256, downloadName: run.downloadName, archive: run.archive, program: run.fileName };
  const credentials = run.credentials === undefined ? undefined : await delivery.credentials(run.credentials);
  const short = run.sha256.slice(0, 12);

  if (run.fetch === 'tend') {
    progress(`download ${run.downloadName} ${short} (by tend), upload`);
    const bytes = await delivery.downloader.download({ service: service.name, url: run.url, sha256: run.sha256, credentials });
    const result = await stageDownloadedRelease(effects.pool, host, release, bytes);
    if (result.ok) return;
    if (result.failure.kind === 'hash-mismatch') {
      // tend verified these bytes before sending: other bytes on the host are the transfer's or the disk's fault.
      throw new TendError('E_ARTIFACT_CORRUPT', 'transient', `${host.name}: ${run.downloadName} of ${service.name} hashed to ${result.failure.got} on the host, not ${run.sha256}; not staged`, {
        where: { host: host.name, command: `stage ${service.name}@${short}` },
      });
    }
    throw failureOf(result, service, run, host, 'stage');
  }

  const authorization = credentials === undefined ? undefined : authorizationHeader(credentials);
  for (let attempt = 1; ; attempt += 1) {
    progress(`download ${run.downloadName} ${short} on the host${attempt === 1 ? '' : ` (attempt ${attempt} of ${HOST_FETCH_ATTEMPTS})`}`);
    const result = await fetchReleaseOnHost(effects.pool, host, release, run.url, authorization);
    if (result.ok) return;
    const transient = classifyDownloadFailure(result.failure).errorClass === 'transient';
    if (!transient || attempt >= HOST_FETCH_ATTEMPTS) throw failureOf(result, service, run, host, 'fetch');
    await effects.sleep(1000 * 2 ** (attempt - 1));
  }
}

function failureOf(result: Extract<HostStageResult, { ok: false }>, service: ServiceSpec, run: UrlRun, host: HostSpec, verb: string): TendError {
  return downloadFailureError(result.failure, { service: service.name, url: run.url, sha256: run.sha256, where: { host: host.name, command: `${verb} ${run.url}` } });
}
