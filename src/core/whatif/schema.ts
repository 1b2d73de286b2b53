// The fields of each kind a --set may change: those kube-proxy reads (and labels, annotations), with their
// types as the API defines them. A path outside them is a bad path; a value that does not fit, a bad value.
import { normalizeIP, parseCIDRSloppy } from '../net/ip.js';
import type { ObjectKind, PathStep } from './spec.js';

export type Field =
  | { t: 'string' | 'ip' | 'ipOrNone' | 'cidr' | 'bool' | 'intOrString' }
  | { t: 'int'; min: number; max: number }
  | { t: 'enum'; values: readonly string[] }
  | { t: 'list'; of: Field }
  | { t: 'map' } // string to string: labels, annotations, selector
  | { t: 'object'; fields: Readonly<Record<string, Field>> }
  | { t: 'array'; of: Field }; // a list of objects, edited by index

const str: Field = { t: 'string' };
const bool: Field = { t: 'bool' };
const port: Field = { t: 'int', min: 1, max: 65535 };
const port0: Field = { t: 'int', min: 0, max: 65535 };
const ip: Field = { t: 'ip' };
const cidr: Field = { t: 'cidr' };
const en = (...values: string[]): Field => ({ t: 'enum', values });
const obj = (fields: Record<string, Field>): Field => ({ t: 'object', fields });
const list = (of: Field): Field => ({ t: 'list', of });
const array = (fields: Record<string, Field>): Field => ({ t: 'array', of: obj(fields) });
const protocol = en('TCP', 'UDP', 'SCTP');
const family = en('IPv4', 'IPv6');
const metadata = obj({ labels: { t: 'map' }, annotations: { t: 'map' } });

export const SCHEMAS: Readonly<Record<Exclude<ObjectKind, 'ConfigMap'>, Field>> = {
  Service: obj({
    metadata,
    spec: obj({
      type: en('ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'),
      clusterIP: { t: 'ipOrNone' },
      clusterIPs: list({ t: 'ipOrNone' }),
      ipFamilies: list(family),
      ipFamilyPolicy: en('SingleStack', 'PreferDualStack', 'RequireDualStack'),
      ports: array({ name: str, protocol, port, targetPort: { t: 'intOrString' }, nodePort: port0, appProtocol: str }),
      selector: { t: 'map' },
      externalIPs: list(ip),
      externalName: str,
      sessionAffinity: en('None', 'ClientIP'),
      sessionAffinityConfig: obj({ clientIP: obj({ timeoutSeconds: { t: 'int', min: 1, max: 86400 } }) }),
      externalTrafficPolicy: en('Cluster', 'Local'),
      internalTrafficPolicy: en('Cluster', 'Local'),
      healthCheckNodePort: port0,
      loadBalancerIP: ip,
      loadBalancerSourceRanges: list(cidr),
      loadBalancerClass: str,
      allocateLoadBalancerNodePorts: bool,
      publishNotReadyAddresses: bool,
      trafficDistribution: str,
    }),
    status: obj({ loadBalancer: obj({ ingress: array({ ip, hostname: str, ipMode: en('VIP', 'Proxy') }) }) }),
  }),
  Node: obj({
    metadata,
    spec: obj({ podCIDR: cidr, podCIDRs: list(cidr), unschedulable: bool, providerID: str }),
    status: obj({ addresses: array({ type: en('InternalIP', 'ExternalIP', 'Hostname', 'InternalDNS', 'ExternalDNS'), address: str }) }),
  }),
  EndpointSlice: obj({
    metadata,
    endpoints: array({
      addresses: list(str),
      conditions: obj({ ready: bool, serving: bool, terminating: bool }),
      nodeName: str,
      zone: str,
      hostname: str,
      hints: obj({ forZones: array({ name: str }), forNodes: array({ name: str }) }),
    }),
    ports: array({ name: str, protocol, port, appProtocol: str }),
  }),
};

/** The field a path leads to, or why it leads nowhere (for "… is not a field of …"). */
export function fieldAt(root: Field, path: readonly PathStep[]): { field: Field } | { error: string } {
  let f = root;
  let at = '';
  for (const step of path) {
    if (typeof step === 'number') {
      if (f.t !== 'array' && f.t !== 'list') return { error: `${at || 'the object'} is not a list, so [${step}] leads nowhere` };
      f = f.of;
      at += `[${step}]`;
      continue;
    }
    if (f.t === 'map') {
      f = str;
      at += `.${step}`;
      continue;
    }
    if (f.t !== 'object') return { error: `${at.replace(/^\./, '')} has no fields` };
    const next = f.fields[step];
    if (!next) {
      const known = Object.keys(f.fields);
      return { error: `${at ? `${at.replace(/^\./, '')} has no field "${step}"` : `"${step}" is not a top-level field`} (it has ${known.join(', ')})` };
    }
    f = next;
    at += `.${step}`;
  }
  return { field: f };
}

/**
 * The value as the field takes it, or why it does not fit. Strings take the text as typed (a label value
 * 1 stays "1"), as kubectl's --set-string would; null removes the field.
 */
export function fitValue(field: Field, value: unknown, text: string, name: string): { value: unknown } | { error: string } {
  if (value === null) return { value: null };
  const one = (f: Field, v: unknown, t: string): { value: unknown } | { error: string } => {
    switch (f.t) {
      case 'string':
        return { value: typeof v === 'string' ? v : t };
      case 'bool':
        return typeof v === 'boolean' ? { value: v } : { error: `${name} must be true or false` };
      case 'int':
        return typeof v === 'number' && Number.isInteger(v) && v >= f.min && v <= f.max ? { value: v } : { error: `${name} must be a whole number from ${f.min} to ${f.max}` };
      case 'intOrString':
        return typeof v === 'number' ? (Number.isInteger(v) && v >= 1 && v <= 65535 ? { value: v } : { error: `${name} must be a port number (1 to 65535) or a port name` }) : { value: typeof v === 'string' ? v : t };
      case 'enum':
        return typeof v === 'string' && f.values.includes(v) ? { value: v } : { error: `${name} must be ${orList(f.values)}` };
      case 'ip':
        return typeof v === 'string' && normalizeIP(v) ? { value: v } : { error: `${name} must be an IP address` };
      case 'ipOrNone':
        return typeof v === 'string' && (v === 'None' || v === '' || normalizeIP(v)) ? { value: v } : { error: `${name} must be an IP address or None` };
      case 'cidr':
        return typeof v === 'string' && parseCIDRSloppy(v) ? { value: v } : { error: `${name} must be a CIDR such as 10.0.0.0/8` };
      case 'map':
      case 'object':
        return { error: `${name} is not a single value; set one of its fields (${name}.FIELD=VALUE)` };
      case 'array':
        return { error: `${name} is a list of objects; set a field of one item (${name}[N].FIELD=VALUE)` };
      case 'list':
        return { error: `${name} is a list` };
    }
  };
  if (field.t === 'list') {
    // [a,b] for the whole list; a single value stands for a list of one
    const items = Array.isArray(value) ? value : [value];
    const texts = Array.isArray(value) ? text.replace(/^\s*\[|\]\s*$/g, '').split(',').map((s) => s.trim()) : [text];
    const out: unknown[] = [];
    for (let i = 0; i < items.length; i++) {
      const r = one(field.of, items[i], texts[i] ?? String(items[i]));
      if ('error' in r) return { error: `${r.error.replace(name, `${name}[${i}]`)}` };
      out.push(r.value);
    }
    return { value: out };
  }
  if (Array.isArray(value)) return { error: `${name} takes one value, not a list` };
  return one(field, value, text);
}

function orList(values: readonly string[]): string {
  return values.length <= 2 ? values.join(' or ') : `${values.slice(0, -1).join(', ')} or ${values[values.length - 1]}`;
}
