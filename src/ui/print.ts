// Machine output (json, yaml) goes to stdout alone; anything for a person's eyes alone goes to stderr.
import { stringify } from 'yaml';

export type OutputFormat = 'human' | 'wide' | 'json' | 'yaml';
export const OUTPUT_FORMATS: readonly OutputFormat[] = ['human', 'wide', 'json', 'yaml'];

export function formatData(format: 'json' | 'yaml', data: unknown): string {
  // Counters read from iptables-save -c are bigints; JSON has no such type, so they print as strings.
  const plain = (_key: string, value: unknown) => (typeof value === 'bigint' ? value.toString() : value);
  return format === 'json' ? JSON.stringify(data, plain, 2) + '\n' : stringify(JSON.parse(JSON.stringify(data, plain)), { lineWidth: 0 });
}

export function writeOut(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : text + '\n');
}

export function warn(message: string): void {
  process.stderr.write(`Warning: ${message}\n`);
}
