import { credentialsFromEnvironment, httpSource } from '../../src/source/index.js';

/**
 * One tend clone in a process of its own, so `/usr/bin/time -v` can report its peak RSS. Prints the head
 * and the RSS before the fetch (node, tsx and tend loaded), which the caller subtracts to show what the
 * clone itself costs. Usage: git-tend-clone.ts <url> <dir>, credentials in TEND_GIT_USERNAME/PASSWORD.
 */
const [url, dir] = process.argv.slice(2);
if (url === undefined || dir === undefined) throw new Error('usage: git-tend-clone.ts <url> <dir>');
const rssBeforeKiB = Math.round(process.memoryUsage().rss / 1024);
const head = await httpSource({ url, dir, branch: 'main', credentials: credentialsFromEnvironment() }).fetch();
console.log(JSON.stringify({ head, rssBeforeKiB }));
