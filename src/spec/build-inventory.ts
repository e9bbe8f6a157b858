import type { FileLocation, Issue } from '../errors/index.js';
import { INVENTORY_DEFAULTS, SETTINGS_DEFAULTS } from './defaults.js';
import { closestMatch } from './did-you-mean.js';
import { HOST_VAR_NAME } from './env-block.js';
import { normalizeHostKey } from './host-key.js';
import { specIssue } from './issue-codes.js';
import type { AptRepository, HostSpec, Inventory, RepoSettings } from './model.js';
import type { RawInventoryFile, RawSettingsFile } from './raw-files.js';
import { childPointer } from './yaml-document.js';
import type { YamlFile } from './yaml-document.js';

/** inventory.yml and tend.yml, after their schemas passed -> the model, with defaults applied. */

/** The env file's rule: a var's value lands in it, where a control character would start a new line. */
const HOST_VAR_CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

export interface BuiltInventory {
  readonly inventory: Inventory;
  /** Where each group is declared, for hints and messages. */
  readonly groupAt: ReadonlyMap<string, FileLocation>;
}

export type InventoryBuildResult = { readonly ok: true; readonly value: BuiltInventory } | { readonly ok: false; readonly issues: readonly Issue[] };

export function buildInventory(doc: YamlFile): InventoryBuildResult {
  const raw = doc.value as RawInventoryFile;
  const issues: Issue[] = [];
  const hosts: HostSpec[] = [];
  for (const name of Object.keys(raw.hosts).sort()) {
    const host = raw.hosts[name];
    if (host === undefined) continue;
    const pointer = childPointer('/hosts', name);
    const key = normalizeHostKey(host.host_key);
    if (!key.ok) {
      issues.push(specIssue('E_HOST_KEY', doc.at(`${pointer}/host_key`), `hosts.${name}.host_key: ${key.message}`, `Copy the key again from the host's /etc/ssh/ssh_host_ed25519_key.pub, or run ssh-keyscan -t ed25519 ${host.address}.`));
      continue;
    }
    const vars = new Map<string, string>();
    for (const [varName, value] of Object.entries(host.vars ?? {})) {
      const at = doc.keyAt(childPointer(`${pointer}/vars`, varName));
      if (!HOST_VAR_NAME.test(varName)) {
        issues.push(specIssue('E_HOST_VAR', at, `hosts.${name}.vars: ${JSON.stringify(varName)} is not a var name`, 'Var names are lowercase letters, digits and _, starting with a letter, as {{ host.vars.<name> }} writes them.'));
        continue;
      }
      const control = HOST_VAR_CONTROL.exec(value);
      if (control !== null) {
        const code = (control[0].codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0');
        issues.push(specIssue('E_HOST_VAR', doc.at(childPointer(`${pointer}/vars`, varName)), `hosts.${name}.vars.${varName}: the value contains the control character U+${code}`, 'A var is one line of text: it becomes an environment value.'));
        continue;
      }
      vars.set(varName, value);
    }
    hosts.push({
      name,
      address: host.address,
      port: host.port ?? INVENTORY_DEFAULTS.port,
      user: host.user ?? INVENTORY_DEFAULTS.user,
      hostKey: key.hostKey,
      vars,
      source: doc.keyAt(pointer),
    });
  }

  const declared = Object.keys(raw.hosts);
  const groups = new Map<string, readonly string[]>();
  const groupAt = new Map<string, FileLocation>();
  for (const [group, members] of Object.entries(raw.groups ?? {})) {
    const pointer = childPointer('/groups', group);
    groupAt.set(group, doc.keyAt(pointer));
    members.forEach((member, index) => {
      if (Object.hasOwn(raw.hosts, member)) return;
      const suggestion = closestMatch(member, declared);
      issues.push(
        specIssue(
          'E_UNKNOWN_HOST',
          doc.at(`${pointer}/${index}`),
          `groups.${group}[${index}]: host \`${member}\` is not declared under hosts`,
          suggestion === undefined ? 'Declare the host under hosts, or remove it from the group.' : `Did you mean \`${suggestion}\`?`,
        ),
      );
    });
    groups.set(group, [...members].sort());
  }
  if (issues.length > 0) return { ok: false, issues };
  const sortedGroups = new Map([...groups.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  const members = new Map([...sortedGroups].map(([group, names]) => [group, new Set(names)]));
  return { ok: true, value: { inventory: { hosts, groups: sortedGroups, members }, groupAt } };
}

export function buildSettings(doc: YamlFile | undefined, aptRepositories: readonly AptRepository[]): RepoSettings {
  const raw = (doc?.value ?? {}) as RawSettingsFile;
  return {
    prune: {
      enabled: raw.prune?.enabled ?? SETTINGS_DEFAULTS.pruneEnabled,
      maxFraction: raw.prune?.max_fraction ?? SETTINGS_DEFAULTS.pruneMaxFraction,
    },
    concurrency: raw.concurrency ?? SETTINGS_DEFAULTS.concurrency,
    parallelServices: raw.parallel_services ?? SETTINGS_DEFAULTS.parallelServices,
    keepReleases: raw.keep_releases ?? SETTINGS_DEFAULTS.keepReleases,
    aptRepositories,
  };
}
