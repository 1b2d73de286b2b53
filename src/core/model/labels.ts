// Well-known label and annotation keys kube-proxy looks at.

/** EndpointSlice label naming the Service a slice belongs to (discovery.LabelServiceName). */
export const LabelServiceName = 'kubernetes.io/service-name';
/** Objects carrying this label (any value) belong to another service proxy; kube-proxy's informers skip them. */
export const LabelServiceProxyName = 'service.kubernetes.io/service-proxy-name';
/** Set by the EndpointSlice controller on slices of headless Services; kube-proxy's informers skip them. */
export const LabelHeadlessService = 'service.kubernetes.io/headless';
/** Node label holding the node's zone (v1.LabelTopologyZone). */
export const LabelTopologyZone = 'topology.kubernetes.io/zone';
/** Service annotation asking the EndpointSlice controller for topology hints. */
export const AnnotationTopologyMode = 'service.kubernetes.io/topology-mode';
/** Its deprecated predecessor. */
export const DeprecatedAnnotationTopologyAwareHints = 'service.kubernetes.io/topology-aware-hints';

/**
 * The label selector kube-proxy's informer factory lists Services and EndpointSlices with
 * (cmd/kube-proxy/app/server.go): `!service.kubernetes.io/service-proxy-name,!service.kubernetes.io/headless`.
 * "DoesNotExist" means the key is absent; a label with an empty value still exists.
 */
export function passesInformerSelector(labels: Record<string, string> | undefined): boolean {
  if (!labels) return true;
  return !Object.hasOwn(labels, LabelServiceProxyName) && !Object.hasOwn(labels, LabelHeadlessService);
}
