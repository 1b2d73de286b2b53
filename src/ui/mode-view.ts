// Human view of the mode report: a header naming the sources, the kubectl-style table, then notes
// (one per node and finding; cluster-wide ones once).
import type { ChalkInstance } from 'chalk';
import type { ModeReport } from '../core/report/mode.js';
import { renderTable } from './table.js';

/** Per-node notes shown under the table before the rest is summarised (all of them with -o wide). */
const MAX_NOTES = 20;
const HEALTHY = new Set(['Running', 'Replaced', 'Embedded']);

export function renderModeReport(report: ModeReport, opts: { wide: boolean; color: ChalkInstance }): string {
  const { color } = opts;
  const cfg = report.configuration;
  const lines = [
    `Source: ${report.source}`,
    cfg.mode === '-'
      ? 'kube-proxy configuration: not in use (no kube-proxy runs)'
      : `kube-proxy configuration: ${cfg.source}, mode ${cfg.configuredMode === '' ? `"" (${cfg.mode} by default)` : cfg.mode}${cfg.scheduler ? `, scheduler ${cfg.scheduler}` : ''}`,
  ];
  if (report.replacement) lines.push(`kube-proxy ${report.replacement.full ? 'replaced by' : 'partly replaced by'} ${report.replacement.name} (${report.replacement.evidence})`);
  lines.push('');
  const headers = ['NODE', 'CONFIGURED', 'RUNNING', 'SCHEDULER', 'KUBE-PROXY', 'STATUS'];
  if (opts.wide) headers.push('POD', 'RESTARTS', 'EVIDENCE', 'NOTES');
  const rows = report.nodes.map((r) => {
    const row = [
      r.node,
      r.configuredDefaulted ? `${r.configured} (default)` : r.configured,
      r.running ?? '<unknown>',
      r.scheduler ?? '-',
      r.kubeProxyVersion ?? (r.status === 'Replaced' ? '-' : '<unknown>'),
      HEALTHY.has(r.status) ? r.status : r.mismatch ? color.red(r.status) : color.yellow(r.status),
    ];
    if (opts.wide) row.push(r.pod ?? '-', r.restarts === null ? '-' : String(r.restarts), r.runningFrom ?? '-', r.notes.join('; ') || '-');
    return row;
  });
  if (rows.length === 0) {
    lines.push('No nodes found; the configured mode applies to every node that joins.');
  } else {
    lines.push(renderTable(headers, rows));
  }
  const notes: string[] = [];
  if (!opts.wide) {
    // A note every node shares is said once; the others name their node.
    const count = new Map<string, number>();
    for (const r of report.nodes) for (const n of new Set(r.notes)) count.set(n, (count.get(n) ?? 0) + 1);
    const shared = report.nodes.length > 1 ? [...count].filter(([, c]) => c === report.nodes.length).map(([n]) => n) : [];
    const perNode = report.nodes.flatMap((r) => r.notes.filter((n) => !shared.includes(n)).map((n) => `${r.node}: ${n}`));
    const list = [...shared, ...perNode];
    notes.push(...list.slice(0, MAX_NOTES));
    if (list.length > MAX_NOTES) notes.push(`… and ${list.length - MAX_NOTES} more notes (-o wide shows every node's).`);
  }
  notes.push(...report.notes);
  if (notes.length) lines.push('', ...notes.map((n) => color.dim(`Note: ${n}`)));
  for (const w of cfg.warnings) lines.push(color.yellow(`Warning: ${w}`));
  return lines.join('\n');
}
