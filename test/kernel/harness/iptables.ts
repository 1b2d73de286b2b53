// iptables-restore/-save for either backend and family inside a namespace, and a full netfilter reset
// between tests (nft and legacy rules coexist in one namespace, so both must be cleared).
import { exec, describeFailure, execOk, type ExecResult } from './proc.js';
import { hasTool } from './skip.js';

export type IptablesBackend = 'nft' | 'legacy';
export type IpFamily = 4 | 6;

export function iptablesTool(kind: 'restore' | 'save', backend: IptablesBackend, family: IpFamily = 4): string {
  return `${family === 6 ? 'ip6tables' : 'iptables'}-${backend}-${kind}`;
}

export interface IptablesRestoreOptions {
  backend: IptablesBackend;
  family?: IpFamily;
  /** keep tables' existing rules (`--noflush`), as kube-proxy's partial syncs do */
  noflush?: boolean;
  /** restore the `[packets:bytes]` counters given in the text */
  counters?: boolean;
  /** throw on a non-zero exit (default true); false returns the result for tests that expect a failure */
  check?: boolean;
  timeoutMs?: number;
}

export async function iptablesRestore(ns: string, text: string, opts: IptablesRestoreOptions): Promise<ExecResult> {
  const tool = iptablesTool('restore', opts.backend, opts.family);
  const argv = [tool];
  if (opts.noflush) argv.push('--noflush');
  if (opts.counters) argv.push('--counters');
  // The legacy lock is a file in the host's /run, shared by parallel test files in other namespaces: wait for it.
  if (opts.backend === 'legacy') argv.push('-w', '10');
  const r = await exec(ns, argv, text, { timeoutMs: opts.timeoutMs });
  if (opts.check !== false && r.code !== 0) throw new Error(describeFailure(`[${ns}] ${argv.join(' ')}`, r));
  return r;
}

export interface IptablesSaveOptions {
  family?: IpFamily;
  table?: string;
  counters?: boolean;
}

export async function iptablesSave(ns: string, backend: IptablesBackend, opts: IptablesSaveOptions = {}): Promise<string> {
  const argv = [iptablesTool('save', backend, opts.family)];
  if (opts.table) argv.push('-t', opts.table);
  if (opts.counters) argv.push('-c');
  return (await execOk(ns, argv)).stdout;
}

/**
 * Back to a clean slate in `ns`: every nftables table (which includes iptables-nft's), every legacy
 * table that exists, ipsets, unused nfacct counters and the conntrack table. Tools that are not
 * installed are skipped, as their state cannot exist either.
 */
export async function resetNetfilter(ns: string): Promise<void> {
  if (hasTool('nft')) await execOk(ns, ['nft', 'flush', 'ruleset']);
  for (const family of [4, 6] as const) {
    const restore = iptablesTool('restore', 'legacy', family);
    if (!hasTool(restore)) continue;
    // Only tables already loaded: restoring an empty one would otherwise register new legacy hooks.
    const names = await exec(ns, ['cat', `/proc/net/${family === 6 ? 'ip6' : 'ip'}_tables_names`]);
    const tables = names.code === 0 ? names.stdout.split('\n').filter(Boolean) : [];
    if (tables.length === 0) continue;
    await iptablesRestore(ns, tables.map((t) => `*${t}\nCOMMIT\n`).join(''), { backend: 'legacy', family });
  }
  if (hasTool('ipset')) await execOk(ns, ['ipset', 'destroy']);
  if (hasTool('nfacct')) await exec(ns, ['nfacct', 'flush']); // fails harmlessly when counters are still referenced
  if (hasTool('conntrack')) await exec(ns, ['conntrack', '-F']); // non-zero when the table is already empty on some versions
}
