export { renderService, renderHost, servicesOnHost, assertResolved, UNIT_FILE_MODE, ENV_FILE_MODE } from './render-service.js';
export type { RenderedFile, RenderedFileKind, RenderedService, RenderServiceInput } from './render-service.js';
export {
  maskedSecrets,
  maskedSecretText,
  resolvedSecrets,
  loadSecrets,
  secretRefs,
  directorySecretSource,
  secretSourceFromEnv,
  secretMissingError,
  SECRETS_DIR_ENV,
} from './secrets.js';
export type { SecretMode, SecretResolver, SecretRef, SecretSource } from './secrets.js';
export { execArg, execLine, envValue, escapeSpecifiers } from './systemd-quoting.js';
export { formatBytes } from './systemd-values.js';
export {
  OWNERSHIP_MARKER,
  UNIT_DIR,
  ENV_DIR,
  RELEASE_ROOT,
  unitName,
  unitPath,
  timerUnitName,
  timerServiceName,
  envFilePath,
  releaseDir,
  releasePath,
  currentArtifactPath,
  APT_KEYRING_DIR,
  APT_SOURCES_DIR,
  aptKeyringPath,
  aptSourcesPath,
} from './host-layout.js';
export { renderAptRepository, APT_FILE_MODE } from './apt-sources.js';
export type { RenderedAptRepository } from './apt-sources.js';
export { maskHostEnvFile, unifiedDiff, OLD_SECRET_TEXT, REMOVED_VALUE_TEXT } from './file-diff.js';
export { monitoringTargets, monitoringTargetText } from './monitoring-targets.js';
export type { FileSdTarget, MonitoringTargetFile } from './monitoring-targets.js';
