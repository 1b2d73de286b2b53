// Loads the kubeconfig as kubectl does: --kubeconfig (must exist), else every KUBECONFIG path that
// exists, merged with the first file's settings winning (missing entries are skipped, as kubectl's
// loading rules do), else ~/.kube/config, else in-cluster; --context picks a context. No config at all,
// or one with no cluster, is one sentence, not client-node's fallback to http://localhost:8080.
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { ClusterError, InputError } from '../core/errors.js';

export interface KubeConfigOptions {
  kubeconfig?: string;
  context?: string;
}

export const NO_CLUSTER = 'no cluster is configured: set KUBECONFIG or use -f to read saved objects.';

const SA_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

/** The kubeconfig files kubectl would read, in precedence order; [] when there are none. */
export function kubeconfigPaths(opts: KubeConfigOptions, env: NodeJS.ProcessEnv = process.env): string[] {
  if (opts.kubeconfig) return [opts.kubeconfig];
  if (env.KUBECONFIG) return env.KUBECONFIG.split(delimiter).filter((p) => p && existsSync(p));
  const home = join(env.HOME || homedir(), '.kube', 'config');
  return existsSync(home) ? [home] : [];
}

export function loadKubeConfig(opts: KubeConfigOptions): KubeConfig {
  const kc = new KubeConfig();
  const paths = kubeconfigPaths(opts);
  if (paths.length === 0) {
    if (!opts.kubeconfig && !process.env.KUBECONFIG && process.env.KUBERNETES_SERVICE_HOST && existsSync(SA_TOKEN)) {
      kc.loadFromCluster();
      return pickContext(kc, opts);
    }
    throw new ClusterError(NO_CLUSTER);
  }
  let loaded = 0;
  for (const file of paths) {
    const one = new KubeConfig();
    try {
      const text = readFileSync(file, 'utf8');
      if (!text.trim()) continue;
      const doc: unknown = parse(text);
      if (doc === null || doc === undefined) continue;
      if (typeof doc !== 'object' || Array.isArray(doc)) throw new TypeError('not a mapping');
      one.loadFromString(text);
    } catch (err) {
      const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'it does not exist' : err instanceof TypeError ? 'it is not a kubeconfig (YAML with clusters, contexts and users)' : firstLine(err);
      throw new InputError(`cannot read the kubeconfig ${file}: ${why}; pass a valid file with --kubeconfig.`, { cause: err });
    }
    if (loaded++ === 0) {
      kc.loadFromOptions({ clusters: [...one.clusters], users: [...one.users], contexts: [...one.contexts], currentContext: one.currentContext });
      continue;
    }
    // kubectl's merge: the first file to set a name (or current-context) wins.
    if (!kc.currentContext && one.currentContext) kc.setCurrentContext(one.currentContext);
    for (const c of one.clusters) if (!kc.getCluster(c.name)) kc.addCluster(c);
    for (const u of one.users) if (!kc.getUser(u.name)) kc.addUser(u);
    for (const c of one.contexts) if (!kc.getContextObject(c.name)) kc.addContext(c);
  }
  if (loaded === 0 || kc.clusters.length === 0) throw new ClusterError(NO_CLUSTER);
  return pickContext(kc, opts);
}

function pickContext(kc: KubeConfig, opts: KubeConfigOptions): KubeConfig {
  if (opts.context) {
    if (!kc.getContextObject(opts.context)) {
      const known = kc.getContexts().map((c) => c.name);
      throw new InputError(
        `context "${opts.context}" is not in the kubeconfig${known.length ? ` (it has: ${known.join(', ')})` : ''}; pick one with --context.`,
      );
    }
    kc.setCurrentContext(opts.context);
  }
  if (!kc.currentContext) throw new ClusterError('the kubeconfig has no current context: choose one with --context or `kubectl config use-context`.');
  if (!kc.getCurrentCluster()) {
    throw new InputError(`the kubeconfig's context "${kc.currentContext}" names no cluster it defines; choose another with --context or \`kubectl config use-context\`.`);
  }
  return kc;
}

/** The namespace of the current (or --context) context, kubectl's default for -n; undefined when unset or unreadable. */
export function contextNamespace(opts: KubeConfigOptions): string | undefined {
  try {
    const kc = loadKubeConfig(opts);
    return kc.getContextObject(kc.currentContext)?.namespace || undefined;
  } catch {
    return undefined;
  }
}

function firstLine(err: unknown): string {
  return String((err as Error)?.message ?? err).split('\n')[0];
}
