import { versionOn } from '../../test/e2e/daemon-support.js';
import type { TestHost } from '../../test/e2e/harness/hosts.js';

/** Throws unless every host's service answers `version` on /version: the proof a rollout reached them all. */
export async function expectVersion(hosts: readonly TestHost[], port: number, version: string, after: string): Promise<void> {
  const versions = await Promise.all(hosts.map((host) => versionOn(host, port)));
  const wrong = versions.map((answer, index) => [hosts[index]!.name, answer] as const).filter(([, answer]) => answer !== version);
  if (wrong.length > 0) throw new Error(`after ${after}, hosts do not answer version ${version}: ${wrong.map(([name, answer]) => `${name}=${answer}`).join(', ')}`);
}
