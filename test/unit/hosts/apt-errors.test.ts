import { describe, expect, it } from 'vitest';
import { aptFailureError, classifyAptFailure, type AptFailureCode } from '../../../src/hosts/apt-errors.js';

/** apt-get's and dpkg's own words (Debian 12, apt 2.6, LC_ALL=C) -> the code, and so the class, tend gives them. */
const CASES: readonly { name: string; exit: number; output: string; code: AptFailureCode; errorClass: string }[] = [
  {
    name: 'a pinned version the repository does not have is the commit\'s fault',
    exit: 100,
    output: "Reading package lists...\nBuilding dependency tree...\nE: Version '1.2-1' for 'hello-tend' was not found\n",
    code: 'E_PACKAGE_VERSION_MISSING',
    errorClass: 'change',
  },
  {
    name: 'a package the repository does not have at all is the commit\'s fault',
    exit: 100,
    output: 'Reading package lists...\nE: Unable to locate package hello-tnd\n',
    code: 'E_PACKAGE_VERSION_MISSING',
    errorClass: 'change',
  },
  {
    name: 'a failing postinst is the package\'s fault',
    exit: 100,
    output:
      'Setting up hello-tend (1.1) ...\nboom\ndpkg: error processing package hello-tend (--configure):\n installed hello-tend package post-installation script subprocess returned error exit status 1\nErrors were encountered while processing:\n hello-tend\nE: Sub-process /usr/bin/dpkg returned an error code (1)\n',
    code: 'E_PACKAGE_SCRIPT_FAILED',
    errorClass: 'change',
  },
  {
    name: 'a repository that refuses connections is transient',
    exit: 100,
    output:
      "Err:1 http://10.78.0.1:8999 stable InRelease\n  Could not connect to 10.78.0.1:8999 (10.78.0.1). - connect (111: Connection refused)\nE: Failed to fetch http://10.78.0.1:8999/dists/stable/InRelease  Could not connect to 10.78.0.1:8999 (10.78.0.1). - connect (111: Connection refused)\nE: Some index files failed to download. They have been ignored, or old ones used instead.\n",
    code: 'E_APT_UNREACHABLE',
    errorClass: 'transient',
  },
  {
    name: 'a repository whose name does not resolve is transient',
    exit: 100,
    output: "Err:1 https://apt.example.com stable InRelease\n  Temporary failure resolving 'apt.example.com'\n",
    code: 'E_APT_UNREACHABLE',
    errorClass: 'transient',
  },
  {
    name: 'a repository behind a failing proxy is transient',
    exit: 100,
    output: 'E: Failed to fetch https://apt.example.com/pool/main/h/hello_1.1_all.deb  503  Service Unavailable [IP: 10.0.0.1 443]\n',
    code: 'E_APT_UNREACHABLE',
    errorClass: 'transient',
  },
  {
    name: 'the dpkg lock held by another process is transient',
    exit: 100,
    output: 'E: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 4242 (unattended-upgr)\nE: Unable to acquire the dpkg frontend lock (/var/lib/dpkg/lock-frontend), is another process using it?\n',
    code: 'E_APT_LOCKED',
    errorClass: 'transient',
  },
  {
    name: 'a held lock wins over the "not found" it causes',
    exit: 100,
    output: "E: Could not get lock /var/lib/apt/lists/lock. It is held by process 7 (apt-get)\nE: Unable to lock directory /var/lib/apt/lists/\nE: Version '1.1' for 'hello-tend' was not found\n",
    code: 'E_APT_LOCKED',
    errorClass: 'transient',
  },
  {
    name: 'an unreachable repository wins over the "not found" it causes',
    exit: 100,
    output: "E: Failed to fetch http://10.78.0.1:8999/dists/stable/InRelease  Could not connect to 10.78.0.1:8999 (10.78.0.1). - connect (111: Connection refused)\nE: Version '1.1' for 'hello-tend' was not found\n",
    code: 'E_APT_UNREACHABLE',
    errorClass: 'transient',
  },
  {
    name: 'a repository signed by another key than the committed one needs a person',
    exit: 100,
    output:
      'Err:1 http://10.78.0.1:8999 stable InRelease\n  The following signatures couldn\'t be verified because the public key is not available: NO_PUBKEY 0123456789ABCDEF\nE: The repository \'http://10.78.0.1:8999 stable InRelease\' is not signed.\n',
    code: 'E_APT_SIGNATURE',
    errorClass: 'conflict',
  },
  {
    name: 'an interrupted dpkg needs a person',
    exit: 100,
    output: "E: dpkg was interrupted, you must manually run 'dpkg --configure -a' to correct the problem.\n",
    code: 'E_APT_FAILED',
    errorClass: 'conflict',
  },
  {
    name: 'output tend does not recognise needs a person, never a guess',
    exit: 1,
    output: '',
    code: 'E_APT_FAILED',
    errorClass: 'conflict',
  },
];

describe('classifyAptFailure', () => {
  for (const one of CASES) {
    it(one.name, () => {
      const failure = classifyAptFailure(one.exit, one.output);
      expect([failure.code, failure.errorClass]).toEqual([one.code, one.errorClass]);
    });
  }

  it('quotes the line that decided, with the host and command in the error', () => {
    const error = aptFailureError('host-1', 'apt-get install hello-tend=1.2', 100, "Reading package lists...\nE: Version '1.2' for 'hello-tend' was not found\n");
    expect(error.message).toBe("host-1: `apt-get install hello-tend=1.2` exited 100: E: Version '1.2' for 'hello-tend' was not found");
    expect(error.where).toEqual({ host: 'host-1', command: 'apt-get install hello-tend=1.2' });
    expect(error.hint).toContain('Publish that version');
  });
});
