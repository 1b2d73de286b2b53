// YAML/JSON text -> a KubeProxyConfiguration as written, typed field by field, with the line of every
// field, the way kube-proxy's loadConfig decodes its --config file:
//
//   - the scheme's UniversalDecoder decodes strictly first; a strict-only failure (an unknown or
//     duplicated field) falls back to a lenient decoder and kube-proxy just logs "Using lenient
//     decoding as strict decoding failed" — so unknown fields are WARNINGS here, and they are ignored.
//     Field names are case-sensitive (sigs.k8s.io/json), so "Mode: ipvs" is an unknown field.
//   - any other decoding failure is fatal ("failed to decode"): a value of the wrong JSON type
//     (masqueradeBit: "14", syncPeriod: 30, strictARP: "true"), a duration time.ParseDuration refuses,
//     a missing or unregistered apiVersion/kind — so those are InputErrors naming the line.
//   - YAML reaches the decoder through sigs.k8s.io/yaml (go-yaml v2, YAML 1.1), so plain yes/no/on/off
//     are booleans there; we accept them for boolean fields.
//   - null is what kubeadm writes for unset pointer fields (masqueradeBit: null); it means "unset".
// Upstream read: cmd/kube-proxy/app/server.go loadConfig/newLenientSchemeAndCodecs (kubernetes
// v1.29-era copy in the stored index; unchanged in later versions seen).
import { isAlias, isMap, isScalar, isSeq, type Document, type Node, type Scalar, type YAMLMap } from 'yaml';
import { InputError } from '../errors.js';
import { DurationError, parseDurationNanos } from './duration.js';
import type { KubeProxyConfigurationInput } from './types.js';

/** Where a line of the decoded text is, as a message prefix: "file.yaml:12" or "file.yaml: config.conf line 3". */
export type Locate = (line: number | undefined) => string;

type FieldType =
  | { t: 'string' | 'bool' | 'float' | 'duration' | 'durationOrInt' | 'quantity' | 'stringList' | 'boolMap' | 'any' }
  | { t: 'int32' | 'uint32' }
  | { t: 'object'; fields: Schema };
interface FieldSpec {
  type: FieldType;
  /** A field only older kube-proxy versions know: decoded, but warned about. */
  legacy?: string;
}
type Schema = Record<string, FieldSpec>;

const f = (t: 'string' | 'bool' | 'float' | 'duration' | 'durationOrInt' | 'quantity' | 'stringList' | 'boolMap' | 'any' | 'int32' | 'uint32', legacy?: string): FieldSpec =>
  legacy ? { type: { t } as FieldType, legacy } : { type: { t } as FieldType };
const obj = (fields: Schema): FieldSpec => ({ type: { t: 'object', fields } });

const LOGGING_FORMAT_OPTIONS: Schema = { splitStream: f('bool'), infoBufferSize: f('quantity') };

/** Every field of kubeproxy.config.k8s.io/v1alpha1 KubeProxyConfiguration (types.go @ 052d2d84f95e),
 * plus legacy fields of older versions. */
export const KUBE_PROXY_SCHEMA: Schema = {
  apiVersion: f('string'),
  kind: f('string'),
  featureGates: f('boolMap'),
  clientConnection: obj({
    kubeconfig: f('string'),
    acceptContentTypes: f('string'),
    contentType: f('string'),
    qps: f('float'),
    burst: f('int32'),
  }),
  logging: obj({
    format: f('string'),
    flushFrequency: f('durationOrInt'),
    verbosity: f('uint32'),
    vmodule: f('any'),
    options: obj({ text: obj(LOGGING_FORMAT_OPTIONS), json: obj(LOGGING_FORMAT_OPTIONS) }),
  }),
  hostnameOverride: f('string'),
  bindAddress: f('string'),
  healthzBindAddress: f('string'),
  metricsBindAddress: f('string'),
  bindAddressHardFail: f('bool'),
  enableProfiling: f('bool'),
  showHiddenMetricsForVersion: f('string'),
  mode: f('string'),
  iptables: obj({
    masqueradeBit: f('int32'),
    masqueradeAll: f('bool'),
    localhostNodePorts: f('bool'),
    snatNodeInternalIP: f('bool'),
    syncPeriod: f('duration'),
    minSyncPeriod: f('duration'),
  }),
  ipvs: obj({
    syncPeriod: f('duration'),
    minSyncPeriod: f('duration'),
    scheduler: f('string'),
    excludeCIDRs: f('stringList'),
    strictARP: f('bool'),
    tcpTimeout: f('duration'),
    tcpFinTimeout: f('duration'),
    udpTimeout: f('duration'),
  }),
  nftables: obj({
    masqueradeBit: f('int32'),
    masqueradeAll: f('bool'),
    syncPeriod: f('duration'),
    minSyncPeriod: f('duration'),
  }),
  winkernel: obj({
    networkName: f('string'),
    sourceVip: f('string'),
    enableDSR: f('bool'),
    rootHnsEndpointName: f('string'),
    forwardHealthCheckVip: f('bool'),
  }),
  detectLocalMode: f('string'),
  detectLocal: obj({ bridgeInterface: f('string'), interfaceNamePrefix: f('string') }),
  clusterCIDR: f('string'),
  nodePortAddresses: f('stringList'),
  oomScoreAdj: f('int32'),
  conntrack: obj({
    maxPerCore: f('int32'),
    min: f('int32'),
    tcpEstablishedTimeout: f('duration'),
    tcpCloseWaitTimeout: f('duration'),
    tcpBeLiberal: f('bool'),
    udpTimeout: f('duration'),
    udpStreamTimeout: f('duration'),
    max: f('int32', 'conntrack.max was removed from kube-proxy in 1.19 (use conntrack.maxPerCore and conntrack.min)'),
  }),
  configSyncPeriod: f('duration'),
  portRange: f('string'),
  windowsRunAsService: f('bool'),
  udpIdleTimeout: f('duration', 'udpIdleTimeout only exists in kube-proxy 1.25 and older (userspace mode)'),
  resourceContainer: f('string', 'resourceContainer was removed from kube-proxy in 1.16'),
};

export interface DecodedConfig {
  /** Typed, as written (nulls kept). */
  input: KubeProxyConfigurationInput;
  /** Plain JS value, as written. */
  raw: Record<string, unknown>;
  /** Line of each written field, by JSON path ("iptables.syncPeriod", "nodePortAddresses[1]"). */
  lines: Map<string, number>;
  warnings: string[];
}

export function yamlErrorText(message: string): string {
  return message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
}

/** Decodes a parsed KubeProxyConfiguration mapping; `lineOf` maps a text offset to its line. */
export function decodeKubeProxyConfigurationNode(doc: Document, node: unknown, lineOf: (offset: number) => number, locate: Locate): DecodedConfig {
  const ctx: DecodeContext = { doc, lineOf, locate, lines: new Map(), warnings: [] };
  const root = resolve(doc, node);
  if (!isMap(root)) {
    const line = root && typeof root === 'object' && 'range' in root ? lineAt(ctx, root as Node) : 1;
    throw new InputError(`${locate(line)}: expected a KubeProxyConfiguration mapping (apiVersion, kind, mode, …); fix the file and try again.`);
  }
  const input = decodeObject(ctx, root, KUBE_PROXY_SCHEMA, '') as KubeProxyConfigurationInput;
  const raw = (root.toJS(doc, { maxAliasCount: 1000 }) ?? {}) as Record<string, unknown>;
  return { input, raw, lines: ctx.lines, warnings: ctx.warnings };
}

interface DecodeContext {
  doc: Document;
  lineOf: (offset: number) => number;
  locate: Locate;
  lines: Map<string, number>;
  warnings: string[];
}

function resolve(doc: Document, node: unknown): unknown {
  let n = node;
  for (let i = 0; i < 100 && isAlias(n); i++) n = n.resolve(doc);
  return n;
}

function lineAt(ctx: DecodeContext, node: Node | null | undefined): number | undefined {
  const offset = node?.range?.[0];
  return offset === undefined ? undefined : ctx.lineOf(offset);
}

function join(prefix: string, key: string): string {
  return prefix === '' ? key : `${prefix}.${key}`;
}

function decodeObject(ctx: DecodeContext, map: YAMLMap, schema: Schema, path: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const seen = new Set<unknown>();
  for (const pair of map.items) {
    const keyNode = resolve(ctx.doc, pair.key);
    const key = isScalar(keyNode) ? keyNode.value : keyNode;
    const keyLine = lineAt(ctx, keyNode as Node);
    if (typeof key !== 'string') {
      ctx.warnings.push(`${ctx.locate(keyLine)}: the non-string key ${JSON.stringify(String(key))}${path ? ` in ${path}` : ''} is not a KubeProxyConfiguration field and kube-proxy ignores it; remove it.`);
      continue;
    }
    const fieldPath = join(path, key);
    if (seen.has(key)) {
      // A strict-only failure: kube-proxy decodes leniently, where the last value wins, and logs a warning.
      ctx.warnings.push(`${ctx.locate(keyLine)}: the field "${fieldPath}" is given twice; kube-proxy falls back to lenient decoding (logging a warning) and uses this later value; remove one of them.`);
    }
    seen.add(key);
    const spec = Object.hasOwn(schema, key) ? schema[key] : undefined;
    if (!spec) {
      ctx.warnings.push(unknownFieldWarning(ctx.locate(keyLine), fieldPath, key, schema));
      continue;
    }
    if (keyLine !== undefined) ctx.lines.set(fieldPath, keyLine);
    if (spec.legacy) {
      ctx.warnings.push(`${ctx.locate(keyLine)}: ${spec.legacy}, so newer kube-proxy ignores it (logging a lenient-decoding warning); remove it unless you run such an old kube-proxy.`);
    }
    out[key] = decodeValue(ctx, pair.value, spec.type, fieldPath, keyLine);
  }
  return out;
}

function unknownFieldWarning(where: string, fieldPath: string, key: string, schema: Schema): string {
  const near = Object.keys(schema).find((k) => k.toLowerCase() === key.toLowerCase());
  const hint = near ? `; did you mean "${near}" (field names are case-sensitive)?` : '; remove or correct it.';
  return `${where}: unknown field "${fieldPath}" is ignored by kube-proxy (it falls back to lenient decoding and logs a warning)${hint}`;
}

function decodeValue(ctx: DecodeContext, valueNode: unknown, type: FieldType, path: string, keyLine: number | undefined): unknown {
  const node = resolve(ctx.doc, valueNode);
  const line = lineAt(ctx, node as Node) ?? keyLine;
  const where = ctx.locate(line);
  if (node === null || node === undefined) return null; // "key:" with no value
  if (isScalar(node) && node.value === null) return null;
  switch (type.t) {
    case 'object': {
      if (!isMap(node)) throw typeError(where, path, 'a mapping', node);
      return decodeObject(ctx, node, type.fields, path);
    }
    case 'any':
      return (node as Node).toJS(ctx.doc, { maxAliasCount: 1000 });
    case 'string': {
      if (!isScalar(node) || typeof node.value !== 'string') throw typeError(where, path, 'a string', node);
      return node.value;
    }
    case 'bool':
      return decodeBool(node, where, path);
    case 'int32':
    case 'uint32': {
      if (!isScalar(node) || typeof node.value !== 'number' || !Number.isInteger(node.value) || !isIntegerSource(numberSource(node))) {
        throw typeError(where, path, type.t === 'int32' ? 'an integer' : 'a non-negative integer', node);
      }
      const [min, max] = type.t === 'int32' ? [-2147483648, 2147483647] : [0, 4294967295];
      if (node.value < min || node.value > max) {
        throw new InputError(`${where}: ${path} is ${node.value}, which does not fit ${type.t === 'int32' ? 'a 32-bit integer' : 'an unsigned 32-bit integer'}; use a smaller number.`);
      }
      return node.value;
    }
    case 'float': {
      if (!isScalar(node) || typeof node.value !== 'number' || !Number.isFinite(node.value)) throw typeError(where, path, 'a number', node);
      return node.value;
    }
    case 'duration':
      return decodeDuration(node, where, path, false);
    case 'durationOrInt':
      return decodeDuration(node, where, path, true);
    case 'quantity': {
      if (!isScalar(node) || (typeof node.value !== 'string' && typeof node.value !== 'number')) throw typeError(where, path, 'a quantity such as "0" or "64Ki"', node);
      return String(node.value);
    }
    case 'stringList': {
      if (!isSeq(node)) throw typeError(where, path, 'a list of strings', node);
      return node.items.map((item, i) => {
        const itemNode = resolve(ctx.doc, item);
        const itemPath = `${path}[${i}]`;
        const itemLine = lineAt(ctx, itemNode as Node) ?? line;
        if (itemLine !== undefined) ctx.lines.set(itemPath, itemLine);
        if (!isScalar(itemNode) || typeof itemNode.value !== 'string') throw typeError(ctx.locate(itemLine), itemPath, 'a string', itemNode);
        return itemNode.value;
      });
    }
    case 'boolMap': {
      if (!isMap(node)) throw typeError(where, path, 'a mapping of names to true or false', node);
      const out: Record<string, boolean> = {};
      for (const pair of node.items) {
        const keyNode = resolve(ctx.doc, pair.key);
        const key = isScalar(keyNode) ? String(keyNode.value) : String(keyNode);
        const itemPath = `${path}.${key}`;
        const itemLine = lineAt(ctx, keyNode as Node) ?? line;
        if (itemLine !== undefined) ctx.lines.set(itemPath, itemLine);
        const v = resolve(ctx.doc, pair.value);
        out[key] = decodeBool(v, ctx.locate(itemLine), itemPath);
      }
      return out;
    }
  }
}

// go-yaml v2 (YAML 1.1) resolves these plain scalars to booleans.
const YAML11_TRUE = new Set(['y', 'Y', 'yes', 'Yes', 'YES', 'on', 'On', 'ON']);
const YAML11_FALSE = new Set(['n', 'N', 'no', 'No', 'NO', 'off', 'Off', 'OFF']);

function decodeBool(node: unknown, where: string, path: string): boolean {
  if (isScalar(node)) {
    if (typeof node.value === 'boolean') return node.value;
    if (typeof node.value === 'string' && node.type === 'PLAIN') {
      if (YAML11_TRUE.has(node.value)) return true;
      if (YAML11_FALSE.has(node.value)) return false;
    }
  }
  throw typeError(where, path, 'true or false', node);
}

function decodeDuration(node: unknown, where: string, path: string, allowInt: boolean): string | number {
  if (isScalar(node) && typeof node.value === 'number' && allowInt && Number.isInteger(node.value)) {
    return node.value; // logging.flushFrequency also takes nanoseconds as a number
  }
  if (!isScalar(node) || typeof node.value !== 'string') {
    if (isScalar(node) && typeof node.value === 'number') {
      throw new InputError(`${where}: ${path} is the bare number ${numberSource(node)}, but kube-proxy reads durations only as strings with a unit; write it like "${node.value}s".`);
    }
    throw typeError(where, path, 'a duration such as "30s"', node);
  }
  try {
    parseDurationNanos(node.value);
  } catch (err) {
    const reason = err instanceof DurationError ? err.message : String(err);
    throw new InputError(`${where}: ${path} ${JSON.stringify(node.value)} is not a duration (${reason}); write it like "30s", "1m" or "2h22m".`);
  }
  return node.value;
}

// JSON decoding into a Go integer refuses 14.0 and 1e3 even though they are whole numbers.
function isIntegerSource(source: string): boolean {
  return /^[+-]?(0x[0-9a-fA-F]+|0o[0-7]+|[0-9]+)$/.test(source);
}

function numberSource(node: Scalar): string {
  return typeof node.source === 'string' ? node.source : String(node.value);
}

function describe(node: unknown): string {
  if (isMap(node)) return 'a mapping';
  if (isSeq(node)) return 'a list';
  if (isScalar(node)) {
    const v = node.value;
    if (typeof v === 'string') return `the string ${JSON.stringify(v)}`;
    if (typeof v === 'number') return `the number ${numberSource(node)}`;
    if (typeof v === 'boolean') return `the boolean ${v}`;
    return String(v);
  }
  return 'an unreadable value';
}

function typeError(where: string, path: string, expected: string, node: unknown): InputError {
  return new InputError(`${where}: ${path} must be ${expected}, but it is ${describe(node)}, so kube-proxy would fail to decode the file; correct the value.`);
}
