/**
 * Artifacts from a store (run.url): how a download fails and what that means for a rollout, the
 * credentials of a private store, and tend's own download for `fetch: tend`. The host's side (its curl or
 * wget, the verification and unpacking) is in hosts/artifact-stage.ts; the host step in rollout/.
 */
export { classifyDownloadFailure, downloadFailureError } from './download-failure.js';
export type { ArtifactFailureCode, DownloadClassification, DownloadContext, DownloadFailure } from './download-failure.js';
export { authorizationHeader, authorizationPair } from './store-credentials.js';
export type { StoreCredentials } from './store-credentials.js';
export { artifactDownloader, fetchErrorFailure } from './tend-download.js';
export type { ArtifactDownloader, DownloadRequest, DownloaderOptions } from './tend-download.js';
export { urlDelivery } from './url-delivery.js';
export type { UrlDelivery, UrlDeliveryOptions } from './url-delivery.js';
