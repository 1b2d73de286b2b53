// The userspace mode's provenance face: each portal rule (and the jumps into the portal chains) and each
// proxy port, with the object field that made kube-proxy's userspace proxier keep it. Portal rules carry
// their service port in their comment and their address in `-d`; a proxy port serves one service port.
import { restoreRuleText } from '../iptables/index.js';
import type { Reason, ReasonedItem, WhyInput } from '../why/types.js';
import { ReasonBook } from '../why/reasons.js';
import { portalJumpRules } from './names.js';
import type { UserspaceState } from './types.js';

export function userspaceWhy(rendered: readonly UserspaceState[], input: WhyInput): ReasonedItem[] {
  const out: ReasonedItem[] = [];
  for (const st of rendered) {
    const book = new ReasonBook(input, st.family);
    for (const table of st.rules.tables) {
      for (const chain of table.chains) {
        for (const rule of chain.rules) {
          const w = rule.words;
          const sp = book.servicePort(w[w.indexOf('--comment') + 1]);
          const dest = w[w.indexOf('-d') + 1]?.replace(/\/(32|128)$/, '');
          let reasons: Reason[];
          if (!sp) reasons = [book.mode('userspace')];
          else if (!w.includes('-d') || /NODEPORT/.test(chain.name)) reasons = [book.nodePort(sp)];
          else if (dest === sp.clusterIP) reasons = [book.clusterIP(sp)];
          else if (sp.externalIPs.includes(dest ?? '')) reasons = [book.externalIP(sp, dest)];
          else reasons = [book.loadBalancerIP(sp, dest)];
          out.push({ family: st.family, kind: 'rule', table: table.name, chain: chain.name, text: restoreRuleText(rule), ...(sp ? { servicePort: sp.key } : {}), reasons });
        }
      }
    }
    for (const j of portalJumpRules()) {
      out.push({ family: st.family, kind: 'rule', table: j.table, chain: j.chain, text: restoreRuleText({ words: j.words }), reasons: [book.mode('userspace', `a jump into ${j.target},`)] });
    }
    for (const p of st.proxies) {
      const sp = book.servicePort(p.servicePort);
      const eps = p.endpoints ?? [];
      const reasons: Array<Reason | undefined> = sp ? [eps.length ? undefined : book.noEndpoints(sp), book.affinity(sp), ...eps.map((e) => book.endpoint(sp, e))] : [book.mode('userspace', 'a proxy port')];
      const text = eps.length ? `round robin over ${eps.join(', ')}` : p.servicePort;
      out.push({ family: st.family, kind: 'proxy port', table: 'proxy', chain: `proxy port ${p.proxyPort}/${p.protocol.toUpperCase()}`, text, servicePort: p.servicePort, reasons: reasons.filter((r): r is Reason => r !== undefined) });
    }
  }
  return out;
}
