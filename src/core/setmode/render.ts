// The words `set-mode` prints for a person: the plan (where, pre-flight, equivalence, the change) and the
// outcome. Pure text; the command decides where it goes.
import type { DifferenceGroup, EquivalenceReport } from '../equivalence/compare.js';
import type { SetModePlan } from './plan.js';

/** Paths listed per difference group before "… and N more". */
export const PATHS_SHOWN = 8;

export function renderPlan(p: SetModePlan, opts: { verbose?: boolean } = {}): string {
  const out: string[] = [];
  const target = `${p.mode}${p.scheduler ? ` (scheduler ${p.scheduler})` : ''}`;
  out.push(`Switching ${p.source} from ${p.current.mode ?? 'an unknown mode'} to ${target}.`);
  out.push('');
  out.push('WHERE THE MODE LIVES');
  if (p.where.kind === 'manual') {
    out.push(`  ${p.where.distribution}: ${p.where.reason}.`);
    out.push('  Nothing was changed. Run this instead:');
    for (const c of p.where.commands) out.push(`    ${c}`);
  } else {
    out.push(`  ${p.where.description}${p.where.kind === 'daemonset-flag' ? ` — ${p.where.note}` : ''}`);
  }
  out.push('');
  out.push('PRE-FLIGHT');
  for (const n of p.preflight.nodes) {
    const head = `  ${n.level === 'ok' ? 'ok  ' : n.level === 'warn' ? 'warn' : 'FAIL'}  ${n.node}  kube-proxy ${n.kubeProxyVersion ?? 'unknown'}, kernel ${n.kernelVersion ?? 'unknown'}`;
    out.push(head);
    for (const f of n.findings) out.push(`        ${f.level === 'fail' ? 'refused: ' : ''}${f.text}`);
  }
  if (!p.preflight.nodes.length) out.push('  no nodes.');
  for (const c of p.preflight.cluster) out.push(`  ${c.level === 'fail' ? 'FAIL' : 'warn'}  ${c.text}`);
  if (p.preflight.failed) out.push(`  On ${p.preflight.onFailure}`);
  out.push('');
  out.push(...renderEquivalence(p.equivalence, opts));
  if (p.change) {
    out.push('');
    out.push('CHANGE');
    if (p.change.diff) out.push(...p.change.diff.split('\n').map((l) => `  ${l.replace(/\r$/, '')}`));
    else out.push(`  ${p.change.object} already says ${p.mode}.`);
  }
  return out.join('\n');
}

export function renderEquivalence(e: EquivalenceReport, opts: { verbose?: boolean } = {}): string[] {
  const out = ['EQUIVALENCE'];
  if (!e.available) {
    out.push(`  ${e.unavailable}`);
    return out;
  }
  const nodes = e.nodes.length;
  if (e.equivalent) {
    out.push(`  ${e.pathsTraced} paths traced on ${nodes} node${nodes === 1 ? '' : 's'} (every service port, from a pod, the node and outside, to each cluster IP, node port, load-balancer and external IP): ${e.current} and ${e.target} rules treat every one alike.`);
    return out;
  }
  const total = e.groups.reduce((s, g) => s + g.paths.length, 0);
  out.push(`  ${e.pathsTraced} paths traced on ${nodes} node${nodes === 1 ? '' : 's'}; ${total} difference${total === 1 ? '' : 's'} in ${e.groups.length} group${e.groups.length === 1 ? '' : 's'}:`);
  for (const g of e.groups) out.push(...renderGroup(g, opts.verbose ? Infinity : PATHS_SHOWN));
  return out;
}

function renderGroup(g: DifferenceGroup, shown: number): string[] {
  const out = [`  ${g.aspect} (${g.change}), ${g.paths.length} path${g.paths.length === 1 ? '' : 's'}: ${g.explanation}`];
  for (const d of g.paths.slice(0, shown)) {
    const what = g.aspect === 'verdict' || g.aspect === 'masquerade' ? '' : `: ${d.current} -> ${d.target}`;
    out.push(`    ${d.node}  ${d.servicePort}  ${d.via} ${d.destination} from ${d.from}${what}`);
  }
  if (g.paths.length > shown) out.push(`    … and ${g.paths.length - shown} more (-o json lists every one)`);
  return out;
}
