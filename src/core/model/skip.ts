// Why kube-proxy writes no rules for a Service it can see: its informer's label selector leaves the
// Service out, or proxyutil.ShouldSkipService drops it (headless, ExternalName). Commands say this
// instead of "not found" when a user names such a Service.
import type { Service } from '../objects/types.js';
import { LabelHeadlessService, LabelServiceProxyName } from './labels.js';

export function skipReason(svc: Service): string | undefined {
  const labels = svc.metadata?.labels ?? {};
  if (Object.hasOwn(labels, LabelServiceProxyName)) {
    return `it carries the label ${LabelServiceProxyName}=${labels[LabelServiceProxyName]}, so another service proxy serves it and kube-proxy does not watch it`;
  }
  if (Object.hasOwn(labels, LabelHeadlessService)) return `it carries the label ${LabelHeadlessService}, which kube-proxy does not watch`;
  if (svc.spec?.type === 'ExternalName') return `it is an ExternalName Service (spec.externalName ${svc.spec.externalName ?? '<unset>'}): cluster DNS answers with a CNAME and no proxy is involved`;
  const ip = svc.spec?.clusterIP ?? '';
  if (ip === 'None' || ip === '') return `it is headless (spec.clusterIP ${ip === '' ? 'unset' : 'None'}): cluster DNS answers with the pods' own addresses and no proxy is involved`;
  return undefined;
}

/** The sentence for a named Service kube-proxy ignores, or undefined when it is not one. */
export function ignoredServiceSentence(services: readonly Service[], namespace: string, name: string): string | undefined {
  const svc = services.find((s) => s.metadata?.namespace === namespace && s.metadata?.name === name);
  const why = svc ? skipReason(svc) : undefined;
  return why ? `kube-proxy writes no rules for Service ${namespace}/${name}: ${why}.` : undefined;
}
