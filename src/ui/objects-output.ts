// kubectl's object outputs for a command's report: name, jsonpath=…, custom-columns=…, beside human/json/yaml.
import { InputError } from '../core/errors.js';
import { customColumns, jsonpath } from './jsonpath.js';
import { formatData } from './print.js';
import { renderTable } from './table.js';

export type ObjectOutput = { kind: 'human' | 'wide' | 'json' | 'yaml' | 'name' } | { kind: 'jsonpath'; template: string } | { kind: 'custom-columns'; spec: string };

export function parseObjectOutput(o: string): ObjectOutput {
  if (['human', 'wide', 'json', 'yaml', 'name'].includes(o)) return { kind: o as 'human' };
  const m = /^(jsonpath|custom-columns)=(.*)$/s.exec(o);
  if (m && m[2]) return m[1] === 'jsonpath' ? { kind: 'jsonpath', template: m[2] } : { kind: 'custom-columns', spec: m[2] };
  if (o === 'jsonpath' || o === 'custom-columns' || m) throw new InputError(`-o ${o} needs a template: -o ${o.replace(/=.*/, '')}=${o.startsWith('jsonpath') ? '{.nodes[*].node}' : 'NODE:.node,RUNNING:.running'}.`);
  throw new InputError(`-o ${o} is not an output format; use human, wide, json, yaml, name, jsonpath=TEMPLATE or custom-columns=SPEC.`);
}

/** The text for the machine-facing outputs; undefined for human/wide (the command renders those). */
export function formatObjects(out: ObjectOutput, report: unknown, items: { kind: string; name: string; value: unknown }[], noHeaders: boolean): string | undefined {
  const plain = JSON.parse(formatData('json', report)) as unknown;
  switch (out.kind) {
    case 'json':
    case 'yaml':
      return formatData(out.kind, report);
    case 'name':
      return items.map((i) => `${i.kind}/${i.name}`).join('\n');
    case 'jsonpath':
      return jsonpath(out.template, plain);
    case 'custom-columns': {
      const { headers, rows } = customColumns(out.spec, items.map((i) => JSON.parse(formatData('json', i.value)) as unknown));
      const table = renderTable(headers, rows);
      return noHeaders ? table.split('\n').slice(1).join('\n') : table;
    }
    default:
      return undefined;
  }
}
