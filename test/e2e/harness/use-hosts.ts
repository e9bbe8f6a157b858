import { startHosts, type TestHost } from './hosts.js';

/**
 * For a test file's `beforeAll`: hosts host-1..host-n, reusing running ones and stopping extras. The
 * global teardown stops them (unless TEND_HARNESS_KEEP=1), so files that need the same hosts share them.
 */
export function useHosts(n: number): Promise<TestHost[]> {
  return startHosts(n, { log: (line) => process.stderr.write(`e2e harness: ${line}\n`) });
}
