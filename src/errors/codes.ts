import type { ErrorClass } from './tend-error.js';

/**
 * Every code tend reports, in one closed table: errors thrown as TendError, problems the loader collects
 * as issues (validation), states status shows (`W_` codes are warnings, not errors), and the few codes
 * only logs carry. Codes are stable: scripts, alerts and metrics match on them. docs/errors.md is
 * generated from this table (`npx tsx test/docs/error-reference.ts --write`), and a unit test fails when
 * a code literal in src/ is missing here.
 *
 * Validation codes live here too rather than in a table of their own: a person reading `(E_SCHEMA)` in
 * `tend validate` and `E_HOSTKEY` in `tend status` looks in one place, and several codes are both an issue
 * and an error (E_UNKNOWN_HOST, E_DURATION, E_READ); two tables would let one code mean two things.
 *
 * `errorClass` is the class tend gives the code (a few take the class of what caused them, as the summary
 * says); `hint` is what a TendError or issue shows when the place that raised it has nothing more specific.
 */
export interface CodeEntry {
  readonly errorClass: ErrorClass | 'warning';
  /** One line: what happened. */
  readonly summary: string;
  /** What to do about it. */
  readonly hint: string;
}

export const ERROR_CODES = {
  // --- loading a commit: files and YAML (issues; the commit is invalid) ---
  E_READ: { errorClass: 'invalid', summary: 'A file or directory could not be read.', hint: 'Check that the path exists and is readable by the user tend runs as.' },
  E_MISSING_FILE: { errorClass: 'invalid', summary: 'A required file (inventory.yml, services/<name>/spec.yml, the daemon config) does not exist.', hint: 'Create the file, or point tend at the right directory.' },
  E_NOT_A_FILE: { errorClass: 'invalid', summary: 'A path that must be a regular file (or directory) is something else.', hint: 'Replace it with a regular file (or directory).' },
  E_SYMLINK: { errorClass: 'invalid', summary: 'A spec, inventory, settings or artifact path is a symlink; tend reads only regular files.', hint: 'Commit the real file or directory here; tend does not follow symlinks.' },
  E_FILE_TOO_LARGE: { errorClass: 'invalid', summary: 'A YAML file or an artifact is larger than tend reads.', hint: 'A spec is a few kilobytes; ship large programs as an OS package (run.package) instead of a file in git.' },
  E_EMPTY_FILE: { errorClass: 'invalid', summary: 'A YAML file has no content.', hint: 'Write the YAML this file is for, or delete the file if it is optional.' },
  E_BINARY_FILE: { errorClass: 'invalid', summary: 'A YAML file contains a NUL byte.', hint: 'Save the file as UTF-8 text.' },
  E_ENCODING: { errorClass: 'invalid', summary: 'A YAML file is not valid UTF-8.', hint: 'Save the file as UTF-8 text.' },
  E_CONTROL_CHAR: { errorClass: 'invalid', summary: 'A YAML file contains a control character outside a quoted escape.', hint: 'Remove the character; write it as an escape in a double-quoted string if it is meant.' },
  E_YAML: { errorClass: 'invalid', summary: 'The YAML does not parse.', hint: 'Fix the YAML syntax here; indentation and unclosed brackets or quotes are the usual causes.' },
  E_YAML_DUPLICATE_KEY: { errorClass: 'invalid', summary: 'A mapping has the same key twice.', hint: 'Delete one of the two entries; YAML would silently keep only the last.' },
  E_YAML_MULTIPLE_DOCUMENTS: { errorClass: 'invalid', summary: 'A YAML file holds more than one document.', hint: 'Keep one document per file: delete the `---` and what follows, or move it to its own file.' },
  E_YAML_DEPTH: { errorClass: 'invalid', summary: 'The YAML nests deeper than tend reads.', hint: 'A deploy spec needs a handful of levels; flatten this structure.' },
  E_YAML_ALIAS: { errorClass: 'invalid', summary: 'The YAML uses an anchor (&) or alias (*), which tend refuses.', hint: 'Write the value out in full; tend refuses YAML anchors and aliases (they are how alias bombs work).' },
  E_YAML_TAG: { errorClass: 'invalid', summary: 'The YAML uses a tag (!foo, !!js/function) outside the core schema.', hint: 'Remove the tag; tend reads only plain YAML values (strings, numbers, booleans, lists, mappings).' },
  E_YAML_DIRECTIVE: { errorClass: 'invalid', summary: 'The YAML has a %YAML or %TAG directive.', hint: 'Delete the directive line; tend always reads YAML 1.2 with the core schema.' },
  E_YAML_KEY: { errorClass: 'invalid', summary: 'A mapping key is not a plain scalar.', hint: 'Write the key as a plain word such as `name`.' },
  E_FORBIDDEN_KEY: { errorClass: 'invalid', summary: 'A key is __proto__, constructor or prototype.', hint: 'Rename or remove it; tend refuses keys that could alter JavaScript object prototypes.' },
  E_SCHEMA: { errorClass: 'invalid', summary: 'A value does not match the JSON Schema of its file.', hint: 'The message names the field and what it must be; the README\'s spec reference lists every field.' },

  // --- loading a commit: the rules across fields and files (issues) ---
  E_RESERVED_NAME: { errorClass: 'invalid', summary: 'A service name, or the units of one of its timers, would clash with a system unit.', hint: 'Pick a name of your own, for example with a team or product prefix (`shop-cron` instead of `cron`).' },
  E_NAME_MISMATCH: { errorClass: 'invalid', summary: 'service.name differs from the name of its folder under services/.', hint: 'Rename the folder or the service so the two are equal.' },
  E_DUPLICATE_SERVICE: { errorClass: 'invalid', summary: 'Two spec files declare the same service name.', hint: 'Each service has one spec: rename one of them (and its folder), or delete the copy.' },
  E_DUPLICATE_TIMER: { errorClass: 'invalid', summary: 'Two timers of one service have the same name.', hint: 'Give each timer of a service its own name.' },
  E_UNKNOWN_GROUP: { errorClass: 'invalid', summary: 'service.group is not a group of inventory.yml.', hint: 'Add the group to inventory.yml, or fix the spelling.' },
  E_UNKNOWN_HOST: { errorClass: 'invalid', summary: 'A host is named that inventory.yml does not declare (in a group, or `tend render --host`).', hint: 'Declare the host under `hosts` in inventory.yml, or use a host the service\'s group lists.' },
  E_UNKNOWN_SERVICE: { errorClass: 'invalid', summary: 'A command names a service the deploy repo does not have.', hint: 'Use a service name from services/ (`tend validate` lists the repo\'s services).' },
  E_UNKNOWN_AFTER: { errorClass: 'invalid', summary: 'service.after names a service that does not exist.', hint: 'Name an existing service, or remove the entry.' },
  E_AFTER_CYCLE: { errorClass: 'invalid', summary: 'service.after entries form a cycle.', hint: 'Remove one `after` entry of the cycle: a service cannot wait for its own rollout.' },
  E_PORT_CLASH: { errorClass: 'invalid', summary: 'Two services claim the same TCP port on one host.', hint: 'Give one of them another port, or move it to another group.' },
  E_UNIT_CLASH: { errorClass: 'invalid', summary: 'Two units would get the same systemd unit name.', hint: 'Timer units are named <service>-<timer>: rename the timer or one of the services.' },
  E_DURATION: { errorClass: 'invalid', summary: 'A duration does not parse or is out of range.', hint: 'Write a number with a unit, such as 500ms, 30s, 5m or 1h.' },
  E_SIZE: { errorClass: 'invalid', summary: 'A size does not parse or is out of range.', hint: 'Write a number with a unit, such as 512M or 1G.' },
  E_PROBE_TIMING: { errorClass: 'invalid', summary: 'min_healthy_time < healthy_deadline < progress_deadline does not hold.', hint: 'Order the three so each is longer than the one before.' },
  E_CRON: { errorClass: 'invalid', summary: 'A cron expression is invalid or never fires.', hint: 'Write five fields (minute hour day-of-month month day-of-week), for example "30 3 * * *".' },
  E_CRON_UNSUPPORTED: { errorClass: 'invalid', summary: 'A timer schedule has no faithful systemd OnCalendar= equivalent.', hint: 'Restrict the day of month or the day of week, not both, or split the job into two timers.' },
  E_ENV_LINE: { errorClass: 'invalid', summary: 'A line of service.environments is not KEY=VALUE.', hint: 'Write one variable per line as KEY=VALUE; start a comment line with #.' },
  E_ENV_KEY: { errorClass: 'invalid', summary: 'An environment key is not an identifier, or is one tend refuses (LD_*, PATH).', hint: 'Use letters, digits and `_`, not starting with a digit; list PATH in allow_env if it is meant.' },
  E_ENV_DUPLICATE: { errorClass: 'invalid', summary: 'An environment key is set twice.', hint: 'Keep one of the two lines.' },
  E_ENV_VALUE: { errorClass: 'invalid', summary: 'An environment value contains a control character.', hint: 'Remove the character; an env file holds one value per line.' },
  E_ENV_SECRET: { errorClass: 'invalid', summary: 'A {{ secret }} or {{ host.* }} reference is malformed.', hint: 'Write {{ name }} with a lowercase name of letters, digits and `_` for a secret, or {{ host.name }} / {{ host.vars.<name> }} for a value of the host.' },
  E_ARTIFACT_MISSING: { errorClass: 'invalid', summary: 'The artifact file does not exist in the service folder.', hint: 'Commit the artifact itself, or point run.artifact at the file.' },
  E_ARTIFACT_PATH: { errorClass: 'invalid', summary: 'The artifact path leaves the service folder.', hint: 'Give a path inside services/<name>/.' },
  E_ARTIFACT_HASH: { errorClass: 'invalid', summary: 'run.sha256 differs from the sha256 of the artifact file.', hint: 'Commit the build run.sha256 names, or update run.sha256 to the file\'s `sha256sum`.' },
  E_RUN_CONFLICT: { errorClass: 'invalid', summary: 'run names two things to run (a package and an artifact or url, an artifact and a url), or a field of one with the other.', hint: 'Keep one of run.artifact (a file in the repo), run.url (a file in an artifact store) or run.package (a Debian package), and only its own fields.' },
  E_RUN_URL: { errorClass: 'invalid', summary: 'run.url is not an http(s) URL tend can download, or carries credentials.', hint: 'Write the full https:// URL of the file, without `user:password@`; a private store\'s credentials come from the secrets directory.' },
  E_RUN_URL_INSECURE: { errorClass: 'invalid', summary: 'run.url is plain http to a host that is not a loopback address.', hint: 'Use https, or set `allow_http: true` if the store is on a network you trust (the sha256 still checks the content).' },
  E_RUN_SHA256: { errorClass: 'invalid', summary: 'run.sha256 is not 64 hexadecimal digits.', hint: 'Paste the output of `sha256sum` for the file (the 64 hex digits only).' },
  E_RUN_SHA256_MISSING: { errorClass: 'invalid', summary: 'run.url has no run.sha256.', hint: 'Add run.sha256 with the file\'s `sha256sum`: the host checks the download against it before anything running is touched.' },
  E_RUN_FILE: { errorClass: 'invalid', summary: 'run.file is set without a tarball url, or leaves the tarball.', hint: 'run.file names the program inside a tarball url (.tar, .tar.gz, .tgz, .tar.xz, .txz, .tar.bz2, .tbz2, .tar.zst), as a path relative to its top without . or .. segments.' },
  E_RUN_FETCH: { errorClass: 'invalid', summary: 'run.fetch is neither `host` nor `tend`.', hint: 'Write `fetch: host` (each host downloads the url; the default) or `fetch: tend` (tend downloads once and stages it over SSH).' },
  E_RUN_CREDENTIALS: { errorClass: 'invalid', summary: 'run.credentials does not name exactly one secret as `bearer: NAME` or `basic: NAME`.', hint: 'Write `credentials: { bearer: NAME }` (the secret holds a token) or `credentials: { basic: NAME }` (the secret holds user:password); put the secret in the secrets directory.' },
  E_PACKAGE_NAME: { errorClass: 'invalid', summary: 'run.package is not a Debian package name.', hint: 'Debian package names have at least two characters: lowercase letters, digits and + - ., starting with a letter or digit.' },
  E_PACKAGE_VERSION: { errorClass: 'invalid', summary: 'run.version is not a Debian version.', hint: 'Write [epoch:]upstream[-revision] as `apt-cache policy` shows it, quoted, for example "1.22.1-9" or "2:1.4.3-1".' },
  E_APT_REPOSITORY: { errorClass: 'invalid', summary: 'An apt_repositories entry in tend.yml is malformed (name twice, a URI tend cannot use, components with a flat suite).', hint: 'Give each repository a unique name, an http(s) URI without credentials, a suite, and components unless the suite ends with /.' },
  E_APT_KEY: { errorClass: 'invalid', summary: 'The signing key of an apt repository is missing, unreadable, or not an OpenPGP public key.', hint: 'Commit the repository\'s public key (`gpg --export KEYID > apt/<name>.gpg`, or the armored .asc) and point signing_key at it.' },
  E_HOST_KEY: { errorClass: 'invalid', summary: 'A host_key in inventory.yml is not a valid OpenSSH public key.', hint: 'Paste the host\'s public key line as `ssh-keyscan -t ed25519 <address>` prints it.' },
  E_UNIT_USER: { errorClass: 'invalid', summary: 'unit.user or unit.group is not a Unix account name, is root, or a group is given without a user.', hint: 'Name an existing unprivileged account (lowercase letters, digits, _ and -, starting with a letter or _, at most 32 characters), for example www-data; leave unit.user out for a dynamic user.' },
  E_UNIT_DIRECTORY: { errorClass: 'invalid', summary: 'A unit.directories entry is not a relative directory name (absolute, `.` or `..` segments, empty segments, control characters or characters outside [A-Za-z0-9._-]).', hint: 'Write a name relative to the root of its kind, for example `app` or `app/data`: systemd puts state under /var/lib, cache under /var/cache, logs under /var/log, runtime under /run, configuration under /etc.' },
  E_UNIT_PATH: { errorClass: 'invalid', summary: 'unit.read_write_paths or unit.working_directory is not a plain absolute path (relative, `.` or `..` segments, `//`, a trailing /, `/` itself, control characters, blanks, quotes or %).', hint: 'Write the absolute path as it is on the host, for example /srv/app; it must exist on the host when the unit starts.' },
  E_UNIT_CAPABILITY: { errorClass: 'invalid', summary: 'A unit.capabilities entry is not a Linux capability name.', hint: 'Write the name as capabilities(7) spells it, for example CAP_NET_BIND_SERVICE.' },
  E_UNIT_DIRECTIVE: { errorClass: 'invalid', summary: 'A unit.directives entry names a [Service] setting tend does not allow there (unknown, or one tend renders from another field).', hint: 'Use one of the allowlisted settings (listed in the README\'s spec reference), or the spec field that covers it (limits.no_file for LimitNOFILE, unit.user for User, ...).' },
  E_UNIT_DIRECTIVE_VALUE: { errorClass: 'invalid', summary: 'The value of an allowlisted unit.directives setting is not one systemd accepts for it.', hint: 'Write the value as the hint of the issue says (a number in range, a listed word, or a duration with a unit).' },
  E_HOST_VAR: { errorClass: 'invalid', summary: 'A `vars:` entry of a host in inventory.yml has a name that is not an identifier, or a value with a control character.', hint: 'Var names are lowercase letters, digits and _, starting with a letter; values are one line of text.' },
  E_HOST_VAR_MISSING: { errorClass: 'invalid', summary: 'A spec\'s environments use {{ host.vars.<name> }} and a host of its group has no such var.', hint: 'Add the var to every host of the group under `vars:` in inventory.yml, or stop using it.' },
  E_COMMAND: { errorClass: 'invalid', summary: 'A command (argv) is empty or malformed.', hint: 'Give at least the program to run, for example ["/usr/local/bin/check"].' },
  W_EMPTY_GROUP: { errorClass: 'warning', summary: 'A service deploys to a group without hosts.', hint: 'Add hosts to the group in inventory.yml.' },

  // --- the daemon's own configuration and the command line ---
  E_SOURCE: { errorClass: 'invalid', summary: 'The daemon config does not say exactly one source (`url` or `path`).', hint: 'Use `url` for a git server, `path` for a repository on this machine.' },
  E_LISTEN: { errorClass: 'invalid', summary: 'The daemon config\'s `listen` is not an address and port.', hint: 'Write host:port, such as `127.0.0.1:9464`, `0.0.0.0:9464` or `[::1]:9464`.' },
  E_CONFIG_LISTEN: { errorClass: 'invalid', summary: 'The daemon\'s `listen` address is in use or not allowed.', hint: 'Stop what listens there or choose another `listen` address; ports below 1024 need a privilege tend does not have.' },
  E_USAGE: { errorClass: 'invalid', summary: 'The command line could not be understood.', hint: 'Run the command with --help for its options.' },
  E_NOTIFY_URL: { errorClass: 'invalid', summary: 'The notification webhook URL is not an http(s) URL.', hint: 'Use the https:// URL your chat or alerting tool gives for incoming webhooks.' },
  E_SECRET_MISSING: { errorClass: 'invalid', summary: 'A {{ secret }} the spec uses has no file in the secrets directory.', hint: 'Put each secret in its own file, named after the secret, in the directory named by TEND_SECRETS_DIR (or --secrets-dir), mode 0600.' },
  E_SECRET_NAME: { errorClass: 'invalid', summary: 'A secret name cannot be a file name in the secrets directory.', hint: 'Secret names are letters, digits, `_`, `.` and `-`, and do not start with a dot.' },
  E_SECRET_UNREADABLE: { errorClass: 'invalid', summary: 'A secret file exists but cannot be read.', hint: 'Check that the user running tend can read the file.' },
  E_SECRET_INVALID: { errorClass: 'invalid', summary: 'A secret contains a control character (a newline, a tab).', hint: 'Env files hold one value per line: store the secret without newlines (base64-encode multi-line values).' },
  E_INVALID_COMMIT: { errorClass: 'invalid', summary: 'The head commit is invalid; status lists its issues.', hint: 'Nothing was changed on any host; the hosts keep running the last good commit. Fix the spec in a new commit (`tend validate` shows every problem).' },

  // --- git: fetching and pushing the deploy repo ---
  E_GIT_URL: { errorClass: 'invalid', summary: 'The repository URL is not a valid http(s) URL.', hint: 'Give the full clone URL, for example https://git.example.com/ops/deploy.git.' },
  E_GIT_URL_CREDENTIALS: { errorClass: 'invalid', summary: 'The repository URL has credentials in it.', hint: 'Remove the `user:password@` part from the URL and put the credentials in the credentials file or TEND_GIT_* variables.' },
  E_GIT_CREDENTIALS: { errorClass: 'invalid', summary: 'The git credentials file cannot be read or is malformed.', hint: 'Check the path, its format, and that the user tend runs as can read it.' },
  E_GIT_BRANCH: { errorClass: 'invalid', summary: 'The branch name is not a valid git branch name.', hint: 'Give the branch name as `git branch` shows it, for example main.' },
  E_GIT_LOCAL_REPO: { errorClass: 'invalid', summary: 'The source path is not a git repository.', hint: 'Give the path of the repository itself (a working repository or a bare one).' },
  E_GIT_AUTH: { errorClass: 'conflict', summary: 'The git server refused tend\'s credentials.', hint: 'Fix the credentials (file or TEND_GIT_* variables); tend does not retry a refused login, so an account is never locked out.' },
  E_GIT_REPO_MISSING: { errorClass: 'conflict', summary: 'No repository at the URL (HTTP 404).', hint: 'Check the repository URL. Some servers answer 404 instead of 401 when the credentials may not see the repository.' },
  E_GIT_BRANCH_MISSING: { errorClass: 'conflict', summary: 'The followed branch does not exist in the repository.', hint: 'Check the branch name in the tend configuration, or push a first commit to it.' },
  E_GIT_COMMIT_MISSING: { errorClass: 'conflict', summary: 'A commit tend needs is not in the fetched history.', hint: 'The branch may have been rewritten (force-pushed) and the commit is gone, or the sha is mistyped.' },
  E_GIT_HTTP: { errorClass: 'conflict', summary: 'The git server answered with an HTTP status tend cannot use, or is no smart-HTTP server.', hint: 'Check the repository URL: it should be the clone URL (often ending in .git), not a web page.' },
  E_GIT_REDIRECT: { errorClass: 'conflict', summary: 'The git server redirected to another origin, or too often.', hint: 'If the repository has moved, configure its new URL (and credentials for that host) in tend.' },
  E_GIT_SERVER: { errorClass: 'transient', summary: 'The git server answered with a server error (5xx).', hint: 'tend retries with backoff. If it persists, check the git server.' },
  E_GIT_TIMEOUT: { errorClass: 'transient', summary: 'A git request or git command took longer than its timeout.', hint: 'tend retries with backoff. Check that the git server is up and reachable from this machine.' },
  E_GIT_UNREACHABLE: { errorClass: 'transient', summary: 'The git server could not be reached.', hint: 'tend retries with backoff. Check the URL, DNS, and that the git server is up and reachable from this machine.' },
  E_GIT_NOT_FOUND: { errorClass: 'conflict', summary: 'The git program is not installed or cannot run.', hint: 'tend needs git (2.39 or later) on PATH to compute reverts. Install it (`apt-get install git`) and restart tend.' },
  E_GIT_NATIVE_MISSING: { errorClass: 'conflict', summary: 'A local-path source needs native git to update its branch, and it is not installed.', hint: 'Install git on the machine tend runs on (it also writes revert commits with it).' },
  E_GIT_FAILED: { errorClass: 'conflict', summary: 'git refused an operation tend expected to work.', hint: 'Its message says why (a damaged repository, a full disk, permissions). A person has to look.' },
  E_GIT_IDENTITY: { errorClass: 'invalid', summary: 'No git identity (name and email) to commit a revert as.', hint: 'Set it as for any commit: `git config user.name` and `git config user.email` (or the daemon\'s `author`).' },
  E_GIT_GC: { errorClass: 'transient', summary: 'Logged only: compacting tend\'s clone with `git gc` failed; reconciling goes on.', hint: 'Look at the state directory\'s disk space and permissions if it repeats.' },
  E_HEALTHY_REF: { errorClass: 'transient', summary: 'Logged only: moving refs/tend/healthy/<service> on the git server failed; reconciling goes on.', hint: 'Check that tend\'s git credentials may push refs outside refs/heads (healthy_refs in the config); the next healthy pass tries again.' },
  E_PUSH_RACE: { errorClass: 'transient', summary: 'A push lost a race: another commit landed first.', hint: 'tend fetches the branch again and decides anew; nothing to do unless this repeats.' },
  E_PUSH_REJECTED: { errorClass: 'conflict', summary: 'The git server refused a push.', hint: 'The credentials may read but not write this repository, or the branch is protected. Grant tend write access to the branch.' },
  E_PUSH_FAILED: { errorClass: 'transient', summary: '`tend revert --push` could not push.', hint: 'Check the remote and your credentials, then push the branch yourself.' },
  E_HISTORY_REWRITTEN: { errorClass: 'conflict', summary: 'The new head does not descend from the last applied commit.', hint: 'Someone force-pushed or reset the branch. Check that the new head is what the hosts should run, then `tend ack`.' },

  // --- reverts (rollback) ---
  E_REVERT_CONFLICT: { errorClass: 'conflict', summary: 'Reverting the bad commit conflicts with later commits; nothing was pushed.', hint: 'Later commits changed the same lines or files, and tend never guesses a resolution. Revert by hand in a clone, resolve, push.' },
  E_REVERT_EMPTY: { errorClass: 'conflict', summary: 'The revert would change nothing: a later commit already undid the change.', hint: 'If the rollout still fails, the cause is another commit; look at `git log` since the last good deploy.' },
  E_REVERT_NOT_ANCESTOR: { errorClass: 'conflict', summary: 'The commit to revert is not in the history of the branch.', hint: 'The commit was never merged into this branch, or the history was rewritten since. Check `git log` of the branch.' },
  E_REVERT_ROOT: { errorClass: 'conflict', summary: 'The commit to revert has no parent (a first commit, or the edge of a shallow clone).', hint: 'Reverting a first commit would delete the whole deploy repo, so tend refuses. Fix forward with a new commit instead.' },
  E_REVERT_UNKNOWN_COMMIT: { errorClass: 'invalid', summary: 'The revision does not name a commit.', hint: 'Give a commit id from `git log` of the branch (fetch first if it is new).' },
  E_REVERT_DETACHED: { errorClass: 'invalid', summary: '`tend revert` found HEAD detached: no branch to put the revert on.', hint: 'Check out the deploy branch first (`git switch main`), then run tend revert again.' },
  E_REVERT_NOT_APPLIED: { errorClass: 'conflict', summary: 'The revert commit was written, but the branch was not moved to it.', hint: 'Commit or stash your local changes (or pull, if the branch moved), then run tend revert again.' },
  E_AUTO_ROLLBACK_DISABLED: { errorClass: 'conflict', summary: 'A rollout failed and the spec says auto_rollback: false.', hint: 'The spec says deploy.auto_rollback: false. Fix forward with a new commit, or run `tend revert <sha> --push` to roll back.' },
  E_ROLLBACK_FAILED: { errorClass: 'conflict', summary: 'The rollback itself failed: tend\'s revert did not become healthy.', hint: 'The previous version failed too, so hosts may be down. Look at the hosts (journalctl -u <service>), fix with a new commit, then `tend retry <service>`.' },
  E_REVERT_OF_REVERT: { errorClass: 'conflict', summary: 'A revert commit failed to roll out; tend does not revert a revert.', hint: 'A revert commit failed to roll out; tend will not re-apply what a person reverted. Fix with a new commit.' },
  E_ROLLBACK_NO_BASELINE: { errorClass: 'conflict', summary: 'The service failed and was never healthy at an earlier commit.', hint: 'The service was never healthy under tend, so there is no earlier version to go back to. Fix with a new commit.' },
  E_REVERT_NO_CULPRIT: { errorClass: 'conflict', summary: 'No commit since the service was last healthy changed it.', hint: 'No commit since the last healthy one changed this service or the repo-wide files. Check the hosts, then `tend retry <service>`.' },
  E_ALREADY_REVERTED: { errorClass: 'conflict', summary: 'The failing commit was already reverted once.', hint: 'tend reverts a commit at most once. Look at why the change came back, fix with a new commit.' },

  // --- SSH and the hosts ---
  E_SSH_KEY: { errorClass: 'conflict', summary: 'tend\'s SSH private key is missing, unreadable or unusable.', hint: 'Point --ssh-key or TEND_SSH_KEY (the daemon\'s `ssh_key`) at a readable, unencrypted OpenSSH private key.' },
  E_SSH_AUTH: { errorClass: 'conflict', summary: 'A host refused tend\'s SSH key.', hint: 'Add tend\'s public key to the SSH user\'s authorized_keys on the host, or fix `user` in inventory.yml. A refused key is not retried on the same inputs.' },
  E_SSH_HANDSHAKE: { errorClass: 'conflict', summary: 'tend and the host share no SSH key-exchange, cipher or MAC algorithm.', hint: 'Check the sshd configuration on the host.' },
  E_HOSTKEY: { errorClass: 'conflict', summary: 'A host presented a key other than the pinned one (or none is pinned); nothing was run.', hint: 'The host may have been reinstalled, or someone is impersonating it. Verify the key out of band, then set host_key of the host in inventory.yml.' },
  E_HOST_UNREACHABLE: { errorClass: 'transient', summary: 'A host could not be reached over SSH, or the connection dropped.', hint: 'tend retries with backoff. Check that the host is up, that sshd listens on the address and port in inventory.yml, and that no firewall drops the connection.' },
  E_SSH_CHANNEL: { errorClass: 'transient', summary: 'sshd refused to open another channel on the connection.', hint: 'The host\'s sshd may allow fewer sessions (MaxSessions) than tend\'s channel limit; tend retries.' },
  E_COMMAND_TIMEOUT: { errorClass: 'transient', summary: 'A remote command ran longer than its timeout and was stopped.', hint: 'It may still have had an effect; tend re-observes the host before acting again.' },
  E_OUTCOME_UNKNOWN: { errorClass: 'transient', summary: 'The connection was lost while a command ran: it may or may not have taken effect.', hint: 'tend re-observes the host before acting again; nothing is assumed about this command.' },
  E_REMOTE_COMMAND: { errorClass: 'transient', summary: 'A remote command exited with a failure.', hint: 'Run the command on the host by hand to see why; tend retries within its budget and then stops.' },
  E_REMOTE_OUTPUT_TOO_LARGE: { errorClass: 'conflict', summary: 'A remote command printed more than tend reads.', hint: 'Output from a host is untrusted and bounded. Look at what the command prints on the host.' },
  E_SUDO_REFUSED: { errorClass: 'conflict', summary: 'sudo on the host asks for a password or refuses the command.', hint: 'Give the SSH user passwordless sudo in sudoers (for example `deploy ALL=(root) NOPASSWD: ALL` in /etc/sudoers.d/tend).' },
  E_HOST_DISK_FULL: { errorClass: 'conflict', summary: 'The host\'s file system is full.', hint: 'Free space on the host (the message names the path), then `tend retry`.' },
  E_OBSERVE_PARSE: { errorClass: 'conflict', summary: 'A host printed something the observe script or systemctl never prints.', hint: 'tend trusts nothing a host prints that is not in the expected form, so it changes nothing on this host; check the host by hand.' },
  E_OBSERVE_SYSTEMCTL: { errorClass: 'conflict', summary: 'systemctl on the host did not answer as systemd does.', hint: 'tend needs systemd running as PID 1 on the host; check `systemctl is-system-running` there.' },
  E_TRANSFER: { errorClass: 'transient', summary: 'An SFTP upload to a host failed.', hint: 'tend retries; check free space in the SSH user\'s home on the host.' },
  E_TRANSFER_CORRUPT: { errorClass: 'transient', summary: 'A file arrived on the host with other bytes than were sent; it was not written.', hint: 'The destination is untouched. tend retries; repeated failures point at the network or the host\'s disk.' },
  E_ARTIFACT_CORRUPT: { errorClass: 'transient', summary: 'An artifact did not hash to its sha256 before sending or on the host; not staged.', hint: 'Nothing running was touched. tend retries the upload; repeated failures point at the network or the host\'s disk.' },
  E_RELEASE_MISSING: { errorClass: 'transient', summary: 'The release to switch to is not staged on the host.', hint: 'The host changed since it was observed; tend re-observes and stages the release again.' },

  // --- artifact store (run.url) ---
  E_ARTIFACT_NOT_FOUND: { errorClass: 'change', summary: 'The artifact store has no file at run.url (HTTP 404 or 410).', hint: 'The commit names a build that was never published (or was deleted): publish it, or fix run.url. Nothing running was touched; tend reverts the commit unless auto_rollback is off.' },
  E_ARTIFACT_HASH_MISMATCH: { errorClass: 'change', summary: 'The file downloaded from run.url does not hash to run.sha256; it was not staged.', hint: 'The commit pins another build than the store serves: fix run.sha256 or run.url (`sha256sum` the published file). Nothing running was touched; tend reverts the commit unless auto_rollback is off.' },
  E_ARTIFACT_REQUEST_REFUSED: { errorClass: 'change', summary: 'The artifact store refused the request for run.url (an HTTP 4xx other than 401, 403, 404, 408, 410 and 429).', hint: 'The URL as committed is not one the store serves; fix run.url. Nothing running was touched.' },
  E_ARTIFACT_UNPACK: { errorClass: 'change', summary: 'The downloaded tarball could not be unpacked, or run.file is not a regular file in it.', hint: 'The hash matched, so the published tarball itself is wrong for this spec: check its format (by its name) and the path in run.file. Nothing running was touched.' },
  E_ARTIFACT_STORE_UNAVAILABLE: { errorClass: 'transient', summary: 'The artifact store could not be reached, answered 5xx, 408 or 429, or the download timed out.', hint: 'tend retries with backoff within retry.max_attempts; nothing running was touched. Check the store, or whether the hosts can reach it (fetch: tend downloads from tend\'s machine instead).' },
  E_ARTIFACT_STORE_AUTH: { errorClass: 'conflict', summary: 'The artifact store refused the credentials (HTTP 401, 403 or 407), or asked for some and the spec gives none.', hint: 'Check the secret named in run.credentials (and that the store grants it this file), then `tend retry`. Nothing running was touched.' },
  E_ARTIFACT_STORE_TLS: { errorClass: 'conflict', summary: 'The artifact store\'s TLS certificate was not accepted.', hint: 'Fix the store\'s certificate, or install its CA on the machine that downloads (the host, or tend\'s machine with fetch: tend), then `tend retry`.' },
  E_ARTIFACT_HOST_TOOL: { errorClass: 'conflict', summary: 'The host lacks a program the download needs: curl or wget, GNU wget or curl for a private store, or the tarball\'s decompressor.', hint: 'Install it on the host (`apt-get install curl`, or xz-utils, bzip2, zstd), or set `fetch: tend` so tend downloads and uploads the file; then `tend retry`.' },
  // --- Debian packages on a host (apt-get, dpkg) ---
  E_PACKAGE_VERSION_MISSING: { errorClass: 'change', summary: 'The apt repository has no such package, or not at the version the spec pins.', hint: 'Publish that version to the repository, or fix run.package / run.version; tend reverts the commit unless auto_rollback is off.' },
  E_PACKAGE_SCRIPT_FAILED: { errorClass: 'change', summary: 'dpkg could not install the package: a maintainer script (postinst, preinst) failed, or the package conflicts with the host.', hint: 'Read the apt output in the message (and `dpkg --audit` on the host); tend reverts the commit, reinstalling the previous version from the .deb it kept.' },
  E_APT_UNREACHABLE: { errorClass: 'transient', summary: 'apt-get could not fetch from an apt repository of tend.yml (connection refused, timeout, DNS, an HTTP error).', hint: 'Check that the host reaches the repository\'s URI; tend retries within its budget and does not blame the commit.' },
  E_APT_LOCKED: { errorClass: 'transient', summary: 'Another process holds apt\'s or dpkg\'s lock on the host (unattended-upgrades, a person running apt).', hint: 'tend waits a while for the lock, then retries within its budget; look for a stuck apt or dpkg process on the host.' },
  E_APT_SIGNATURE: { errorClass: 'conflict', summary: 'apt refused an apt repository of tend.yml: its Release file is unsigned or signed by another key than the committed signing_key.', hint: 'Commit the key the repository is signed with (signing_key in tend.yml), or re-sign the repository; tend never turns the check off.' },
  E_APT_FAILED: { errorClass: 'conflict', summary: 'apt-get or dpkg failed in a way tend does not recognise.', hint: 'Read the apt output in the message and run the command on the host by hand; tend neither retries nor reverts on output it does not understand.' },
  E_PACKAGE_NOT_OURS: { errorClass: 'conflict', summary: 'The service\'s package is installed on the host, but not by tend: never held by tend, or installed by hand at another version.', hint: 'tend does not overwrite a package it did not install. If tend should own it, remove it on the host (`apt-mark unhold <package>; apt-get remove <package>`), then `tend retry`; otherwise give the service another package.' },

  // --- plan and rollout ---
  E_PRUNE_LIMIT: { errorClass: 'invalid', summary: 'The plan would prune more services than prune.max_fraction allows.', hint: 'If the removal is intended, raise prune.max_fraction in tend.yml or remove services in smaller commits; otherwise check that the commit did not drop services or empty a group by mistake.' },
  E_PLAN_INCOMPLETE: { errorClass: 'transient', summary: 'Hosts could not be observed, so `tend plan` or `tend apply` cannot say what they need (conflict when a host refused tend, as its own code says).', hint: 'Nothing was changed on those hosts. Each host\'s own code and message are in the plan: make them reachable, then plan again.' },
  E_FOREIGN_UNIT: { errorClass: 'conflict', summary: 'A unit or env file tend would write exists on the host without tend\'s marker.', hint: 'Remove or rename the existing unit on the host (or give the service another name), then reconcile again.' },
  E_UNIT_FAILED: { errorClass: 'change', summary: 'The new version failed or exited on start.', hint: 'Read `journalctl -u <unit>` on the host; tend reverts the commit unless auto_rollback is off.' },
  E_UNIT_RESTARTED: { errorClass: 'change', summary: 'The new version crashed and systemd restarted it.', hint: 'Read `journalctl -u <unit>` on the host for the crash.' },
  E_HEALTHY_DEADLINE: { errorClass: 'change', summary: 'The new version did not pass its probe for min_healthy_time before healthy_deadline.', hint: 'The new version did not pass its probe for min_healthy_time before healthy_deadline. Check the probe port and path, or raise the deadline if start-up is slow.' },
  E_CANARY_FAILED: { errorClass: 'change', summary: 'The canary failed because of the change, so no other host got it.', hint: 'The canary failed because of the change, so no other host got it. The evidence names the failing check.' },
  E_FAILURE_BUDGET: { errorClass: 'change', summary: 'More hosts failed than deploy.max_failed_hosts allows (the class is that of the failure that decided it).', hint: 'More hosts failed than deploy.max_failed_hosts allows. The evidence lists each host and why it failed.' },
  E_PROGRESS_DEADLINE: { errorClass: 'change', summary: 'No host became healthy within progress_deadline (transient when no host failed because of the change).', hint: 'No host became healthy within progress_deadline. If hosts were unreachable tend retries later; otherwise check the new version.' },
  E_DEPENDENCY_NOT_HEALTHY: { errorClass: 'transient', summary: 'A service in `after:` did not become healthy, so this one waits.', hint: 'Look at the service it waits for; this one rolls out once that is healthy.' },
  E_SUPERSEDED: { errorClass: 'transient', summary: 'A newer commit superseded the rollout.', hint: 'Nothing to do: tend rolls out the newer commit.' },
  E_ROLLOUT_FAILED: { errorClass: 'internal', summary: 'A rollout failed without a more specific code.', hint: 'Look at the daemon\'s log for the service; please report it, as every failure should carry its own code.' },
  E_TRANSIENT: { errorClass: 'transient', summary: 'A transient failure without a more specific code.', hint: 'tend retries with backoff within retry.max_attempts.' },
  E_RETRIES_EXHAUSTED: { errorClass: 'transient', summary: 'A transient failure outlasted retry.max_attempts; tend stopped retrying.', hint: 'Check the hosts named in the failure; `tend retry SERVICE` or the resync schedule tries again.' },

  // --- the daemon's state, API and operator commands ---
  E_STATE_LOCK: { errorClass: 'conflict', summary: 'The state directory cannot be locked (missing, unwritable).', hint: 'The state directory must exist and be writable by the user tend runs as (StateDirectory=tend in the systemd unit does both).' },
  E_STATE_LOCKED: { errorClass: 'conflict', summary: 'Another tend holds the state directory.', hint: 'Stop that tend first (systemctl stop tend), or give this one its own state directory (--state-dir).' },
  E_STATE_READ: { errorClass: 'conflict', summary: 'The journal cannot be read.', hint: 'The state directory must be readable and writable by the user tend runs as.' },
  E_NOT_LEADER: { errorClass: 'transient', summary: 'This tend does not hold the leadership (standby, lease expiring or lost): the effect was refused.', hint: 'Nothing to do: the leader acts, and this instance takes over if the leader\'s lease expires. `tend status` names the leader.' },
  E_ETCD_UNAVAILABLE: { errorClass: 'transient', summary: 'etcd (ha.etcd.endpoints) cannot be reached or did not answer in time: no instance acts.', hint: 'Check that a majority of the etcd members run and are reachable from this machine (`etcdctl endpoint health`); tend campaigns again when etcd answers.' },
  E_ETCD_REFUSED: { errorClass: 'conflict', summary: 'etcd refused tend\'s credentials or permissions.', hint: 'Check ha.etcd.credentials (user, password file, client certificate) and that the etcd role may read and write keys under ha.etcd.prefix.' },
  E_STATE_WRITE: { errorClass: 'conflict', summary: 'The journal cannot be written.', hint: 'The state directory must be writable by the user tend runs as and its file system must have space.' },
  E_JOURNAL_CORRUPT: { errorClass: 'transient', summary: 'Logged only: the journal was unreadable and was rebuilt from observation.', hint: 'Nothing to do: known-bad commits are recovered from revert commits in git history. Keep the state directory on a reliable disk.' },
  E_MONITORING_WRITE: { errorClass: 'transient', summary: 'Logged only: the Prometheus file_sd target files could not be written to `monitoring.file_sd_dir`; reconciling goes on and the next pass tries again.', hint: 'The directory must be writable by the user tend runs as (under tend.service, a path the unit may write: /var/lib/tend-file-sd, or add ReadWritePaths= in a drop-in).' },
  E_DAEMON_UNREACHABLE: { errorClass: 'transient', summary: 'No tend daemon answers at the server address.', hint: 'Is `tend run` running (systemctl status tend)? Pass --server if it listens elsewhere.' },
  E_DAEMON_ANSWER: { errorClass: 'internal', summary: 'The daemon answered with something that is not JSON.', hint: 'Check that --server points at tend, not another service.' },
  E_GITHOST_CONFIG: { errorClass: 'invalid', summary: 'The githost block of the daemon config is incomplete.', hint: 'A gitea provider needs api_url; every provider needs token_file or a secrets_dir holding githost_token.' },
  E_GITHOST_HTTP: { errorClass: 'transient', summary: 'The git host API (statuses, pull request comments, GitLab merge request notes) refused a call: transient for 5xx, 408 and 429, conflict for the rest.', hint: 'Check githost.api_url, githost.repository and that the token may write commit statuses and issue comments (GitLab: a token with the api scope).' },
  E_GITHOST_UNREACHABLE: { errorClass: 'transient', summary: 'The git host API did not answer.', hint: 'tend retries within its budget; check that the API is up and reachable from this machine.' },
  E_TOKEN_REFUSED: { errorClass: 'conflict', summary: 'The daemon refused the operator token.', hint: 'Pass --token-file with the api-token from the state directory of the daemon you call.' },
  E_PLAN_REF: { errorClass: 'invalid', summary: 'The ref to plan (`POST /api/v1/plan`, `tend plan --ref`) is neither a commit sha nor a valid git ref name.', hint: 'Give a branch (feature/x), a full ref (refs/pull/7/head) or a 40-character commit sha.' },
  E_PLAN_REF_MISSING: { errorClass: 'invalid', summary: 'The ref to plan is not on the git server.', hint: 'Push the branch first, or check its name; a sha must be reachable from a branch of the server.' },
  E_PLAN_NOT_READY: { errorClass: 'transient', summary: 'The daemon has not fetched the followed branch yet, so it cannot plan another ref.', hint: 'Ask again in a moment.' },
  E_PLAN_BUSY: { errorClass: 'transient', summary: 'The daemon is already planning as many refs as it queues; this request was refused.', hint: 'Retry after the time the answer gives (Retry-After); plans run one at a time beside the reconcile loop.' },
  E_TOKEN_UNREADABLE: { errorClass: 'conflict', summary: 'The operator token cannot be read.', hint: 'Run as the user tend runs as (or root), or pass --token-file with the api-token from tend\'s state directory.' },
  W_DRIFT: { errorClass: 'warning', summary: 'A host differs from the applied commit with no new commit (changed by hand); tend puts it back.', hint: 'Make lasting changes in the deploy repo; tend restores what a commit says.' },
  W_DEPLOY_WINDOW: { errorClass: 'warning', summary: 'The service waits for its deploy window.', hint: 'Nothing to do: it rolls out when the window opens (a rollback does not wait).' },
  W_DEPENDENCY: { errorClass: 'warning', summary: 'The service waits for a service it comes `after:`, which is halted, paused, backing off or not healthy at the head.', hint: 'Look at the service it waits for (tend status); this one rolls out once that one is healthy.' },
  W_PAUSED: { errorClass: 'warning', summary: 'An operator paused the service; tend does not touch it.', hint: '`tend resume SERVICE` lifts the pause.' },
  W_PAUSE_EXPIRED: { errorClass: 'warning', summary: 'A pause ran past its end; it stays in force and alerts.', hint: '`tend resume SERVICE` lifts it, or pause again with a new --for.' },

  // --- tend itself ---
  E_INTERNAL: { errorClass: 'internal', summary: 'A bug in tend.', hint: 'This is a bug in tend. Please report it with the command you ran and this message.' },
  E_OTHER: { errorClass: 'internal', summary: 'Metrics only: the label of a code outside this table (which would be a bug in tend).', hint: 'Look at the daemon\'s log for the code itself, and report it.' },
} as const satisfies Readonly<Record<string, CodeEntry>>;

/** Every code tend reports. */
export type ErrorCode = keyof typeof ERROR_CODES;

export function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(ERROR_CODES, code);
}

export function codeEntry(code: ErrorCode): CodeEntry {
  return ERROR_CODES[code];
}

export function hintOf(code: ErrorCode): string {
  return ERROR_CODES[code].hint;
}
