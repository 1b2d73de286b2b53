// The words `set-mode` prints for a person: the plan (where, pre-flight, equivalence, the change) and the
// outcome. Pure text; the command decides where it goes.
import type { DifferenceGroup, EquivalenceReport } from '../equivalence/compare.js';
import type { SetModePlan } from './plan.js';
import { describeLeftover, summarizeLeftovers, type NodeLeftovers } from './leftovers.js';

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

/** The LEFTOVERS section: per node what the running mode does not write, and (after --cleanup) what was removed. */
export function renderLeftovers(
  found: ReadonlyArray<NodeLeftovers>,
  opts: { mode: string; note?: string; removed?: ReadonlyArray<{ node: string; steps: Array<{ what: string; ok: boolean; why?: string }>; error?: string }>; verbose?: boolean },
): string {
  const out = ['', `LEFTOVERS (what ${opts.mode} mode does not write)`];
  if (opts.note) out.push(`  ${opts.note}`);
  for (const n of found) {
    const unread = n.leftovers.length === 0 && n.notRead.length === 1 && n.notRead[0].startsWith('its rules');
    out.push(unread ? `  ${n.node}: not read: ${n.notRead[0]}` : `  ${n.node}: ${summarizeLeftovers(n.leftovers)}${n.notRead.length ? `; not read: ${n.notRead.join(', ')}` : ''}`);
    const shown = opts.verbose ? n.leftovers : n.leftovers.filter((l) => l.kind !== 'chain' || !/^KUBE-(SVC|SEP|SVL|EXT|FW|XLB)-/.test(l.chain));
    for (const l of shown.slice(0, opts.verbose ? undefined : PATHS_SHOWN)) out.push(`      ${describeLeftover(l)}`);
    const hidden = n.leftovers.length - Math.min(shown.length, opts.verbose ? shown.length : PATHS_SHOWN);
    if (hidden > 0) out.push(`      … and ${hidden} more (-o wide lists all)`);
    const r = opts.removed?.find((x) => x.node === n.node);
    if (r?.error) out.push(`      cleanup failed: ${r.error}`);
    else if (r) {
      const failed = r.steps.filter((s) => !s.ok);
      out.push(`      cleanup: ${r.steps.length - failed.length} of ${r.steps.length} steps done${failed.length ? `; failed: ${failed.map((s) => `${s.what} (${s.why ?? 'no message'})`).join('; ')}` : ''}`);
    }
  }
  if (!found.length) out.push('  no nodes with a kube-proxy pod to read.');
  return out.join('\n');
}
