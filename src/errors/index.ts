export { ERROR_CODES, codeEntry, hintOf, isErrorCode } from './codes.js';
export type { CodeEntry, ErrorCode } from './codes.js';
export { TendError, InternalError, asTendError, formatLocation, isFileLocation } from './tend-error.js';
export type { ErrorClass, FileLocation, HostLocation, Location, TendErrorOptions } from './tend-error.js';
export { formatIssue, sortIssues } from './issue.js';
export type { Issue } from './issue.js';
