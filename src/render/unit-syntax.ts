import { OWNERSHIP_MARKER } from './host-layout.js';

/**
 * The one writer of systemd's ini-like syntax, so every file tend renders has the same canonical shape:
 * the ownership marker first, sections in the order given, settings in the order given (order matters to
 * systemd for list settings, so callers choose it deliberately), one blank line between sections, `\n`
 * line ends and one trailing newline. Values arrive already quoted by systemd-quoting.ts.
 */
export type Setting = readonly [key: string, value: string];

export interface Section {
  readonly name: 'Unit' | 'Service' | 'Timer' | 'Install';
  readonly settings: readonly Setting[];
}

/** `# tend-service: <name>` lets a person (and observe) see which service a file belongs to. */
export function headerLines(service: string): string[] {
  return [OWNERSHIP_MARKER, `# tend-service: ${service}`];
}

export function formatUnitFile(header: readonly string[], sections: readonly Section[]): string {
  const blocks = [header.join('\n')];
  for (const section of sections) {
    if (section.settings.length === 0) continue;
    blocks.push([`[${section.name}]`, ...section.settings.map(([key, value]) => `${key}=${value}`)].join('\n'));
  }
  return `${blocks.join('\n\n')}\n`;
}
