// Human view of the mode report: a header naming the sources, the kubectl-style table, then notes.
import type { ChalkInstance } from 'chalk';
import type { ModeReport } from '../core/report/mode.js';
import { renderTable } from './table.js';

export function renderModeReport(report: ModeReport, opts: { wide: boolean; color: ChalkInstance }): string {
  const { color } = opts;
  const cfg = report.configuration;
  const lines = [
    `Source: ${report.source}`,
    `kube-proxy configuration: ${cfg.source}, mode ${cfg.configuredMode === '' ? `"" (${cfg.mode} by default)` : cfg.mode}${cfg.scheduler ? `, scheduler ${cfg.scheduler}` : ''}`,
    '',
  ];
  const headers = ['NODE', 'CONFIGURED', 'RUNNING', 'SCHEDULER', 'KUBE-PROXY', 'STATUS'];
  if (opts.wide) headers.push('NOTES');
  const rows = report.nodes.map((r) => {
    const row = [
      r.node,
      r.configuredDefaulted ? `${r.configured} (default)` : r.configured,
      r.running ?? '<unknown>',
      r.scheduler ?? '-',
      r.kubeProxyVersion ?? '<unknown>',
      r.status === 'Ready' ? r.status : color.yellow(r.status),
    ];
    if (opts.wide) row.push(r.notes.join('; ') || '-');
    return row;
  });
  if (rows.length === 0) {
    lines.push('No nodes found; the configured mode applies to every node that joins.');
  } else {
    lines.push(renderTable(headers, rows));
  }
  if (!opts.wide) {
    const notes = [...new Set(report.nodes.flatMap((r) => r.notes))];
    if (notes.length) lines.push('', ...notes.map((n) => color.dim(`Note: ${n}`)));
  }
  for (const w of cfg.warnings) lines.push(color.yellow(`Warning: ${w}`));
  return lines.join('\n');
}
