// The chains every iptables-writing mode shares (the iptables proxier and ipvs' companion rules): the
// masquerade mark is set in KUBE-MARK-MASQ and acted on in KUBE-POSTROUTING, and KUBE-FORWARD accepts
// marked and established traffic. Each caller writes them where its upstream proxier does.
import { KUBE_CHAINS } from '../names.js';
import type { TableWriter } from './builder.js';

export function writeMasqueradeChains(nat: TableWriter, mark: string, randomFully: boolean): void {
  nat.append(KUBE_CHAINS.postrouting.name, ['-m', 'mark', '!', '--mark', `${mark}/${mark}`, '-j', 'RETURN']);
  // clear the mark so a packet that traverses the stack again is not masqueraded twice
  nat.append(KUBE_CHAINS.postrouting.name, ['-j', 'MARK', '--xor-mark', mark]);
  nat.append(KUBE_CHAINS.postrouting.name, ['-m', 'comment', '--comment', 'kubernetes service traffic requiring SNAT', '-j', 'MASQUERADE', ...(randomFully ? ['--random-fully'] : [])]);
  nat.append(KUBE_CHAINS.markMasq.name, ['-j', 'MARK', '--or-mark', mark]);
}

export function writeForwardAccepts(filter: TableWriter, mark: string): void {
  filter.append(KUBE_CHAINS.forward.name, ['-m', 'comment', '--comment', 'kubernetes forwarding rules', '-m', 'mark', '--mark', `${mark}/${mark}`, '-j', 'ACCEPT']);
  filter.append(KUBE_CHAINS.forward.name, ['-m', 'comment', '--comment', 'kubernetes forwarding conntrack rule', '-m', 'conntrack', '--ctstate', 'RELATED,ESTABLISHED', '-j', 'ACCEPT']);
}
