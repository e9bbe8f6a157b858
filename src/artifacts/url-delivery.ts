import { secretMissingError, type SecretSource } from '../render/index.js';
import type { StoreCredentialsRef } from '../spec/model.js';
import type { StoreCredentials } from './store-credentials.js';
import { artifactDownloader, type ArtifactDownloader } from './tend-download.js';

/** What a rollout needs to deliver run.url artifacts besides SSH: tend's own download and a private store's credentials. */
export interface UrlDelivery {
  readonly downloader: ArtifactDownloader;
  /** The credentials run.credentials names, read from the secrets directory; E_SECRET_MISSING without them. */
  readonly credentials: (ref: StoreCredentialsRef) => Promise<StoreCredentials>;
}

export interface UrlDeliveryOptions {
  readonly secrets: SecretSource | undefined;
  /** The daemon's `<state_dir>/artifacts`; `tend apply` keeps downloads in memory for its one rollout. */
  readonly cacheDir?: string;
}

export function urlDelivery(options: UrlDeliveryOptions): UrlDelivery {
  const downloader = artifactDownloader(options.cacheDir === undefined ? {} : { cacheDir: options.cacheDir });
  return {
    downloader,
    async credentials(ref) {
      const value = options.secrets === undefined ? undefined : await options.secrets.read(ref.secret);
      if (value === undefined) throw secretMissingError([{ name: ref.secret, where: ref.where }], options.secrets?.description ?? 'no secrets directory');
      return { scheme: ref.scheme, secret: ref.secret, value };
    },
  };
}
