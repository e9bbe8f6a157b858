/**
 * What the daemon keeps on its own disk: the journal (atomic JSON), the lock that makes one tend the only
 * writer of a state directory, and the one way a state file is written.
 */
export { writeFileAtomically } from './atomic-file.js';
export { emptyJournal, journalFromText, journalPath, journalText, readJournal, writeJournal } from './journal.js';
export type {
  ConditionState,
  Halt,
  HostProbe,
  HostRecord,
  HostState,
  InFlightRollout,
  Journal,
  JournalReadResult,
  KnownBad,
  Pause,
  RecordedRun,
  RetryBudget,
  RolloutPhase,
  RolloutRecord,
  RolloutResult,
  ServiceCondition,
  ServiceRecord,
} from './journal.js';
export { acquireStateLock } from './state-lock.js';
export type { StateLock } from './state-lock.js';
