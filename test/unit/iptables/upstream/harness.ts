// Runs the cases ported from kubernetes/kubernetes pkg/proxy/iptables/proxier_test.go
// @ 531be81208e2274ef42e72525a26610a9622bcdf.
//
// A case is one YAML stream: a `kind: Case` document, then the Services, EndpointSlices and the Node as
// upstream's makeTestService / makeTestEndpointSlice build them. The fake proxier upstream's tests use
// (NewFakeProxier) is the default here:
//   node "test-node", node IP 192.168.0.2; interface addresses (GetNodeIPs) lo 127.0.0.1 ::1, eth0
//   192.168.0.2 192.168.1.2 192.168.99.11 2001:db8::1 2001:db8:1::2; local traffic detected by CIDR
//   10.0.0.0/8 (IPv4) / fd00:10::/64 (IPv6); masquerade mark "0x4000"; localhostNodePorts true;
//   nodePortAddresses unset; both nfacct counters present; no --random-fully; not tcp_be_liberal.
// Case fields: upstream (test name), family, config (KubeProxyConfiguration fields over those
// defaults), render (RenderInput knobs), localAddresses, expect (a .rules file), flows (packet-flow
// tests as upstream's runPacketFlowTests states them), flowsWithoutEndpoints (the same after every
// EndpointSlice is deleted), variants (each a name plus any of those fields, merged over the case).

import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { applyPlatformDefaults, setDefaults, type KubeProxyConfiguration } from '../../../../src/core/config/index.js';
import { buildProxyState, nodeIPs, podCIDRs } from '../../../../src/core/model/index.js';
import type { EndpointSlice, Node, Service } from '../../../../src/core/objects/types.js';
import { jumpRules, renderIptables, type RenderInput, type Rule, type Ruleset } from '../../../../src/core/iptables/index.js';

export const UPSTREAM_COMMIT = '531be81208e2274ef42e72525a26610a9622bcdf';
export const CASE_DIR = dirname(fileURLToPath(import.meta.url));

export const TEST_NODE_NAME = 'test-node';
/** testNodeIPs: the addresses the tracer treats as LOCAL (besides 127.0.0.1 and ::1). */
export const TEST_NODE_IPS = ['192.168.0.2', '192.168.1.2', '192.168.99.11', '2001:db8::1', '2001:db8:1::2'];
/** The fake network's interface addresses, lo first. */
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

type RenderKnobs = Omit<RenderInput, 'state' | 'config' | 'node'>;

export interface CaseFields {
  family?: 'IPv4' | 'IPv6';
  config?: Record<string, unknown>;
  render?: RenderKnobs;
  localAddresses?: string[];
  expect?: string;
  flows?: FlowTest[];
  flowsWithoutEndpoints?: FlowTest[];
  flowsWithoutServices?: FlowTest[];
  /** Per flow name: the output / masq this variant expects instead of the base flow's. */
  flowOverrides?: Record<string, { output?: string; masq?: boolean }>;
  /** assertIPTablesChainEqual: a chain's rules exactly, as restore text without `-A CHAIN `… prefix kept. */
  expectChains?: Array<{ table: string; chain: string; rules: string[] }>;
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
  const text = readFileSync(join(CASE_DIR, file), 'utf8');
  let head: Record<string, unknown> | undefined;
  const services: Service[] = [];
  const endpointSlices: EndpointSlice[] = [];
  const nodes: Node[] = [];
  for (const doc of parseAllDocuments(text)) {
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
    out[k] =
      v && typeof v === 'object' && !Array.isArray(v) && b && typeof b === 'object' && !Array.isArray(b)
        ? merge(b as Record<string, unknown>, v as Record<string, unknown>)
        : v;
  }
  return out;
}

const FAKE_PROXIER_CONFIG = { clusterCIDR: '10.0.0.0/8,fd00:10::/64', iptables: { localhostNodePorts: true } };
const FAKE_PROXIER_RENDER: RenderKnobs = { masqueradeMark: '0x4000', randomFully: false, nfacct: true, conntrackTCPBeLiberal: false };

export function configFor(fields: CaseFields): KubeProxyConfiguration {
  return applyPlatformDefaults(setDefaults(merge(FAKE_PROXIER_CONFIG, fields.config) as never));
}

/** Case fields with a variant's merged over them (flow overrides applied). */
export function withVariant(c: UpstreamCase, v?: CaseFields & { name: string }): UpstreamCase {
  if (!v) return c;
  const merged = {
    ...c,
    ...v,
    config: merge(c.config ?? {}, v.config),
    render: { ...(c.render ?? {}), ...(v.render ?? {}) },
  } as UpstreamCase;
  const overrides = v.flowOverrides ?? {};
  const unused = new Set(Object.keys(overrides));
  if (merged.flows) {
    merged.flows = merged.flows.map((f) => {
      const o = overrides[f.name];
      if (!o) return f;
      unused.delete(f.name);
      return { ...f, ...(o.output !== undefined ? { output: o.output } : {}), ...(o.masq !== undefined ? { masq: o.masq } : {}) };
    });
  }
  if (unused.size > 0) throw new Error(`${c.file}: overrides match no flow: ${[...unused].join(', ')}`);
  return merged;
}

/** checkIPTablesRuleJumps: every jump goes to a created, filled chain; every created chain is used. */
export function checkRuleJumps(rs: Ruleset): string | null {
  const always = new Set([
    'KUBE-SERVICES', 'KUBE-EXTERNAL-SERVICES', 'KUBE-NODEPORTS', 'KUBE-POSTROUTING', 'KUBE-FORWARD',
    'KUBE-MARK-MASQ', 'KUBE-PROXY-FIREWALL', 'KUBE-FIREWALL',
  ]);
  const builtinTargets = new Set(['ACCEPT', 'REJECT', 'DROP', 'MARK', 'RETURN', 'DNAT', 'SNAT', 'MASQUERADE']);
  for (const t of rs.tables) {
    const created = new Set(t.chains.map((c) => c.name));
    const filled = new Set(t.chains.filter((c) => c.rules.length > 0).map((c) => c.name));
    const jumped = new Set<string>();
    for (const c of t.chains) {
      for (const r of c.rules) {
        const i = r.words.indexOf('-j');
        if (i >= 0 && !builtinTargets.has(r.words[i + 1]!)) jumped.add(r.words[i + 1]!);
      }
    }
    for (const j of jumped) {
      if (!created.has(j)) return `${t.name}: ${j} is used but was not created`;
      if (!filled.has(j) && j !== 'KUBE-NODEPORTS') return `${t.name}: ${j} is jumped to but has no rules`;
    }
    for (const c of created) if (!jumped.has(c) && !always.has(c)) return `${t.name}: ${c} is created but not used`;
  }
  return null;
}

/** Renders the case as upstream's fake proxier would see it. */
export function renderCase(c: UpstreamCase, opts: { withoutEndpoints?: boolean; withoutServices?: boolean } = {}): Ruleset {
  const family = c.family ?? 'IPv4';
  const node = c.nodes.find((n) => n.metadata?.name === TEST_NODE_NAME);
  const state = buildProxyState(
    { services: opts.withoutServices ? [] : c.services, endpointSlices: opts.withoutEndpoints ? [] : c.endpointSlices },
    { ipFamily: family, nodeName: TEST_NODE_NAME },
  );
  return renderIptables({
    state,
    config: configFor(c),
    node: {
      name: TEST_NODE_NAME,
      ips: node ? nodeIPs(node, family) : [],
      podCIDRs: node ? podCIDRs(node) : [],
      localAddresses: c.localAddresses ?? FAKE_INTERFACE_ADDRESSES,
    },
    ...FAKE_PROXIER_RENDER,
    ...(c.render ?? {}),
  });
}

/** A .rules file without its leading `#` header lines. */
export function readRules(file: string): string {
  const lines = readFileSync(join(CASE_DIR, file), 'utf8').split('\n');
  let i = 0;
  while (i < lines.length && (lines[i]!.startsWith('#') || lines[i] === '')) i++;
  return lines.slice(i).join('\n');
}

// ---- upstream's packet tracer (tracePacket / runPacketFlowTests), over our Ruleset --------------------

interface ParsedRule {
  raw: string;
  jump?: string;
  probability?: string;
  dnat?: string;
  values: Map<string, { negated: boolean; value: string }>;
  flags: Map<string, boolean>;
}

const VALUE_PARAMS = new Set([
  '--comment', '-p', '-s', '--src-type', '--sport', '-d', '--dst-type', '--dport', '--match-set', '-j',
  '--probability', '--to-destination', '--mark', '--ctstate', '--name', '--seconds', '--mode',
]);
const BOOL_PARAMS = new Set(['--random-fully', '--rcheck', '--set', '--reap']);

/** ParseRule (non-strict): "-m MODULE" skipped, "!" negates the next parameter, unknown words skipped. */
function parseRule(words: string[]): ParsedRule {
  const out: ParsedRule = { raw: words.join(' '), values: new Map(), flags: new Map() };
  let negated = false;
  for (let w = 0; w < words.length; ) {
    const word = words[w]!;
    if (word === '-m' && w < words.length - 1) {
      w += 2;
      continue;
    }
    if (word === '!') {
      negated = true;
      w++;
      continue;
    }
    if (VALUE_PARAMS.has(word) && w + 1 < words.length) {
      out.values.set(word, { negated, value: words[w + 1]! });
      w += 2;
    } else if (BOOL_PARAMS.has(word)) {
      out.flags.set(word, !negated);
      w++;
    } else {
      w++;
    }
    negated = false;
  }
  out.jump = out.values.get('-j')?.value;
  out.probability = out.values.get('--probability')?.value;
  out.dnat = out.values.get('--to-destination')?.value;
  return out;
}

function parseAddr(s: string): { bytes: number[]; v4: boolean } | null {
  if (s.includes(':')) {
    const [head, tail] = s.includes('::') ? s.split('::') : [s, undefined];
    const h = head ? head.split(':') : [];
    const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
    const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
    if (groups.length !== 8 || groups.some((g) => !/^[0-9a-f]{1,4}$/i.test(g))) return null;
    return { bytes: groups.flatMap((g) => [parseInt(g, 16) >> 8, parseInt(g, 16) & 0xff]), v4: false };
  }
  const parts = s.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d+$/.test(p))) return null;
  return { bytes: parts.map(Number), v4: true };
}

/** addressMatches: CIDR containment or IP equality, honouring "!". */
function addressMatches(v: { negated: boolean; value: string }, ip: string): boolean {
  const addr = parseAddr(ip);
  let matches = false;
  if (addr !== null) {
    const [net, bitsText] = v.value.split('/');
    const n = parseAddr(net!);
    if (n !== null && n.v4 === addr.v4) {
      const bits = bitsText === undefined ? n.bytes.length * 8 : Number(bitsText);
      matches = true;
      for (let i = 0; i < bits; i++) {
        const mask = 0x80 >> (i % 8);
        if ((n.bytes[i >> 3]! & mask) !== (addr.bytes[i >> 3]! & mask)) {
          matches = false;
          break;
        }
      }
    }
  }
  return v.negated ? !matches : matches;
}

function valueMatches(v: { negated: boolean; value: string }, cmp: string): boolean {
  return v.negated ? v.value !== cmp : v.value === cmp;
}

class Tracer {
  matches: string[] = [];
  outputs: string[] = [];
  markMasq = false;
  constructor(
    private readonly chains: Map<string, ParsedRule[]>,
    private readonly localIPs: Set<string>,
  ) {}

  private ruleMatches(r: ParsedRule, src: string, proto: string, dst: string, dport: string): boolean {
    const s = r.values.get('-s');
    if (s && !addressMatches(s, src)) return false;
    const st = r.values.get('--src-type');
    if (st && !valueMatches(st, this.localIPs.has(src) ? 'LOCAL' : 'not-matched')) return false;
    const p = r.values.get('-p');
    if (p && !valueMatches(p, proto)) return false;
    const d = r.values.get('-d');
    if (d && !addressMatches(d, dst)) return false;
    const dt = r.values.get('--dst-type');
    if (dt && !valueMatches(dt, this.localIPs.has(dst) ? 'LOCAL' : 'not-matched')) return false;
    const dp = r.values.get('--dport');
    if (dp && !valueMatches(dp, dport)) return false;
    // anything that checks past state does not match
    if (r.flags.has('--rcheck') || r.values.has('--mark') || r.values.has('--ctstate')) return false;
    return true;
  }

  runChain(table: string, chain: string, src: string, proto: string, dst: string, dport: string): boolean {
    for (const r of this.chains.get(`${table}/${chain}`) ?? []) {
      if (r.jump === undefined) continue;
      if (!this.ruleMatches(r, src, proto, dst, dport)) continue;
      this.matches.push(`-A ${chain} ${r.raw}`);
      switch (r.jump) {
        case 'KUBE-MARK-MASQ':
          this.markMasq = true;
          continue;
        case 'ACCEPT':
        case 'REJECT':
        case 'DROP':
          this.outputs.push(r.jump);
          return true;
        case 'DNAT':
          this.outputs.push(r.dnat!);
          return true;
        default: {
          const terminated = this.runChain(table, r.jump, src, proto, dst, dport);
          if (terminated && r.probability === undefined) return true;
        }
      }
    }
    return false;
  }
}

/** The rendered ruleset plus the jump rules kube-proxy ensures in the built-in chains. */
function chainsOf(rs: Ruleset): Map<string, ParsedRule[]> {
  const out = new Map<string, ParsedRule[]>();
  const add = (table: string, chain: string, rule: Rule) => {
    const key = `${table}/${chain}`;
    let list = out.get(key);
    if (!list) out.set(key, (list = []));
    list.push(parseRule(rule.words));
  };
  for (const j of jumpRules()) add(j.table, j.chain, { words: j.words });
  for (const t of rs.tables) for (const c of t.chains) for (const r of c.rules) add(t.name, c.name, r);
  return out;
}

export function tracePacket(rs: Ruleset, flow: FlowTest): { output: string; masq: boolean; matches: string[] } {
  const tracer = new Tracer(chainsOf(rs), new Set(['127.0.0.1', '::1', ...TEST_NODE_IPS]));
  const proto = (flow.protocol ?? 'TCP').toLowerCase();
  const dport = String(flow.destPort);
  let dst = flow.destIP;
  tracer.runChain('nat', 'PREROUTING', flow.sourceIP, proto, dst, dport);
  // pending DNATs apply before filter (upstream cuts the destination at the first ':')
  if (tracer.outputs.length > 0) dst = tracer.outputs[0]!.split(':')[0]!;
  for (const chain of ['KUBE-SERVICES', 'KUBE-EXTERNAL-SERVICES', 'KUBE-NODEPORTS', 'KUBE-PROXY-FIREWALL']) {
    tracer.runChain('filter', chain, flow.sourceIP, proto, dst, dport);
  }
  return { output: tracer.outputs.join(', '), masq: tracer.markMasq, matches: tracer.matches };
}
