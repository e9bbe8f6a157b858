import { stopHosts } from './hosts.js';
import { keepHostsRequested } from './layout.js';
import { prepareMachine } from './prepare-machine.js';
import { assertRoot } from './prerequisites.js';

const log = (line: string) => process.stderr.write(`e2e harness: ${line}\n`);

export async function setup(): Promise<void> {
  assertRoot();
  const started = performance.now();
  const { installedPackages, rootfs } = await prepareMachine(log);
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  const packages = installedPackages.length > 0 ? `installed ${installedPackages.join(' ')}; ` : '';
  log(`${packages}rootfs ${rootfs.version} ${rootfs.source} (${rootfs.seconds.toFixed(1)}s); machine ready in ${seconds}s`);
}

export async function teardown(): Promise<void> {
  if (keepHostsRequested()) {
    log('TEND_HARNESS_KEEP=1: hosts left running; `npx tsx test/e2e/harness/cli.ts down` stops them');
    return;
  }
  await stopHosts();
}
