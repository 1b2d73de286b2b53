// Human view of a trace: a header (packet, target, node, mode, rules), the hops as an indented path,
// the endpoints with their shares, masquerade with its reason, affinity, what was not evaluated, and
// the verdict in one line.
import { formatPercent } from '../core/net/percent.js';
import type { ChalkInstance } from 'chalk';
import type { Hop, TraceResult } from '../core/trace/types.js';
import { renderTable } from './table.js';
import { reasonText } from '../core/why/index.js';

export interface TraceHeader {
  packet: string;
  target: string;
  from: string;
  node: string;
  rules: string;
}

export function renderTrace(r: TraceResult, h: TraceHeader, opts: { wide: boolean; color: ChalkInstance; podNames?: Map<string, string> }): string {
  const { color } = opts;
  const lines = [
    `Trace: ${h.packet} from ${h.from} to ${h.target}`,
    `Node: ${h.node} · mode ${r.mode} · rules ${h.rules}`,
    '',
    'Path:',
  ];
  for (const hop of r.hops) {
    lines.push(hopLine(hop, opts.wide, color));
    if (hop.because?.length) lines.push(becauseLine(hop, opts.wide, color));
  }
  lines.push('');
  if (r.endpoints.length) {
    lines.push(
      renderTable(
        ['POD', 'ENDPOINT', 'PROBABILITY', ...(opts.wide ? ['CHAIN', 'MASQUERADE'] : [])],
        r.endpoints.map((e) => [
          opts.podNames?.get(e.ip) ?? '-',
          e.ip.includes(':') ? `[${e.ip}]:${e.port}` : `${e.ip}:${e.port}`,
          formatPercent(e.probability),
          ...(opts.wide ? [e.via ?? '-', e.masquerade ? 'yes' : 'no'] : []),
        ]),
      ),
      '',
    );
  }
  lines.push(`Masquerade: ${r.masquerade === null ? 'not known' : r.masquerade ? 'yes' : 'no'} (${r.masqueradeReason})`);
  if (r.affinity) lines.push(`Affinity: sticky: a client's later connections go to the endpoint its first one reached, for ${r.affinity.seconds}s (list ${r.affinity.name})`);
  for (const q of r.qualifications) lines.push(color.yellow(`Not exact: ${q}`));
  const others = Object.entries(r.otherVerdicts ?? {}).map(([v, s]) => `${formatPercent(s ?? 0)} ${v}`);
  lines.push(verdictLine(r, color) + (others.length ? ` (${others.join(', ')})` : '') + (r.qualifications.length ? color.yellow(' (qualified: see "Not exact")') : ''));
  return lines.join('\n');
}

function verdictLine(r: TraceResult, color: ChalkInstance): string {
  const n = r.endpoints.length;
  switch (r.verdict) {
    case 'forwarded':
      return `Verdict: ${color.green('forwarded')} to ${n} endpoint${n === 1 ? '' : 's'}${r.masquerade ? ', source masqueraded' : ''}`;
    case 'accepted':
      return `Verdict: ${color.green('accepted')} by the node itself`;
    case 'rejected':
      return `Verdict: ${color.red('rejected')}`;
    case 'dropped':
      return `Verdict: ${color.red('dropped')}`;
    default:
      return `Verdict: ${color.yellow('not-matched')}: no kube-proxy rule applies to this packet`;
  }
}

function hopLine(hop: Hop, wide: boolean, color: ChalkInstance): string {
  const indent = '  '.repeat(1 + (hop.depth ?? 0));
  const where = hop.table === 'routing' ? color.dim('routing') : `${hop.table} ${hop.chain}`;
  const share = hop.share !== undefined && !/%( of new connections)?\)$/.test(hop.action) ? color.dim(` [${formatPercent(hop.share)}]`) : '';
  const action = hop.unevaluated ? color.yellow(hop.action) : /^(DROP|REJECT)/.test(hop.action) ? color.red(hop.action) : color.cyan(hop.action);
  return `${indent}${where}: ${shortRule(hop.rule, wide)} → ${action}${share}`;
}

/** The reasons beside a hop: the fields, one line; -o wide adds each reason's sentence. */
function becauseLine(hop: Hop, wide: boolean, color: ChalkInstance): string {
  const indent = '  '.repeat(2 + (hop.depth ?? 0));
  const reasons = hop.because ?? [];
  const text = wide ? reasons.map((r) => `${reasonText(r)}${r.object === '-' ? '' : `: ${r.sentence}`}`).join('; ') : reasons.map(reasonText).join('; ');
  return color.dim(`${indent}because ${text}`);
}

/** The rule without its comment module and target (they show as the quoted comment and the action). */
export function shortRule(rule: string, wide: boolean): string {
  if (wide) return rule;
  let comment = '';
  let text = rule.replace(/-m comment --comment ("(?:[^"\\]|\\.)*"|\S+)\s*/, (_m, c: string) => {
    comment = c.replace(/^"|"$/g, '');
    return '';
  });
  text = text.replace(/\s*-[jg] \S+.*$/, '').trim();
  const body = text.length > 90 ? `${text.slice(0, 87)}…` : text;
  return [body, comment ? `"${comment}"` : ''].filter(Boolean).join(' ') || '(every packet)';
}

