import { InternalError } from '../errors/index.js';
import type { EnvPart, EnvVar, HostSpec, ServiceSpec } from '../spec/model.js';
import type { SecretResolver } from './secrets.js';
import { envKey, envValue } from './systemd-quoting.js';
import { headerLines } from './unit-syntax.js';

function partValue(part: EnvPart, variable: EnvVar, secrets: SecretResolver, host: HostSpec): string {
  switch (part.kind) {
    case 'text':
      return part.text;
    case 'secret':
      return secrets.resolve(part.name, variable.source);
    case 'host-name':
      return host.name;
    case 'host-var': {
      const value = host.vars.get(part.name);
      // The loader checks every host of the group has the var (E_HOST_VAR_MISSING).
      if (value === undefined) throw new InternalError(`host ${host.name} has no var ${part.name}, which ${variable.key} uses`);
      return value;
    }
  }
}

/** One variable's value: its text parts as written, its secret parts through the resolver, its host parts from `host`. */
export function envVarValue(variable: EnvVar, secrets: SecretResolver, host: HostSpec): string {
  return variable.parts.map((part) => partValue(part, variable, secrets, host)).join('');
}

/**
 * The EnvironmentFile= of a service (and of its timers' oneshot services), sorted by key so that moving
 * lines around in the spec changes no byte on the host. `{{ host.* }}` values come from `host`, so such a
 * file differs per host. If a key repeats, the last one wins, exactly as
 * systemd would read the unsorted file; only that one is written.
 */
export function renderEnvFile(service: ServiceSpec, secrets: SecretResolver, host: HostSpec): string {
  const lastByKey = new Map<string, EnvVar>();
  for (const variable of service.environment) lastByKey.set(envKey(variable.key), variable);
  const keys = [...lastByKey.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const lines = headerLines(service.name);
  for (const key of keys) {
    const variable = lastByKey.get(key);
    if (variable === undefined) continue;
    lines.push(`${key}=${envValue(envVarValue(variable, secrets, host), `environment variable ${key} of ${service.name}`)}`);
  }
  return `${lines.join('\n')}\n`;
}
