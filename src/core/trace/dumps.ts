// Combined dumps for trace --rules: which family an iptables-save text is, and its blocks by family.

/** ip6tables-save output names IPv6 addresses only. */
export function dumpFamily(text: string): 'IPv4' | 'IPv6' {
  const v6 = /^-A \S+ .*-[sd] [0-9a-fA-F]*:[0-9a-fA-F:]*[/ ]/m.test(text);
  const v4 = /^-A \S+ .*-[sd] \d+\.\d+\.\d+\.\d+/m.test(text);
  return v6 && !v4 ? 'IPv6' : 'IPv4';
}

/** The iptables-save blocks of a combined dump by family (iptables-save and ip6tables-save output may both be there). */
export function iptablesByFamily(text: string): Record<'IPv4' | 'IPv6', string> {
  const out = { IPv4: '', IPv6: '' };
  const blocks = text.split(/^(?=\*)/m).filter((b) => b.trim());
  for (const b of blocks) {
    const v6 = /^-A \S+ .*-[sd] [0-9a-fA-F]*:[0-9a-fA-F:]*[/ ]/m.test(b) || /--match-set KUBE-6-/.test(b);
    const v4 = /^-A \S+ .*-[sd] \d+\.\d+\.\d+\.\d+/m.test(b) || /--match-set KUBE-(?!6-)/.test(b);
    // A block naming no address of either family (kube-proxy's filter table) goes to both; one naming its
    // family's addresses or ipsets only to that family; a later block of the same table replaces an earlier one.
    for (const f of ['IPv4', 'IPv6'] as const) {
      if ((f === 'IPv4' && v6 && !v4) || (f === 'IPv6' && (v4 || !v6))) continue;
      const name = /^\*(\S+)/.exec(b)?.[1];
      out[f] = out[f].split(/^(?=\*)/m).filter((x) => x.trim() && /^\*(\S+)/.exec(x)?.[1] !== name).join('') + (b.endsWith('\n') ? b : `${b}\n`);
    }
  }
  return out;
}
