/**
 * Every benchmark, one after the other (they share the test hosts, so never two at once), then their
 * target lines together. What bench/README.md reports comes from one such run.
 *
 *   npm run bench                      (as root; BENCH_RUNS applies to each)
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { stopHosts } from '../test/e2e/harness/hosts.js';

const BENCHES = ['fleet-size', 'git', 'noop-check', 'rolling-update', 'step-overhead', 'latency', 'scale', 'daemon-scale'];
const only = process.argv.slice(2);
const chosen = only.length === 0 ? BENCHES : BENCHES.filter((name) => only.includes(name));

const targets: string[] = [];
let failed = 0;
for (const name of chosen) {
  const script = fileURLToPath(new URL(`${name}.ts`, import.meta.url));
  const started = performance.now();
  let output = '';
  const code = await new Promise<number>((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      process.stdout.write(chunk);
      output += chunk;
    });
    child.on('error', reject);
    child.on('close', (exitCode) => resolve(exitCode ?? 1));
  });
  targets.push(...output.split('\n').filter((line) => /^\s*(MET|MISSED) /.test(line)).map((line) => line.trim()));
  process.stderr.write(`bench: ${name} ${code === 0 ? 'done' : `FAILED (exit ${code})`} in ${((performance.now() - started) / 1000).toFixed(0)} s\n`);
  if (code !== 0) failed += 1;
}
await stopHosts();

console.log('\n== targets ==');
for (const line of targets) console.log(line);
process.exitCode = failed === 0 ? 0 : 1;
