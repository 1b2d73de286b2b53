// --set cm/kube-proxy:FIELD=VALUE: a field of the KubeProxyConfiguration the ConfigMap holds (config.conf,
// or config on EKS), edited in its text so every other line stays, then decoded and validated by the
// configuration loader as kube-proxy would read it. What it would refuse, or ignore, is refused here.
import { parseDocument } from 'yaml';
import { configFromConfigMap, configMapKey } from '../config/index.js';
import { InputError, ProxymodeError } from '../errors.js';
import type { ConfigMap } from '../objects/types.js';
import { pathString, type Edit } from './spec.js';

export function editConfigMap(cm: ConfigMap, edit: Extract<Edit, { kind: 'set' }>): { configMap: ConfigMap; change: string } {
  const key = configMapKey(cm);
  const name = `${cm.metadata?.namespace ?? 'default'}/${cm.metadata?.name}`;
  if (!key) throw new InputError(`${edit.flag}: ConfigMap ${name} holds no KubeProxyConfiguration to edit${cm.metadata?.name === 'kube-proxy' ? ' (on EKS it is in cm/kube-proxy-config)' : ''}.`);
  const field = pathString(edit.path);
  if (['apiVersion', 'kind'].includes(String(edit.path[0]))) throw new InputError(`${edit.flag}: ${field} names the document, not a setting; set a KubeProxyConfiguration field such as mode.`);
  const doc = parseDocument(cm.data![key]!);
  const before: unknown = doc.getIn(edit.path);
  if (edit.value === null) doc.deleteIn(edit.path);
  else doc.setIn(edit.path, edit.value);
  const original = cm.data![key]!;
  const printed = doc.toString();
  // the block literal as written: a trailing newline only when it had one
  const text = original.endsWith('\n') ? printed : printed.replace(/\n$/, '');
  const copy: ConfigMap = { ...cm, data: { ...cm.data, [key]: text } };

  const source = `ConfigMap ${name}`;
  let loaded;
  try {
    loaded = configFromConfigMap(copy, source);
  } catch (err) {
    if (!(err instanceof ProxymodeError)) throw err;
    throw new InputError(`${edit.flag}: ${stripWhere(err.message)}`);
  }
  // an unknown field is only a warning to kube-proxy (it is ignored): here it is a mistyped path
  const unknown = loaded.warnings.find((w) => w.includes('unknown field') && w.includes(`"${dotted(edit.path)}"`));
  if (unknown) throw new InputError(`${edit.flag}: ${stripWhere(unknown).replace(/ is ignored by kube-proxy.*$/, '')} is not a KubeProxyConfiguration field.`);
  const problem = loaded.problems[0];
  if (problem) throw new InputError(`${edit.flag}: kube-proxy would refuse to start with it: ${stripWhere(problem)}`);
  const show = (v: unknown) => (v === undefined ? '(unset)' : v === null ? 'null' : typeof v === 'object' ? JSON.stringify(toJS(v)) : String(v));
  return { configMap: copy, change: `${key} ${field}: ${show(before)} → ${edit.value === null ? '(removed)' : show(edit.value)}` };
}

/** "ConfigMap kube-system/kube-proxy: config.conf line 3: mode …" → "mode …". */
function stripWhere(message: string): string {
  return message.replace(/^.*?line \d+: /, '').replace(/^ConfigMap [^:]*: /, '');
}

function dotted(path: readonly (string | number)[]): string {
  return path.map((s) => (typeof s === 'number' ? `[${s}]` : s)).join('.').replace(/\.\[/g, '[');
}

function toJS(v: unknown): unknown {
  return v && typeof (v as { toJSON?: () => unknown }).toJSON === 'function' ? (v as { toJSON: () => unknown }).toJSON() : v;
}
