// Human view of a node's rules, the same for every mode: one row per service port with what balances it
// (a chain, a virtual server, a map), its endpoints and their shares, when the source is masqueraded, and
// notes (other ways in, local endpoints, affinity, rejects and drops, set memberships).
import type { ChalkInstance } from 'chalk';
import type { Drift, ServicePortSummary } from '../core/modes/types.js';
import { formatPercent } from '../core/net/percent.js';
import { renderTable } from './table.js';
import { reasonText, type Reason } from '../core/why/index.js';

/** `reasons`: with -o wide, the REASON column of a service port (the object fields its rules come from). */
export function renderServiceRules(summaries: readonly ServicePortSummary[], opts: { wide: boolean; color: ChalkInstance; reasons?: (servicePort: string) => string }): string {
  if (summaries.length === 0) return 'No service rules.';
  const rows = summaries.map((s) => {
    const [service, port = ''] = splitServicePort(s.servicePort);
    const main = s.entries.find((e) => e.kind === 'cluster IP') ?? s.entries[0];
    const balancer = s.balancers.find((b) => b.name === main?.target) ?? s.balancers[0];
    const endpoints = balancer?.endpoints.map((e) => `${e.endpoint} ${formatPercent(e.probability)}`) ?? [];
    const shown = opts.wide || endpoints.length <= 3 ? endpoints : [...endpoints.slice(0, 3), `+${endpoints.length - 3} more`];
    const notes: string[] = [];
    for (const e of s.entries) {
      if (e === main) continue;
      notes.push(`${e.kind} ${e.address === '*' ? '' : e.address}${e.port !== null ? `${e.address === '*' ? '' : ':'}${e.port}` : ''}`.replace('  ', ' '));
    }
    const local = s.balancers.find((b) => b.local && b !== balancer);
    if (local) notes.push(`local endpoints ${local.endpoints.map((e) => e.endpoint).join(', ') || 'none'}`);
    const affinity = s.balancers.find((b) => b.affinitySeconds !== null);
    if (affinity) notes.push(`ClientIP affinity ${affinity.affinitySeconds}s`);
    for (const v of s.verdicts) notes.push(opts.color.yellow(v));
    if (opts.wide && s.setMembers?.length) notes.push(`in ${s.setMembers.join(', ')}`);
    return [
      service,
      main ? `${port} ${main.port ?? ''}/${main.protocol}`.trim() : port,
      balancer ? `${balancer.name}${balancer.scheduler !== 'random' ? ` (${balancer.scheduler})` : ''}` : '-',
      shown.join(', ') || opts.color.yellow('none'),
      main && balancer ? masqueradeText(main.masquerade) : '-',
      notes.join('; ') || '-',
      ...(opts.wide && opts.reasons ? [opts.reasons(s.servicePort)] : []),
    ];
  });
  return renderTable(['SERVICE', 'PORT', 'BALANCER', 'ENDPOINTS', 'MASQUERADE', 'NOTES', ...(opts.wide && opts.reasons ? ['REASON'] : [])], rows);
}

export function renderDrift(drift: ReadonlyArray<Drift & { because?: Reason }>, color: ChalkInstance): string {
  if (drift.length === 0) return color.green('In sync: the node has exactly the rules kube-proxy would write.');
  const from = drift.some((d) => d.because);
  return renderTable(
    ['SERVICE', 'DRIFT', 'DETAIL', ...(from ? ['EXPECTED FROM'] : [])],
    drift.map((d) => [d.servicePort || '-', color.red(d.kind), d.detail, ...(from ? [d.because ? reasonText(d.because) : '-'] : [])]),
  );
}

function splitServicePort(sp: string): [string, string] {
  const i = sp.lastIndexOf(':');
  return i > sp.indexOf('/') ? [sp.slice(0, i), sp.slice(i + 1)] : [sp, ''];
}

/** "yes", "no", "not known", or the conditions in words kube-proxy users know. */
export function masqueradeText(conditions: string[]): string {
  if (conditions.length === 0) return 'not known';
  if (conditions.includes('always')) return 'yes';
  if (conditions.includes('never')) return 'no';
  return conditions
    .map((c) => {
      const notFrom = /^! -s (\S+)$/.exec(c);
      if (notFrom) return `unless from ${notFrom[1]}`;
      if (c === '-m addrtype --src-type LOCAL') return 'from the node itself';
      return `if ${c}`;
    })
    .join(' or ');
}
