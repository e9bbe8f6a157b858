import type { EnvVar, ServiceSpec } from '../spec/model.js';
import type { SecretResolver } from './secrets.js';
import { envKey, envValue } from './systemd-quoting.js';
import { headerLines } from './unit-syntax.js';

/** One variable's value: its text parts as written, its secret parts through the resolver. */
export function envVarValue(variable: EnvVar, secrets: SecretResolver): string {
  return variable.parts.map((part) => (part.kind === 'text' ? part.text : secrets.resolve(part.name, variable.source))).join('');
}

/**
 * The EnvironmentFile= of a service (and of its timers' oneshot services), sorted by key so that moving
 * lines around in the spec changes no byte on the host. If a key repeats, the last one wins, exactly as
 * systemd would read the unsorted file; only that one is written.
 */
export function renderEnvFile(service: ServiceSpec, secrets: SecretResolver): string {
  const lastByKey = new Map<string, EnvVar>();
  for (const variable of service.environment) lastByKey.set(envKey(variable.key), variable);
  const keys = [...lastByKey.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const lines = headerLines(service.name);
  for (const key of keys) {
    const variable = lastByKey.get(key);
    if (variable === undefined) continue;
    lines.push(`${key}=${envValue(envVarValue(variable, secrets), `environment variable ${key} of ${service.name}`)}`);
  }
  return `${lines.join('\n')}\n`;
}
