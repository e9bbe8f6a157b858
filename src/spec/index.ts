/**
 * Loading a commit of a deploy repo: YAML with positions -> JSON Schema -> defaults -> cross-file rules
 * -> the validated model (`RepoSpec`) or every issue found.
 */
export { loadRepo } from './load-repo.js';
export type { LoadOptions, LoadResult } from './load-repo.js';
export { LoadCache } from './load-cache.js';
export { directoryReader } from './directory-reader.js';
export type { RepoEntry, RepoEntryType, RepoReader } from './repo-reader.js';
export { DEFAULT_LOAD_LIMITS, SETTINGS_DEFAULTS } from './defaults.js';
export type { LoadLimits } from './defaults.js';
export { SPEC_ISSUE_CODES } from './issue-codes.js';
export type { SpecIssueCode } from './issue-codes.js';
export { formatDuration, formatSize, parseDuration, parseSize } from './units.js';
export { cronToOnCalendar, parseCron, validateCron } from './cron-schedule.js';
export type { CronFields, CronResult } from './cron-schedule.js';
export { parseSecretParts } from './env-block.js';
export { closestMatch } from './did-you-mean.js';
export { readSchema, schemaUrl } from './schema-validation.js';
export type { SchemaName } from './schema-validation.js';
export type * from './model.js';
export { pathBearsOn } from './repo-paths.js';
