// What offline input (-f) lacks, said once: which kinds the files hold none of, and what is assumed in
// their place, so a rendered answer built on kube-proxy's defaults never passes for the cluster's own.
import type { LoadedConfig } from '../config/index.js';

export type InputKind = 'ConfigMap' | 'Node' | 'Service' | 'EndpointSlice';

const ASSUMED: Record<InputKind, string> = {
  ConfigMap: 'kube-proxy ConfigMap (kube-system/kube-proxy, or kube-proxy-config on EKS)',
  Node: 'Nodes',
  Service: 'Services',
  EndpointSlice: 'EndpointSlices',
};

const SAVE: Record<InputKind, string> = {
  ConfigMap: 'kubectl -n kube-system get configmap kube-proxy -o yaml',
  Node: 'kubectl get nodes -o yaml',
  Service: 'kubectl get services -A -o yaml',
  EndpointSlice: 'kubectl get endpointslices -A -o yaml',
};

/** One sentence naming the missing kinds, what stands in for each, and how to save them; undefined when nothing is missing. */
export function missingInputsWarning(description: string, missing: readonly InputKind[], config: LoadedConfig): string | undefined {
  if (missing.length === 0) return undefined;
  const assumed: string[] = [];
  if (missing.includes('ConfigMap')) {
    const mode = config.overridden.includes('mode') ? `mode ${config.effectiveMode} from --mode` : `mode ${config.effectiveMode}`;
    assumed.push(`kube-proxy's built-in defaults stand in for its configuration (${mode}, clusterCIDR ${config.config.clusterCIDR || 'unset'})`);
  }
  if (missing.includes('Node')) assumed.push('no node addresses or node-local endpoints are known');
  if (missing.includes('Service')) assumed.push('there are no Services');
  if (missing.includes('EndpointSlice')) assumed.push('every Service has no endpoints');
  const names = missing.map((k) => ASSUMED[k]);
  const list = names.length === 1 ? names[0] : `${names.slice(0, -1).join(', ')} or ${names[names.length - 1]}`;
  const save = missing.map((k) => `\`${SAVE[k]}\``).join(', ');
  return `${description} hold no ${list}, so ${assumed.join('; ')}; save ${missing.length === 1 ? 'it' : 'them'} beside the other files (${save}, each to its own file) for a true answer.`;
}
