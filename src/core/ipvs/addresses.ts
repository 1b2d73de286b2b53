// The addresses bound to kube-ipvs0 as `ip addr show dev kube-ipvs0` (or `ip -o addr …`) lists them: a
// dump kind of its own, so a node's dump may carry them beside ipvsadm, ipset and iptables-save output.
import type { DumpKind, IPFamily } from '../modes/types.js';
import { DUMMY_DEVICE } from './names.js';

export const IP_ADDR: DumpKind = {
  name: 'ip-addr',
  command: `ip addr show dev ${DUMMY_DEVICE}`,
  startsSection: (line) => new RegExp(`^\\d+: ${DUMMY_DEVICE}[:\\s]`).test(line),
};

/** The addresses of one family a listing of kube-ipvs0 shows; undefined when the text is no such listing. */
export function addressesOfListing(text: string, family: IPFamily): string[] | undefined {
  if (!IP_ADDR.startsSection(text.split('\n').find((l) => l.trim() !== '') ?? '', undefined)) return undefined;
  const out: string[] = [];
  for (const m of text.matchAll(/\binet(6?) ([0-9a-fA-F:.]+)\/\d+/g)) {
    if ((m[1] === '6') === (family === 'IPv6') && !out.includes(m[2]!)) out.push(m[2]!);
  }
  return out;
}
