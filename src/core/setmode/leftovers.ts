// After a switch, what the old mode left on a node: kube-proxy's iptables chains the new mode does not
// write (and the jumps into them from chains that stay), IPVS virtual servers kube-proxy made (on
// kube-ipvs0's addresses, or a node address on a NodePort), the kube-ipvs0 device, its ipsets, the nft
// kube-proxy tables. Pure: node dumps in, leftovers and their removal as data out; the removal's text is a
// shell script of exactly those steps (run by a short-lived privileged pod, src/kube/set-mode-leftovers.ts).
//
// kube-proxy removes some of them itself at start (cmd/kube-proxy/app/server_linux.go platformCleanup,
// read at kubernetes/kubernetes master, 2025): switching to nftables it removes the iptables and ipvs
// modes' rules; switching to iptables or ipvs it removes the nftables tables — in 1.29–1.32 only when the
// NFTablesProxyMode gate is on (default on from 1.31), always from 1.33. iptables <-> ipvs: never.
import { isKubeProxyChain, isKubeProxySet } from '../proxier/cleanup.js';
import { KUBE_CHAINS, isServiceChainName } from '../iptables/index.js';
import { parseIptablesSave } from '../iptables/parse.js';
import { CHAIN as IPVS_CHAIN, DUMMY_DEVICE, IPTABLES_CHAINS as IPVS_IPTABLES_CHAINS } from '../ipvs/names.js';
import type { IPFamily } from '../modes/types.js';

export type Backend = 'nft' | 'legacy';

/** What is read on a node to find leftovers; each optional (a tool the pod lacks is said, not fatal). */
export const LEFTOVER_READS: ReadonlyArray<{ key: string; argv: string[] }> = [
  { key: 'iptables nft IPv4', argv: ['iptables-nft-save'] },
  { key: 'iptables nft IPv6', argv: ['ip6tables-nft-save'] },
  { key: 'iptables legacy IPv4', argv: ['iptables-legacy-save'] },
  { key: 'iptables legacy IPv6', argv: ['ip6tables-legacy-save'] },
  { key: 'ipvs', argv: ['ipvsadm', '-Sn'] },
  { key: 'ipset', argv: ['ipset', 'list', '-n'] },
  { key: 'addresses', argv: ['ip', '-o', 'addr', 'show'] },
  { key: 'nft', argv: ['nft', 'list', 'tables'] },
];

/** The reads' outputs by key; a key missing was not read (the note says why). */
export interface NodeDumps {
  outputs: Map<string, string>;
  notRead: string[];
}

export type Leftover =
  | { kind: 'jump'; backend: Backend; family: IPFamily; table: string; chain: string; words: string[] }
  | { kind: 'chain'; backend: Backend; family: IPFamily; table: string; chain: string }
  | { kind: 'ipvs-service'; protocol: 'tcp' | 'udp' | 'sctp'; address: string }
  | { kind: 'device'; name: string; addresses: string[] }
  | { kind: 'ipset'; name: string }
  | { kind: 'nft-table'; family: 'ip' | 'ip6'; name: string };

export interface NodeLeftovers {
  node: string;
  leftovers: Leftover[];
  /** What could not be read there (a tool missing, exec refused), one phrase each. */
  notRead: string[];
}

const USERSPACE_CHAINS = new Set(['KUBE-PORTALS-CONTAINER', 'KUBE-PORTALS-HOST', 'KUBE-NODEPORT-CONTAINER', 'KUBE-NODEPORT-HOST', 'KUBE-NODEPORT-NON-LOCAL']);

/** Whether `mode` writes `chain` in `table` (so it is no leftover while that mode runs). */
export function modeWritesChain(mode: string, table: string, chain: string): boolean {
  if (chain === 'KUBE-PROXY-CANARY') return mode === 'iptables' || mode === 'ipvs';
  if (mode === 'iptables') {
    if (table === 'nat' && isServiceChainName(chain)) return true;
    return Object.values(KUBE_CHAINS).some((c) => c.name === chain && c.name !== KUBE_CHAINS.firewall.name && (c.tables as readonly string[]).includes(table));
  }
  if (mode === 'ipvs') return IPVS_IPTABLES_CHAINS.some((c) => c.table === table && c.chain === chain);
  if (mode === 'userspace') return USERSPACE_CHAINS.has(chain);
  return false;
}

function ownedByKubeProxy(chain: string): boolean {
  return isKubeProxyChain(chain) || USERSPACE_CHAINS.has(chain) || chain === 'KUBE-MARK-DROP' || chain === IPVS_CHAIN.nodePort;
}

function jumpTarget(words: readonly string[]): string | undefined {
  for (let i = 0; i < words.length - 1; i++) if (words[i] === '-j' || words[i] === '-g') return words[i + 1];
  return undefined;
}

/** A NodePort range "30000-32767" as numbers. */
function portRange(range: string): [number, number] {
  const m = /^(\d+)(?:-(\d+))?$/.exec(range.trim());
  return m ? [Number(m[1]), Number(m[2] ?? m[1])] : [30000, 32767];
}

/** Everything of kube-proxy's on the node that `newMode` does not write. */
export function findLeftovers(node: string, newMode: string, dumps: NodeDumps, opts: { nodePortRange?: string } = {}): NodeLeftovers {
  const leftovers: Leftover[] = [];
  for (const backend of ['nft', 'legacy'] as const) {
    for (const family of ['IPv4', 'IPv6'] as const) {
      const text = dumps.outputs.get(`iptables ${backend} ${family}`);
      if (!text?.trim()) continue;
      const rs = parseIptablesSave(text, { family, source: `node ${node}` });
      for (const t of rs.tables) {
        const stale = new Set(t.chains.filter((c) => ownedByKubeProxy(c.name) && !modeWritesChain(newMode, t.name, c.name)).map((c) => c.name));
        if (stale.size === 0) continue;
        for (const c of t.chains) {
          if (stale.has(c.name)) continue;
          for (const r of c.rules) {
            const to = jumpTarget(r.words);
            if (to && stale.has(to)) leftovers.push({ kind: 'jump', backend, family, table: t.name, chain: c.name, words: [...r.words] });
          }
        }
        for (const name of [...stale].sort()) leftovers.push({ kind: 'chain', backend, family, table: t.name, chain: name });
      }
    }
  }
  if (newMode !== 'ipvs') {
    const byDevice = addressesByDevice(dumps.outputs.get('addresses') ?? '');
    const dummy = byDevice.get(DUMMY_DEVICE) ?? [];
    const local = new Set([...byDevice].filter(([d]) => d !== DUMMY_DEVICE).flatMap(([, a]) => a));
    const [lo, hi] = portRange(opts.nodePortRange ?? '');
    for (const line of (dumps.outputs.get('ipvs') ?? '').split('\n')) {
      const m = /^-A\s+(-t|-u|--sctp-service)\s+(\S+)/.exec(line.trim());
      if (!m) continue;
      const { ip, port } = splitAddress(m[2]);
      const ours = dummy.includes(ip) || (local.has(ip) && port >= lo && port <= hi);
      if (ours) leftovers.push({ kind: 'ipvs-service', protocol: m[1] === '-t' ? 'tcp' : m[1] === '-u' ? 'udp' : 'sctp', address: m[2] });
    }
    if (byDevice.has(DUMMY_DEVICE)) leftovers.push({ kind: 'device', name: DUMMY_DEVICE, addresses: dummy });
    for (const name of (dumps.outputs.get('ipset') ?? '').split('\n').map((l) => l.trim()).filter(isKubeProxySet).sort()) leftovers.push({ kind: 'ipset', name });
  }
  if (newMode !== 'nftables') {
    for (const line of (dumps.outputs.get('nft') ?? '').split('\n')) {
      const m = /^table\s+(ip6?)\s+(kube-proxy)\s*$/.exec(line.trim());
      if (m) leftovers.push({ kind: 'nft-table', family: m[1] as 'ip' | 'ip6', name: m[2] });
    }
  }
  return { node, leftovers, notRead: dumps.notRead };
}

/** `ip -o addr show`: "2: eth0    inet 10.0.0.5/24 brd … scope global eth0\ …" -> device -> addresses. */
function addressesByDevice(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const m = /^\d+:\s+(\S+?)(?:@\S+)?\s+inet6?\s+([0-9a-fA-F.:]+)\//.exec(line.trim());
    if (m) out.set(m[1], [...(out.get(m[1]) ?? []), m[2]]);
  }
  return out;
}

function splitAddress(a: string): { ip: string; port: number } {
  const v6 = /^\[([^\]]+)\]:(\d+)$/.exec(a);
  if (v6) return { ip: v6[1], port: Number(v6[2]) };
  const i = a.lastIndexOf(':');
  return { ip: a.slice(0, i), port: Number(a.slice(i + 1)) };
}

/** One line per leftover, for people. */
export function describeLeftover(l: Leftover): string {
  switch (l.kind) {
    case 'jump':
      return `iptables-${l.backend} ${l.family} ${l.table}: a rule in ${l.chain} jumping to ${jumpTarget(l.words)}`;
    case 'chain':
      return `iptables-${l.backend} ${l.family} ${l.table}: chain ${l.chain}`;
    case 'ipvs-service':
      return `IPVS virtual server ${l.protocol} ${l.address}`;
    case 'device':
      return `device ${l.name}${l.addresses.length ? ` with ${l.addresses.length} address${l.addresses.length === 1 ? '' : 'es'}` : ''}`;
    case 'ipset':
      return `ipset ${l.name}`;
    case 'nft-table':
      return `nft table ${l.family} ${l.name}`;
  }
}

/** Counts by what they are: "412 iptables chains, 3 jump rules, 40 IPVS virtual servers, 17 ipsets". */
export function summarizeLeftovers(ls: readonly Leftover[]): string {
  const n = (k: Leftover['kind']) => ls.filter((l) => l.kind === k).length;
  const parts: string[] = [];
  const add = (count: number, one: string, many: string) => count && parts.push(`${count} ${count === 1 ? one : many}`);
  add(n('chain'), 'iptables chain', 'iptables chains');
  add(n('jump'), 'jump rule', 'jump rules');
  add(n('ipvs-service'), 'IPVS virtual server', 'IPVS virtual servers');
  add(n('device'), `${DUMMY_DEVICE} device`, `${DUMMY_DEVICE} devices`);
  add(n('ipset'), 'ipset', 'ipsets');
  add(n('nft-table'), 'nft table', 'nft tables');
  return parts.join(', ') || 'nothing';
}

/** Whether kube-proxy `version` removes `from`'s leftovers by itself when it starts in `to` (one sentence), or undefined. */
export function selfCleanup(from: string | null, to: string, minor: number | undefined, nftGate: boolean | undefined): string | undefined {
  if (minor === undefined || minor < 29) return undefined;
  if (to === 'nftables' && (from === 'iptables' || from === 'ipvs')) return `kube-proxy 1.${minor} removes the ${from} mode's rules itself when it starts in nftables mode.`;
  if (from === 'nftables' && (to === 'iptables' || to === 'ipvs')) {
    const gateOn = minor >= 33 || (nftGate ?? minor >= 31);
    if (gateOn) return `kube-proxy 1.${minor} removes the nftables tables itself when it starts in ${to} mode.`;
  }
  return undefined;
}

// ---- removal: data, then one shell script of exactly those steps ----

export type Step = { what: string; argv: string[]; stdin?: string };

const tool = (backend: Backend, family: IPFamily, suffix = '') => `${family === 'IPv4' ? 'iptables' : 'ip6tables'}-${backend}${suffix}`;

/** The steps in an order that works: IPVS servers, jumps, chains (flushed then deleted), ipsets, the device, nft tables. */
export function removalSteps(ls: readonly Leftover[]): Step[] {
  const steps: Step[] = [];
  for (const l of ls) if (l.kind === 'ipvs-service') steps.push({ what: describeLeftover(l), argv: ['ipvsadm', '-D', l.protocol === 'tcp' ? '-t' : l.protocol === 'udp' ? '-u' : '--sctp-service', l.address] });
  for (const l of ls) if (l.kind === 'jump') steps.push({ what: describeLeftover(l), argv: [tool(l.backend, l.family), '-w', '-t', l.table, '-D', l.chain, ...l.words] });
  const groups = new Map<string, Extract<Leftover, { kind: 'chain' }>[]>();
  for (const l of ls) if (l.kind === 'chain') groups.set(`${l.backend} ${l.family} ${l.table}`, [...(groups.get(`${l.backend} ${l.family} ${l.table}`) ?? []), l]);
  for (const g of groups.values()) {
    const { backend, family, table } = g[0];
    const text = [`*${table}`, ...g.map((c) => `:${c.chain} - [0:0]`), ...g.map((c) => `-X ${c.chain}`), 'COMMIT', ''].join('\n');
    steps.push({ what: `iptables-${backend} ${family} ${table}: ${g.length} chain${g.length === 1 ? '' : 's'}`, argv: [tool(backend, family, '-restore'), '-w', '--noflush'], stdin: text });
  }
  for (const l of ls) if (l.kind === 'ipset') steps.push({ what: describeLeftover(l), argv: ['ipset', 'destroy', l.name] });
  for (const l of ls) if (l.kind === 'device') steps.push({ what: describeLeftover(l), argv: ['ip', 'link', 'del', l.name] });
  for (const l of ls) if (l.kind === 'nft-table') steps.push({ what: describeLeftover(l), argv: ['nft', 'delete', 'table', l.family, l.name] });
  return steps;
}

const quote = (w: string) => (/^[A-Za-z0-9_.,:/=@%+-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`);

/** A POSIX sh script running every step and printing "ok N" or "failed N" for each, so one failure stops none. */
export function removalScript(steps: readonly Step[]): string {
  return steps
    .map((s, i) => {
      const cmd = s.argv.map(quote).join(' ');
      const run = s.stdin === undefined ? cmd : `printf '%s' ${quote(s.stdin)} | ${cmd}`;
      return `if ${run} >/dev/null 2>/tmp/err; then echo "ok ${i}"; else echo "failed ${i} $(head -n1 /tmp/err)"; fi`;
    })
    .join('\n');
}

/** Reads the script's output back: per step, done or why not. */
export function removalOutcome(steps: readonly Step[], log: string): Array<{ what: string; ok: boolean; why?: string }> {
  const seen = new Map<number, { ok: boolean; why?: string }>();
  for (const line of log.split('\n')) {
    const m = /^(ok|failed) (\d+)(?: (.*))?$/.exec(line.trim());
    if (m) seen.set(Number(m[2]), { ok: m[1] === 'ok', why: m[3]?.trim() || undefined });
  }
  return steps.map((s, i) => ({ what: s.what, ...(seen.get(i) ?? { ok: false, why: 'not run' }) }));
}
