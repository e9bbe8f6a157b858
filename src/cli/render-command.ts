import { TendError } from '../errors/index.js';
import { maskedSecrets, monitoringTargets, monitoringTargetText, renderService, servicesOnHost } from '../render/index.js';
import type { RepoSpec } from '../spec/index.js';
import { EXIT_USAGE, type Command, type Terminal } from './command.js';
import { EXIT_INVALID, loadValidRepo } from './issue-report.js';
import { resolveRepoArgument } from './repo-argument.js';
import { UsageError } from './usage-error.js';

export const renderCommand: Command = {
  name: 'render',
  usage: 'tend render SERVICE [--host HOST] [--json] [DIR] | tend render --monitoring [--json] [DIR]',
  description:
    'Renders the systemd unit, env file and timer units of SERVICE for every host of its group (or one\n' +
    'HOST), byte for byte as tend writes them, except that secrets are shown as <secret:name>: their values\n' +
    'are only read when tend applies. Touches no host.\n\n' +
    'With --monitoring, prints instead the Prometheus file_sd target file of every service with a\n' +
    'metrics_port (file_sd/<service>.json): one target <host address>:<metrics_port> per host of its group,\n' +
    'labelled service, group and host.',
  options: {
    host: { type: 'string', description: 'Render for this host only.', valueName: 'HOST' },
    monitoring: { type: 'boolean', description: 'Print the Prometheus file_sd target files of every service with a metrics_port.' },
    json: { type: 'boolean', description: 'Print [{ host, files: [{ path, mode, kind, sha256, content }] }]; with --monitoring, { service: [targets] }.' },
  },
  exitCodes: [
    [0, 'the files were printed'],
    [EXIT_INVALID, 'the repo is invalid, or SERVICE or HOST is unknown'],
    [EXIT_USAGE, 'usage error'],
  ],
  usageExitCode: EXIT_USAGE,
  maxPositionals: 2,
  async run({ terminal, values, positionals }) {
    if (values['monitoring'] === true) {
      if (typeof values['host'] === 'string') throw new UsageError('--monitoring cannot be combined with --host', 'Monitoring targets cover every host of each service.');
      if (positionals.length > 1) throw new UsageError('--monitoring takes no SERVICE, only the repo DIR', 'For example `tend render --monitoring deploy-repo-example`.');
      const json = values['json'] === true;
      const repo = await resolveRepoArgument(positionals[0], terminal.cwd);
      const loaded = await loadValidRepo(terminal, repo, json);
      if (!loaded.ok) return loaded.exitCode;
      printMonitoringTargets(terminal, loaded.spec, json);
      return 0;
    }
    const [serviceName, dir] = positionals;
    if (serviceName === undefined) {
      throw new UsageError('name the service to render', 'For example `tend render api`; the services are the folders under services/.');
    }
    const json = values['json'] === true;
    const repo = await resolveRepoArgument(dir, terminal.cwd);
    const loaded = await loadValidRepo(terminal, repo, json);
    if (!loaded.ok) return loaded.exitCode;
    const { spec } = loaded;
    const service = spec.services.find((candidate) => candidate.name === serviceName);
    if (service === undefined) {
      throw new TendError('E_UNKNOWN_SERVICE', 'invalid', `no service named "${serviceName}" in ${repo.display || '.'}`, {
        hint: `Services: ${spec.services.map((s) => s.name).join(', ') || '(none)'}.`,
      });
    }
    const groupHosts = spec.inventory.groups.get(service.group) ?? [];
    const members = spec.inventory.members.get(service.group) ?? new Set<string>();
    const wanted = values['host'];
    if (typeof wanted === 'string' && !members.has(wanted)) {
      throw new TendError('E_UNKNOWN_HOST', 'invalid', `${serviceName} does not run on host "${wanted}"`, {
        hint: `Its group ${service.group} has: ${groupHosts.join(', ') || '(no hosts)'}.`,
      });
    }
    const hosts = spec.inventory.hosts.filter((host) => (typeof wanted === 'string' ? host.name === wanted : members.has(host.name)));
    const rendered = hosts.map((host) =>
      renderService({
        service,
        host,
        servicesOnHost: new Set(servicesOnHost(spec, host.name).map((s) => s.name)),
        secrets: maskedSecrets,
      }),
    );
    if (json) {
      terminal.out(`${JSON.stringify(rendered.map(({ host, files }) => ({ host, files })), null, 2)}\n`);
      return 0;
    }
    for (const { host, files } of rendered) {
      for (const file of files) {
        terminal.out(`# --- ${file.path} on ${host} (mode ${file.mode.toString(8).padStart(4, '0')})\n`);
        terminal.out(file.content);
        terminal.out('\n');
      }
    }
    return 0;
  },
};

function printMonitoringTargets(terminal: Terminal, spec: RepoSpec, json: boolean): void {
  const files = monitoringTargets(spec);
  if (json) {
    terminal.out(`${JSON.stringify(Object.fromEntries(files.map((file) => [file.service, file.targets])), null, 2)}\n`);
    return;
  }
  for (const file of files) terminal.out(`# ${file.path}\n${monitoringTargetText(file)}`);
}
