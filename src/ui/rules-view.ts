// Human view of a node's rules: one row per service port with its balancing chain, endpoints and their
// shares, when the source is masqueraded, and notes (other ways in, affinity, rejects and drops).
import type { ChalkInstance } from 'chalk';
import type { Drift } from '../core/iptables/drift.js';
import type { ServicePortSummary } from '../core/iptables/summary.js';
import { renderTable } from './table.js';

export function renderServiceRules(summaries: ServicePortSummary[], opts: { wide: boolean; color: ChalkInstance }): string {
  if (summaries.length === 0) return 'No service rules.';
  const rows = summaries.map((s) => {
    const [service, port = ''] = splitServicePort(s.servicePort);
    const clusterIP = s.entries.find((e) => e.kind === 'cluster IP');
    const main = s.chains.find((c) => c.chain.startsWith('KUBE-SVC-')) ?? s.chains[0];
    const endpoints = main?.endpoints.map((e) => `${e.endpoint} ${percent(e.probability)}`) ?? [];
    const shown = opts.wide || endpoints.length <= 3 ? endpoints : [...endpoints.slice(0, 3), `+${endpoints.length - 3} more`];
    const notes: string[] = [];
    for (const e of s.entries) {
      if (e === clusterIP) continue;
      notes.push(`${e.kind} ${e.address === '*' ? '' : e.address}${e.port !== null ? `${e.address === '*' ? '' : ':'}${e.port}` : ''}`.replace('  ', ' '));
    }
    const local = s.chains.find((c) => c.chain.startsWith('KUBE-SVL-') && c !== main);
    if (local) notes.push(`local endpoints ${local.endpoints.map((e) => e.endpoint).join(', ') || 'none'}`);
    const affinity = s.chains.find((c) => c.affinitySeconds !== null);
    if (affinity) notes.push(`ClientIP affinity ${affinity.affinitySeconds}s`);
    for (const v of s.verdicts) notes.push(opts.color.yellow(v));
    return [
      service,
      clusterIP ? `${port} ${clusterIP.port ?? ''}/${clusterIP.protocol}`.trim() : port,
      main?.chain ?? '-',
      shown.join(', ') || opts.color.yellow('none'),
      clusterIP ? masqueradeText(clusterIP.masquerade) : '-',
      notes.join('; ') || '-',
    ];
  });
  return renderTable(['SERVICE', 'PORT', 'CHAIN', 'ENDPOINTS', 'MASQUERADE', 'NOTES'], rows);
}

export function renderDrift(drift: Drift[], color: ChalkInstance): string {
  if (drift.length === 0) return color.green('In sync: the node has exactly the rules kube-proxy would write.');
  return renderTable(
    ['SERVICE', 'DRIFT', 'DETAIL'],
    drift.map((d) => [d.servicePort || '-', color.red(d.kind), d.detail]),
  );
}

function splitServicePort(sp: string): [string, string] {
  const i = sp.lastIndexOf(':');
  return i > sp.indexOf('/') ? [sp.slice(0, i), sp.slice(i + 1)] : [sp, ''];
}

function percent(p: number): string {
  const v = p * 100;
  return `${Number.isInteger(Math.round(v * 10) / 10) ? v.toFixed(0) : v.toFixed(1)}%`;
}

/** "yes", "no", or the conditions in words kube-proxy users know. */
export function masqueradeText(conditions: string[]): string {
  if (conditions.includes('always')) return 'yes';
  if (conditions.length === 0 || conditions.includes('never')) return 'no';
  return conditions
    .map((c) => {
      const notFrom = /^! -s (\S+)$/.exec(c);
      if (notFrom) return `unless from ${notFrom[1]}`;
      if (c === '-m addrtype --src-type LOCAL') return 'from the node itself';
      return `if ${c}`;
    })
    .join(' or ');
}
