// nfacct counters. Current kube-proxy's iptables rules count packets with `-m nfacct --nfacct-name NAME`
// (pkg/proxy/metrics: ct_state_invalid_dropped_pkts, localhost_nps_accepted_pkts), and iptables-restore
// refuses such a rule until the counter exists (nft: "RULE_APPEND failed (No such file or directory)";
// legacy: the whole table's COMMIT fails). kube-proxy creates them through netlink before its first
// sync; here the `nfacct` tool does it (per network namespace), before a restore that references them.

import { NFACCT_COUNTERS } from '../iptables/names.js';
import type { CommandRunner } from './backend.js';
import { commandFailure, nfacctNamesInLine } from './errors.js';

/** The counters kube-proxy's iptables proxier creates and references. */
export const KUBE_PROXY_NFACCT_COUNTERS: readonly string[] = [NFACCT_COUNTERS.ctStateInvalidDropped, NFACCT_COUNTERS.localhostNodePortsAccepted];

/** Counter names referenced anywhere in restore (or save) text, each once, in order of first use. */
export function nfacctNamesIn(text: string): string[] {
  const seen = new Set<string>();
  for (const line of text.split('\n')) {
    if (!line.includes('--nfacct-name')) continue;
    for (const name of nfacctNamesInLine(line)) seen.add(name);
  }
  return [...seen];
}

/** Names in `nfacct list` output: `{ pkts = 00…0, bytes = 00…0 } = NAME;` per counter. */
export function parseNfacctList(stdout: string): string[] {
  const names: string[] = [];
  for (const line of stdout.split('\n')) {
    const m = /\}\s*=\s*(.+?);\s*$/.exec(line);
    if (m) names.push(m[1]!);
  }
  return names;
}

/** The counters that exist on the host. */
export async function listNfacct(run: CommandRunner): Promise<Set<string>> {
  const argv = ['nfacct', 'list'];
  const r = await run(argv);
  if (r.code !== 0) throw commandFailure(argv, r.code, r.stderr, 'the nfacct counters could not be listed');
  return new Set(parseNfacctList(r.stdout));
}

/** Create whichever of `names` do not exist yet; resolves the names it created. */
export async function ensureNfacct(run: CommandRunner, names: Iterable<string>): Promise<string[]> {
  const wanted = [...new Set(names)];
  if (wanted.length === 0) return [];
  const have = await listNfacct(run);
  const created: string[] = [];
  for (const name of wanted) {
    if (have.has(name)) continue;
    const argv = ['nfacct', 'add', name];
    const r = await run(argv);
    // EBUSY is the kernel's answer for a name that exists (someone else created it meanwhile).
    if (r.code !== 0 && !/resource busy|File exists/i.test(r.stderr)) {
      throw commandFailure(argv, r.code, r.stderr, `nfacct counter ${name} could not be created`);
    }
    if (r.code === 0) created.push(name);
  }
  return created;
}
