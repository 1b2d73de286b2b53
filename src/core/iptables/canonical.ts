// A canonical text for rules, so rules rendered by us (kube-proxy's spelling) and rules read back with
// iptables-save (the kernel's spelling) compare equal when they do the same thing. iptables-save prints
// the base matches first (-s -d -i -o -p), then each match module in the order it was added, masks on
// every address, marks in hex, targets with their defaults spelled out, and probabilities as the kernel
// stores them (a 31-bit fraction, so 0.3333333333 reads back as 0.33333333349).
import { quoteSaveString } from './serialize.js';
import type { Chain, Ruleset } from './types.js';
import { viewWords, type Match } from './words.js';

const BASE_ORDER: Array<(m: Match) => boolean> = [
  (m) => m.kind === 'address' && m.dir === 'src',
  (m) => m.kind === 'address' && m.dir === 'dst',
  (m) => m.kind === 'interface' && m.dir === 'in',
  (m) => m.kind === 'interface' && m.dir === 'out',
  (m) => m.kind === 'protocol',
  (m) => m.kind === 'fragment',
];

export function canonicalRule(words: readonly string[], family: 'IPv4' | 'IPv6'): string {
  const v = viewWords(words);
  const out: string[] = [];
  for (const isBase of BASE_ORDER) {
    for (const m of v.matches.filter(isBase)) out.push(...baseWords(m, family));
  }
  for (const m of v.matches) {
    if (m.kind !== 'module') continue;
    out.push('-m', m.module);
    for (const o of m.options) {
      if (o.negated) out.push('!');
      out.push(o.name, ...o.args.map((a) => optionValue(m.module, o.name, a)));
    }
  }
  out.push(...v.unknown);
  if (v.target) out.push(...targetWords(v.target.name, v.target.kind, v.target.args, family));
  return out.map((w) => (w === '' || /[\s"'\\]/.test(w) ? quoteSaveString(w) : w)).join(' ');
}

function baseWords(m: Match, family: 'IPv4' | 'IPv6'): string[] {
  const neg = 'negated' in m && m.negated ? ['!'] : [];
  switch (m.kind) {
    case 'address': {
      const full = family === 'IPv4' ? 32 : 128;
      const value = m.addresses.map((a) => `${a.ip}/${a.mask ?? full}`).join(',');
      return [...neg, m.dir === 'src' ? '-s' : '-d', value];
    }
    case 'interface':
      return [...neg, m.dir === 'in' ? '-i' : '-o', m.name];
    case 'protocol':
      return [...neg, '-p', m.protocol.toLowerCase()];
    case 'fragment':
      return [...neg, '-f'];
    default:
      return [];
  }
}

function optionValue(module: string, option: string, value: string): string {
  if (module === 'statistic' && option === '--probability') return kernelProbability(Number(value));
  if ((module === 'mark' || module === 'connmark') && option === '--mark') return hexMark(value);
  return value;
}

/** xt_statistic keeps probability as a u32 fraction of 2^31; iptables-save prints it with 11 decimals. */
export function kernelProbability(p: number): string {
  const stored = Math.round(p * 0x80000000) >>> 0;
  return (stored / 0x80000000).toFixed(11);
}

function hexMark(value: string): string {
  const [v, mask] = value.split('/');
  const hex = (s: string) => `0x${Number(s).toString(16)}`;
  return mask === undefined ? hex(v) : `${hex(v)}/${hex(mask)}`;
}

function targetWords(name: string, kind: 'jump' | 'goto', args: string[], family: 'IPv4' | 'IPv6'): string[] {
  const flag = kind === 'goto' ? '-g' : '-j';
  if (name === 'MARK') {
    // --or-mark X is --set-xmark X/X; --xor-mark X is --set-xmark X/0; --set-mark X is --set-xmark X/0xffffffff.
    const [op, value] = args;
    const v = Number((value ?? '').split('/')[0]);
    const mask = (value ?? '').includes('/') ? Number(value.split('/')[1]) : undefined;
    const xmark =
      op === '--or-mark' ? [v, v] : op === '--xor-mark' ? [v, 0] : op === '--and-mark' ? [0, ~v >>> 0] : op === '--set-mark' ? [v, mask ?? 0xffffffff] : [v, mask ?? 0xffffffff];
    return [flag, name, '--set-xmark', `0x${xmark[0].toString(16)}/0x${(xmark[1] >>> 0).toString(16)}`];
  }
  if (name === 'REJECT' && !args.includes('--reject-with')) {
    return [flag, name, '--reject-with', family === 'IPv4' ? 'icmp-port-unreachable' : 'icmp6-port-unreachable'];
  }
  return [flag, name, ...args];
}

// Chains named KUBE-* that kube-proxy does not write with its restore: kubelet's, and the empty canaries.
const NOT_WRITTEN = new Set(['KUBE-KUBELET-CANARY', 'KUBE-PROXY-CANARY', 'KUBE-IPTABLES-HINT', 'KUBE-MARK-DROP']);
// Chains whose rule order kube-proxy does not fix (it walks a Go map): sorted, the nodeports tail kept last.
const UNORDERED = new Set(['KUBE-SERVICES', 'KUBE-NODEPORTS', 'KUBE-EXTERNAL-SERVICES', 'KUBE-PROXY-FIREWALL']);

/** Every rule of kube-proxy's own chains (KUBE-*), canonical, as `-A CHAIN …` lines; harmless order left out. */
export function canonicalKubeRules(rs: Ruleset): string[] {
  const lines: string[] = [];
  for (const t of rs.tables) {
    const chains = t.chains.filter((c: Chain) => c.name.startsWith('KUBE-') && !NOT_WRITTEN.has(c.name));
    if (!chains.length) continue;
    lines.push(`*${t.name}`);
    for (const c of [...chains].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      lines.push(`:${c.name}`);
      const rules = c.rules.map((r) => `-A ${c.name} ${canonicalRule(r.words, rs.family)}`);
      if (UNORDERED.has(c.name)) {
        const tail = rules.filter((l) => l.endsWith(' -j KUBE-NODEPORTS'));
        lines.push(...rules.filter((l) => !l.endsWith(' -j KUBE-NODEPORTS')).sort(), ...tail);
      } else lines.push(...rules);
    }
  }
  return lines;
}
