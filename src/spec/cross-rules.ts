import type { FileLocation, Issue } from '../errors/index.js';
import type { BuiltInventory } from './build-inventory.js';
import type { BuiltService } from './build-service.js';
import { closestMatch } from './did-you-mean.js';
import { specIssue } from './issue-codes.js';

/**
 * Rules no single file can check: names unique across specs, groups and `after:` entries that exist,
 * no `after:` cycle, no two services on one port of one host, no two units with one name. Each issue
 * points at the node that breaks the rule and names the other party with its position.
 */

/** A spec whose `service.name` passed the schema, built or not: enough to check names across files. */
export interface DeclaredService {
  readonly name: string;
  readonly at: FileLocation;
}

export interface CrossRuleInput {
  readonly declared: readonly DeclaredService[];
  readonly services: readonly BuiltService[];
  /** Every folder under services/, valid or not, so an `after:` naming a broken spec is not "unknown". */
  readonly folders: ReadonlySet<string>;
  /** Undefined when inventory.yml is invalid: group and port rules are then skipped, not guessed. */
  readonly inventory: BuiltInventory | undefined;
}

export interface CrossRuleResult {
  readonly issues: readonly Issue[];
  readonly warnings: readonly Issue[];
}

function where(at: FileLocation): string {
  return `${at.file}:${at.line}:${at.col}`;
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function checkDuplicates(declared: readonly DeclaredService[], issues: Issue[]): void {
  const first = new Map<string, DeclaredService>();
  for (const service of [...declared].sort((a, b) => compareText(a.at.file, b.at.file))) {
    const earlier = first.get(service.name);
    if (earlier === undefined) {
      first.set(service.name, service);
      continue;
    }
    issues.push(specIssue('E_DUPLICATE_SERVICE', service.at, `service \`${service.name}\` is already declared in ${where(earlier.at)}`, 'Each service has one spec: rename one of them (and its folder), or delete the copy.'));
  }
}

function checkGroups(services: readonly BuiltService[], inventory: BuiltInventory, issues: Issue[], warnings: Issue[]): void {
  const groups = [...inventory.inventory.groups.keys()];
  for (const { spec, refs } of services) {
    const members = inventory.inventory.groups.get(spec.group);
    if (members === undefined) {
      const suggestion = closestMatch(spec.group, groups);
      const known = groups.length === 0 ? 'inventory.yml declares no groups.' : `Groups in inventory.yml: ${groups.join(', ')}.`;
      issues.push(specIssue('E_UNKNOWN_GROUP', refs.group, `service.group: group \`${spec.group}\` is not declared in inventory.yml`, suggestion === undefined ? known : `Did you mean \`${suggestion}\`? ${known}`));
    } else if (members.length === 0) {
      warnings.push(specIssue('W_EMPTY_GROUP', refs.group, `service.group: group \`${spec.group}\` has no hosts, so ${spec.name} runs nowhere`, 'Add hosts to the group in inventory.yml.'));
    }
  }
}

function checkAfter(services: readonly BuiltService[], folders: ReadonlySet<string>, issues: Issue[]): void {
  const names = [...folders];
  for (const { spec, refs } of services) {
    spec.after.forEach((dependency, index) => {
      const at = refs.after[index] ?? refs.name;
      if (dependency === spec.name) {
        issues.push(specIssue('E_AFTER_CYCLE', at, `service.after[${index}]: ${spec.name} lists itself`, 'Remove it: a service cannot wait for its own rollout.'));
      } else if (!folders.has(dependency)) {
        const suggestion = closestMatch(dependency, names);
        issues.push(specIssue('E_UNKNOWN_AFTER', at, `service.after[${index}]: service \`${dependency}\` does not exist`, suggestion === undefined ? `Services in this repo: ${names.sort().join(', ')}.` : `Did you mean \`${suggestion}\`?`));
      }
    });
  }
}

/** Strongly connected components of the `after:` graph (Tarjan); each with two or more members is a cycle. */
function cycles(edges: ReadonlyMap<string, readonly string[]>): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const components: string[][] = [];
  const visit = (node: string): void => {
    index.set(node, counter);
    low.set(node, counter);
    counter += 1;
    stack.push(node);
    onStack.add(node);
    for (const next of edges.get(node) ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node) ?? 0, low.get(next) ?? 0));
      } else if (onStack.has(next)) {
        low.set(node, Math.min(low.get(node) ?? 0, index.get(next) ?? 0));
      }
    }
    if (low.get(node) === index.get(node)) {
      const component: string[] = [];
      for (;;) {
        const member = stack.pop();
        if (member === undefined) break;
        onStack.delete(member);
        component.push(member);
        if (member === node) break;
      }
      if (component.length > 1) components.push(component.sort(compareText));
    }
  };
  for (const node of [...edges.keys()].sort(compareText)) if (!index.has(node)) visit(node);
  return components;
}

/** One concrete cycle through `start` inside a component, as a path that ends where it began. */
function cyclePath(start: string, component: ReadonlySet<string>, edges: ReadonlyMap<string, readonly string[]>): string[] {
  const previous = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const node = queue.shift() ?? start;
    for (const next of [...(edges.get(node) ?? [])].sort(compareText)) {
      if (!component.has(next)) continue;
      if (next === start) {
        const path = [node];
        while (path[0] !== start) path.unshift(previous.get(path[0] ?? start) ?? start);
        return [...path, start];
      }
      if (!previous.has(next)) {
        previous.set(next, node);
        queue.push(next);
      }
    }
  }
  return [start, start];
}

function checkCycles(services: readonly BuiltService[], issues: Issue[]): void {
  const byName = new Map(services.map((service) => [service.spec.name, service]));
  const edges = new Map(services.map(({ spec }) => [spec.name, spec.after.filter((name) => byName.has(name) && name !== spec.name)]));
  for (const component of cycles(edges)) {
    const start = component[0] ?? '';
    const path = cyclePath(start, new Set(component), edges);
    const service = byName.get(start);
    if (service === undefined) continue;
    const index = service.spec.after.indexOf(path[1] ?? '');
    issues.push(
      specIssue(
        'E_AFTER_CYCLE',
        service.refs.after[index] ?? service.refs.name,
        `service.after: ${path.join(' -> ')} is a cycle, so none of them could ever roll out`,
        'Remove one of these after: entries; after: means "must be healthy before me", which cannot go round in a circle.',
      ),
    );
  }
}

function checkPorts(services: readonly BuiltService[], inventory: BuiltInventory, issues: Issue[]): void {
  interface Clash {
    readonly port: number;
    readonly first: BuiltService;
    readonly second: BuiltService;
    readonly at: FileLocation;
    readonly hosts: string[];
  }
  const clashes = new Map<string, Clash>();
  // Each host's services in name order, found from the services' groups: work in proportion to the
  // service instances, not to every host × service pair.
  const onHost = new Map<string, BuiltService[]>();
  for (const service of [...services].sort((a, b) => compareText(a.spec.name, b.spec.name))) {
    for (const host of inventory.inventory.groups.get(service.spec.group) ?? []) {
      const list = onHost.get(host);
      if (list === undefined) onHost.set(host, [service]);
      else list.push(service);
    }
  }
  for (const host of inventory.inventory.hosts) {
    const owners = new Map<number, BuiltService>();
    for (const service of onHost.get(host.name) ?? []) {
      for (const claim of service.refs.ports) {
        const owner = owners.get(claim.port);
        if (owner === undefined) {
          owners.set(claim.port, service);
          continue;
        }
        if (owner === service) continue;
        const key = `${owner.spec.name}\u0000${service.spec.name}\u0000${claim.port}`;
        const clash = clashes.get(key) ?? { port: claim.port, first: owner, second: service, at: claim.at, hosts: [] };
        // Hosts come in order, so a host already listed is the last one.
        if (clash.hosts.at(-1) !== host.name) clash.hosts.push(host.name);
        clashes.set(key, clash);
      }
    }
  }
  for (const clash of clashes.values()) {
    const firstClaim = clash.first.refs.ports.find((claim) => claim.port === clash.port);
    const hosts = clash.hosts.length === 1 ? `host ${clash.hosts[0] ?? ''}` : `hosts ${clash.hosts.join(', ')}`;
    issues.push(
      specIssue(
        'E_PORT_CLASH',
        clash.at,
        `port ${clash.port} on ${hosts} is claimed by both ${clash.first.spec.name}${firstClaim === undefined ? '' : ` (${where(firstClaim.at)})`} and ${clash.second.spec.name}`,
        'Give one of the services another port, or put them in groups that share no host.',
      ),
    );
  }
}

function checkUnits(services: readonly BuiltService[], issues: Issue[]): void {
  const owners = new Map<string, { service: string; at: FileLocation }>();
  const claims = [...services]
    .sort((a, b) => compareText(a.spec.name, b.spec.name))
    .flatMap(({ spec, refs }) => refs.units.map((claim, order) => ({ ...claim, service: spec.name, order })))
    // A service's own unit claims its name before any timer of another service can.
    .sort((a, b) => a.order - b.order);
  for (const claim of claims) {
    const owner = owners.get(claim.unit);
    if (owner === undefined) {
      owners.set(claim.unit, { service: claim.service, at: claim.at });
      continue;
    }
    issues.push(
      specIssue(
        'E_UNIT_CLASH',
        claim.at,
        `the unit ${claim.unit}.service of ${claim.service} would have the same name as a unit of ${owner.service} (${where(owner.at)})`,
        'Timer units are named <service>-<timer>: rename the timer or one of the services.',
      ),
    );
  }
}

/**
 * Every `{{ host.vars.<name> }}` a service's environments use must be a var of every host of its group:
 * the env file is rendered per host, and a host without the var would get no value to write. One issue
 * per (service, var), at the first env line that uses it, naming the hosts that lack it. Work in
 * proportion to the service instances times the vars each service uses.
 */
function checkHostVars(services: readonly BuiltService[], inventory: BuiltInventory, issues: Issue[]): void {
  const hosts = new Map(inventory.inventory.hosts.map((host) => [host.name, host]));
  for (const { spec } of services) {
    if (!spec.hostDependent) continue;
    const used = new Map<string, FileLocation>();
    for (const variable of spec.environment) {
      for (const part of variable.parts) if (part.kind === 'host-var' && !used.has(part.name)) used.set(part.name, variable.source);
    }
    const members = inventory.inventory.groups.get(spec.group) ?? [];
    for (const [name, at] of used) {
      const missing = members.filter((host) => hosts.get(host)?.vars.has(name) === false);
      if (missing.length === 0) continue;
      const shown = missing.length > 10 ? `${missing.slice(0, 10).join(', ')} and ${missing.length - 10} more` : missing.join(', ');
      issues.push(
        specIssue(
          'E_HOST_VAR_MISSING',
          at,
          `service.environments: {{ host.vars.${name} }} is not set on host${missing.length === 1 ? '' : 's'} ${shown} of group ${spec.group}`,
          `Add \`vars: { ${name}: ... }\` to ${missing.length === 1 ? 'that host' : 'those hosts'} in inventory.yml.`,
        ),
      );
    }
  }
}

export function checkCrossRules(input: CrossRuleInput): CrossRuleResult {
  const issues: Issue[] = [];
  const warnings: Issue[] = [];
  checkDuplicates(input.declared, issues);
  checkAfter(input.services, input.folders, issues);
  checkCycles(input.services, issues);
  checkUnits(input.services, issues);
  if (input.inventory !== undefined) {
    checkGroups(input.services, input.inventory, issues, warnings);
    checkPorts(input.services, input.inventory, issues);
    checkHostVars(input.services, input.inventory, issues);
  }
  return { issues, warnings };
}
