// Human view of the mode report: a header naming the sources, the kubectl-style table, then notes
// (one per node and finding). Cluster-wide notes, warnings and the --check summary go to stderr
// (modeStderrLines), once.
import type { ChalkInstance } from 'chalk';
import { checkPasses, type ModeReport } from '../core/report/mode.js';
import { renderTable } from './table.js';

/** Per-node notes shown under the table before the rest is summarised (all of them with -o wide). */
const MAX_NOTES = 20;
const HEALTHY = new Set(['Running', 'Replaced', 'Embedded']);

export function renderModeReport(report: ModeReport, opts: { wide: boolean; color: ChalkInstance; noHeaders?: boolean }): string {
  const { color } = opts;
  const cfg = report.configuration;
  const lines = [
    `Source: ${report.source}`,
    cfg.mode === '-'
      ? 'kube-proxy configuration: not in use (no kube-proxy runs)'
      : cfg.mode === null
        ? `kube-proxy configuration: unknown (${cfg.unknown})`
        : cfg.override
          ? `kube-proxy configuration: mode ${cfg.mode} from --mode (a what-if, not compared with what runs)${cfg.scheduler ? `, scheduler ${cfg.scheduler}` : ''}`
          : `kube-proxy configuration: ${cfg.source}, mode ${cfg.configuredMode === '' ? `"" (${cfg.mode} by default)` : cfg.mode}${cfg.scheduler ? `, scheduler ${cfg.scheduler}` : ''}`,
  ];
  if (report.replacement) lines.push(`kube-proxy ${report.replacement.full ? 'replaced by' : 'partly replaced by'} ${report.replacement.name} (${report.replacement.evidence})`);
  lines.push('');
  const headers = ['NODE', 'CONFIGURED', 'RUNNING', 'SCHEDULER', 'KUBE-PROXY', 'STATUS'];
  if (opts.wide) headers.push('POD', 'RESTARTS', 'EVIDENCE', 'NOTES');
  const rows = report.nodes.map((r) => {
    const row = [
      r.node,
      r.configured === null ? '<unknown>' : r.configuredOverride ? `${r.configured} (--mode)` : r.configuredDefaulted ? `${r.configured} (default)` : r.configured,
      r.running ?? '<unknown>',
      r.scheduler ?? '-',
      r.kubeProxyVersion ?? (r.status === 'Replaced' ? '-' : '<unknown>'),
      HEALTHY.has(r.status) ? r.status : r.mismatch ? color.red(r.status) : color.yellow(r.status),
    ];
    if (opts.wide) row.push(r.pod ?? '-', r.restarts === null ? '-' : String(r.restarts), r.runningFrom ?? '-', r.notes.join('; ') || '-');
    return row;
  });
  // --no-headers: the table's rows alone, as kubectl prints them.
  if (opts.noHeaders) return renderTable(headers, rows).split('\n').slice(1).join('\n');
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
  if (notes.length) lines.push('', ...notes.map((n) => color.dim(`Note: ${n}`)));
  return lines.join('\n');
}

/** What `get` says on stderr: cluster-wide notes once, what kube-proxy would refuse, and with --check one summary line. */
export function modeStderrLines(report: ModeReport, opts: { check: boolean }): string[] {
  const out = report.notes.map((n) => `Note: ${n}`);
  for (const p of report.configuration.problems) out.push(`Warning: kube-proxy refuses to start with this configuration: ${p}`);
  if (opts.check) out.push(checkSummary(report));
  return out;
}

/** --check's verdict in one line: how many nodes were checked, matched, mismatched and unknown. */
export function checkSummary(report: ModeReport): string {
  const n = report.nodes.length;
  const mismatched = report.nodes.filter((r) => r.mismatch);
  const unknown = report.nodes.filter((r) => r.unknown);
  const ok = n - mismatched.length - unknown.length;
  const names = (rows: typeof mismatched) => (rows.length ? ` (${rows.slice(0, 5).map((r) => r.node).join(', ')}${rows.length > 5 ? ', …' : ''})` : '');
  const refused = report.configuration.problems.length ? '; kube-proxy refuses its configuration' : '';
  const verdict = checkPasses(report) ? 'passed' : 'FAILED';
  const whatIf = report.configuration.override ? ' (--mode is a what-if, so no node has a configured mode to compare)' : '';
  return `check ${verdict}: ${n} node${n === 1 ? '' : 's'} checked, ${ok} as configured, ${mismatched.length} mismatched${names(mismatched)}, ${unknown.length} unknown${names(unknown)}${whatIf}${refused}.`;
}
