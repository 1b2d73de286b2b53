// Loads the kubeconfig as kubectl does: --kubeconfig, else KUBECONFIG (several paths, merged by
// client-node), else ~/.kube/config, else in-cluster; --context picks a context.
import { KubeConfig } from '@kubernetes/client-node';
import { InputError } from '../core/errors.js';

export interface KubeConfigOptions {
  kubeconfig?: string;
  context?: string;
}

export function loadKubeConfig(opts: KubeConfigOptions): KubeConfig {
  const kc = new KubeConfig();
  try {
    if (opts.kubeconfig) kc.loadFromFile(opts.kubeconfig);
    else kc.loadFromDefault();
  } catch (err) {
    const file = opts.kubeconfig ?? process.env.KUBECONFIG ?? '~/.kube/config';
    const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'it does not exist' : firstLine(err);
    throw new InputError(`cannot read the kubeconfig ${file}: ${why}; pass a valid file with --kubeconfig.`, { cause: err });
  }
  if (opts.context) {
    if (!kc.getContextObject(opts.context)) {
      const known = kc.getContexts().map((c) => c.name);
      throw new InputError(
        `context "${opts.context}" is not in the kubeconfig${known.length ? ` (it has: ${known.join(', ')})` : ''}; pick one with --context.`,
      );
    }
    kc.setCurrentContext(opts.context);
  }
  if (!kc.getCurrentCluster()) {
    throw new InputError('the kubeconfig has no current context with a cluster; choose one with --context or `kubectl config use-context`.');
  }
  return kc;
}

function firstLine(err: unknown): string {
  return String((err as Error)?.message ?? err).split('\n')[0];
}
