// Writes the bench's large YAML input: a synthetic cluster as `kubectl get -o yaml` prints it (a List, block
// style, sequences not indented under their key). Run as a script in its own process, so the bench's peak RSS
// is the reader's alone: node --import tsx bench/yaml-gen.ts OUT SERVICES ENDPOINTS_PER_SERVICE
import { createWriteStream } from 'node:fs';
import { syntheticCluster } from './synthetic.js';

const PLAIN = /^[A-Za-z/][A-Za-z0-9_./-]*$/;
const RESERVED = /^(?:true|false|null|yes|no|on|off|y|n|~)$/i;

function scalar(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  const s = String(v);
  return PLAIN.test(s) && !RESERVED.test(s) ? s : JSON.stringify(s);
}

/** go-yaml's block style. */
export function toYAML(v: unknown, indent = 0, out: string[] = []): string[] {
  const pad = ' '.repeat(indent);
  if (Array.isArray(v)) {
    for (const item of v) {
      if (item && typeof item === 'object' && !Array.isArray(item) && Object.keys(item).length) {
        const lines = toYAML(item, indent + 2);
        out.push(`${pad}- ${lines[0]!.slice(indent + 2)}`, ...lines.slice(1));
      } else out.push(`${pad}- ${emptyOrScalar(item)}`);
    }
    return out;
  }
  for (const [k, val] of Object.entries(v as Record<string, unknown>)) {
    if (val && typeof val === 'object' && (Array.isArray(val) ? val.length : Object.keys(val).length)) {
      out.push(`${pad}${scalar(k)}:`);
      toYAML(val, Array.isArray(val) ? indent : indent + 2, out);
    } else out.push(`${pad}${scalar(k)}: ${emptyOrScalar(val)}`);
  }
  return out;
}

const emptyOrScalar = (v: unknown) => (Array.isArray(v) ? '[]' : v && typeof v === 'object' ? '{}' : scalar(v));

if (process.argv[1]?.endsWith('yaml-gen.ts')) {
  const [out, services, per] = process.argv.slice(2);
  const c = syntheticCluster({ services: Number(services), endpointsPerService: Number(per), seed: 7 });
  const w = createWriteStream(out!);
  w.write('apiVersion: v1\nkind: List\nmetadata:\n  resourceVersion: ""\nitems:\n');
  for (const o of [...c.nodes, ...c.services, ...c.endpointSlices]) w.write(`${toYAML([o]).join('\n')}\n`);
  w.end();
}
