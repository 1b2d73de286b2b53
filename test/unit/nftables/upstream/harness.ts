// Runs the cases ported from kubernetes/kubernetes pkg/proxy/nftables/proxier_test.go
// @ 81810de635aa13aa0a32992f6def3aa9d6025ebc (and its helpers_test.go normalisation and tracer).
//
// A case is one YAML stream: a `kind: Case` document, then the Services, EndpointSlices and Node as
// upstream's makeTestService / makeTestEndpointSlice build them. Upstream's NewFakeProxier is the default:
//   node "test-node", node IP 192.168.0.2 / 2001:db8::1; interface addresses lo 127.0.0.1 ::1, eth0
//   192.168.0.2 192.168.1.2 192.168.99.11 2001:db8::1 2001:db8:1::2; local traffic by CIDR 10.0.0.0/8 /
//   fd00:10::/64; masquerade mark "0x4000"; nodePortAddresses 192.168.0.2/32, 2001:db8::1/128;
//   serviceCIDRs 172.30.0.0/16 / fd00:10:96::/112.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { applyPlatformDefaults, setDefaults, type KubeProxyConfiguration } from '../../../../src/core/config/index.js';
import { buildProxyState, nodeIPs, podCIDRs } from '../../../../src/core/model/index.js';
import type { EndpointSlice, Node, Service } from '../../../../src/core/objects/types.js';
import { renderNftables } from '../../../../src/core/nftables/render.js';
import { layoutById } from '../../../../src/core/nftables/layout.js';
import { traceTable } from '../../../../src/core/nftables/tracer.js';
import type { NftTable } from '../../../../src/core/nftables/types.js';

export const UPSTREAM_COMMIT = '81810de635aa13aa0a32992f6def3aa9d6025ebc';
export const CASE_DIR = dirname(fileURLToPath(import.meta.url));
export const TEST_NODE_NAME = 'test-node';
export const TEST_NODE_IPS = ['192.168.0.2', '192.168.1.2', '192.168.99.11', '2001:db8::1', '2001:db8:1::2'];
export const FAKE_INTERFACE_ADDRESSES = ['127.0.0.1', '::1', ...TEST_NODE_IPS];

export interface FlowTest {
  name: string;
  sourceIP: string;
  protocol?: string;
  destIP: string;
  destPort: number;
  output: string;
  masq?: boolean;
}

export interface CaseFields {
  family?: 'IPv4' | 'IPv6';
  config?: Record<string, unknown>;
  layout?: string;
  expect?: string;
  /** The baseRules file the expected text follows (default base.nft, the 1.34 layout's). */
  base?: string;
  flows?: FlowTest[];
  flowsWithoutEndpoints?: FlowTest[];
  flowOverrides?: Record<string, { output?: string; masq?: boolean }>;
}

export interface UpstreamCase extends CaseFields {
  file: string;
  upstream: string;
  variants?: Array<CaseFields & { name: string }>;
  services: Service[];
  endpointSlices: EndpointSlice[];
  nodes: Node[];
}

export function loadCase(file: string): UpstreamCase {
  let head: Record<string, unknown> | undefined;
  const services: Service[] = [];
  const endpointSlices: EndpointSlice[] = [];
  const nodes: Node[] = [];
  for (const doc of parseAllDocuments(readFileSync(join(CASE_DIR, file), 'utf8'))) {
    if (!('toJS' in doc)) throw new Error(`${file}: bad YAML`);
    if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0]!.message}`);
    const o = doc.toJS() as { kind?: string } | null;
    if (!o) continue;
    if (o.kind === 'Case') head = o as Record<string, unknown>;
    else if (o.kind === 'Service') services.push(o as Service);
    else if (o.kind === 'EndpointSlice') endpointSlices.push(o as EndpointSlice);
    else if (o.kind === 'Node') nodes.push(o as Node);
    else throw new Error(`${file}: unexpected kind ${o.kind}`);
  }
  if (!head) throw new Error(`${file}: no Case document`);
  return { ...(head as unknown as UpstreamCase), file, services, endpointSlices, nodes };
}

function merge(base: Record<string, unknown>, over: Record<string, unknown> | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over ?? {})) {
    const b = out[k];
    out[k] = v && typeof v === 'object' && !Array.isArray(v) && b && typeof b === 'object' && !Array.isArray(b) ? merge(b as Record<string, unknown>, v as Record<string, unknown>) : v;
  }
  return out;
}

const FAKE_CONFIG = { mode: 'nftables', clusterCIDR: '10.0.0.0/8,fd00:10::/64', nodePortAddresses: ['192.168.0.2/32', '2001:db8::1/128'] };
const SERVICE_CIDRS = ['172.30.0.0/16', 'fd00:10:96::/112'];

export function configFor(fields: CaseFields): KubeProxyConfiguration {
  return applyPlatformDefaults(setDefaults(merge(FAKE_CONFIG, fields.config) as never));
}

export function withVariant(c: UpstreamCase, v?: CaseFields & { name: string }): UpstreamCase {
  if (!v) return c;
  const merged = { ...c, ...v, config: merge(c.config ?? {}, v.config) } as UpstreamCase;
  const overrides = v.flowOverrides ?? {};
  const unused = new Set(Object.keys(overrides));
  if (merged.flows) {
    merged.flows = merged.flows.map((f) => {
      const o = overrides[f.name];
      if (!o) return f;
      unused.delete(f.name);
      return { ...f, ...o };
    });
  }
  if (unused.size > 0) throw new Error(`${c.file}: overrides match no flow: ${[...unused].join(', ')}`);
  return merged;
}

export function renderCase(c: UpstreamCase, opts: { withoutEndpoints?: boolean } = {}): NftTable {
  const family = c.family ?? 'IPv4';
  const node = c.nodes.find((n) => n.metadata?.name === TEST_NODE_NAME);
  const state = buildProxyState({ services: c.services, endpointSlices: opts.withoutEndpoints ? [] : c.endpointSlices }, { ipFamily: family, nodeName: TEST_NODE_NAME });
  return renderNftables({
    state,
    config: configFor(c),
    node: { name: TEST_NODE_NAME, ips: node ? nodeIPs(node, family) : [], podCIDRs: node ? podCIDRs(node) : [], localAddresses: FAKE_INTERFACE_ADDRESSES },
    layout: layoutById(c.layout ?? '1.34'),
    masqueradeMark: '0x4000',
    serviceCIDRs: SERVICE_CIDRS,
  });
}

/** An expected-text file (comment lines are dropped by the normaliser anyway). */
export function readNft(file: string): string {
  return readFileSync(join(CASE_DIR, file), 'utf8');
}

// ---- helpers_test.go's normalisation ----

const OBJECT_ORDER: Record<string, number> = { table: 10, chain: 9, rule: 8, set: 7, map: 6, element: 5 };

/**
 * sortNFTablesTransaction: drop blank and "#" lines; stable-sort by object type (table, chain, rule,
 * set, map, element), then by object name (the 5th word); rules of one chain keep their order; other
 * lines of one object sort as whole lines. Go's sort.SliceStable with upstream's (not quite strict)
 * less function: ported as a stable merge sort over the same comparison.
 */
export function sortLikeUpstream(tx: string): string {
  const lines = tx.split('\n').filter((l) => l !== '' && l[0] !== '#');
  const less = (li: string, lj: string): boolean => {
    const wi = li.split(' ');
    const wj = lj.split(' ');
    if (wi.length < 5 || wj.length < 5) return false;
    if (wi[1] !== wj[1]) return (OBJECT_ORDER[wi[1]!] ?? 0) >= (OBJECT_ORDER[wj[1]!] ?? 0);
    if (wi[4] !== wj[4]) return wi[4]! < wj[4]!;
    if (wi[1] === 'rule') return false;
    return li < lj;
  };
  return insertionSortStable(lines, less).join('\n');
}

/** Go's SliceStable is an insertion-sort/symMerge hybrid; for a consistent order, any stable sort agrees. */
function insertionSortStable(a: string[], less: (x: string, y: string) => boolean): string[] {
  const idx = a.map((s, i) => ({ s, i }));
  idx.sort((x, y) => (less(x.s, y.s) ? -1 : less(y.s, x.s) ? 1 : x.i - y.i));
  return idx.map((x) => x.s);
}

// ---- runPacketFlowTests over our tracer ----

export function tracePacket(t: NftTable, f: FlowTest): { output: string; masq: boolean; hops: string[] } {
  const r = traceTable(t, { src: f.sourceIP, dst: f.destIP, dport: f.destPort, protocol: f.protocol ?? 'TCP', entry: 'external' }, { localAddresses: FAKE_INTERFACE_ADDRESSES });
  let output: string;
  if (r.endpoints.length > 0) output = r.endpoints.map((e) => (e.ip.includes(':') ? `[${e.ip}]:${e.port}` : `${e.ip}:${e.port}`)).join(', ');
  else if (r.verdict === 'rejected') output = 'REJECT';
  else if (r.verdict === 'dropped') output = 'DROP';
  else output = '';
  return { output, masq: r.endpoints.some((e) => e.masquerade), hops: r.hops.map((h) => `${h.chain}: ${h.rule} -> ${h.action}`) };
}
