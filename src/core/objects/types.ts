// The Kubernetes objects kube-proxy reads, in their JSON shape (as `kubectl get -o yaml` prints them
// and as the API server sends them). Only the fields kube-proxy looks at are typed; the rest pass through.

export interface ObjectMeta {
  name?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  [key: string]: unknown;
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  [key: string]: unknown;
}

export type Protocol = 'TCP' | 'UDP' | 'SCTP';
export type IPFamily = 'IPv4' | 'IPv6';

export interface ServicePortSpec {
  name?: string;
  protocol?: Protocol;
  port: number;
  targetPort?: number | string;
  nodePort?: number;
  appProtocol?: string;
}

export interface LoadBalancerIngress {
  ip?: string;
  hostname?: string;
  ipMode?: 'VIP' | 'Proxy';
  ports?: Array<{ port: number; protocol: Protocol; error?: string }>;
}

export interface Service extends KubeObject {
  kind?: 'Service';
  spec?: {
    type?: 'ClusterIP' | 'NodePort' | 'LoadBalancer' | 'ExternalName';
    clusterIP?: string;
    clusterIPs?: string[];
    ipFamilies?: IPFamily[];
    ipFamilyPolicy?: 'SingleStack' | 'PreferDualStack' | 'RequireDualStack';
    ports?: ServicePortSpec[];
    selector?: Record<string, string>;
    externalIPs?: string[];
    externalName?: string;
    sessionAffinity?: 'None' | 'ClientIP';
    sessionAffinityConfig?: { clientIP?: { timeoutSeconds?: number } };
    externalTrafficPolicy?: 'Cluster' | 'Local';
    internalTrafficPolicy?: 'Cluster' | 'Local';
    healthCheckNodePort?: number;
    loadBalancerIP?: string;
    loadBalancerSourceRanges?: string[];
    loadBalancerClass?: string;
    allocateLoadBalancerNodePorts?: boolean;
    publishNotReadyAddresses?: boolean;
    trafficDistribution?: string;
    [key: string]: unknown;
  };
  status?: { loadBalancer?: { ingress?: LoadBalancerIngress[] } };
}

export interface EndpointConditions {
  ready?: boolean;
  serving?: boolean;
  terminating?: boolean;
}

export interface EndpointHints {
  forZones?: Array<{ name: string }>;
  forNodes?: Array<{ name: string }>;
}

export interface SliceEndpoint {
  addresses: string[];
  conditions?: EndpointConditions;
  hostname?: string;
  nodeName?: string;
  zone?: string;
  hints?: EndpointHints;
  targetRef?: { kind?: string; namespace?: string; name?: string; uid?: string };
}

export interface EndpointPort {
  name?: string;
  protocol?: Protocol;
  port?: number;
  appProtocol?: string;
}

export interface EndpointSlice extends KubeObject {
  kind?: 'EndpointSlice';
  addressType: 'IPv4' | 'IPv6' | 'FQDN';
  endpoints?: SliceEndpoint[] | null;
  ports?: EndpointPort[] | null;
}

export interface NodeAddress {
  type: 'InternalIP' | 'ExternalIP' | 'Hostname' | 'InternalDNS' | 'ExternalDNS';
  address: string;
}

export interface Node extends KubeObject {
  kind?: 'Node';
  spec?: { podCIDR?: string; podCIDRs?: string[]; providerID?: string; [key: string]: unknown };
  status?: {
    addresses?: NodeAddress[];
    nodeInfo?: { kubeProxyVersion?: string; kubeletVersion?: string; osImage?: string; kernelVersion?: string; containerRuntimeVersion?: string; [key: string]: unknown };
    [key: string]: unknown;
  };
}

export interface ConfigMap extends KubeObject {
  kind?: 'ConfigMap';
  data?: Record<string, string>;
}

/** Everything a command may need, as read from the cluster or from files. */
export interface ClusterObjects {
  services: Service[];
  endpointSlices: EndpointSlice[];
  nodes: Node[];
  configMaps: ConfigMap[];
  /** Other kinds kept for later commands (DaemonSets, Pods …), by kind. */
  others: KubeObject[];
}

export function emptyClusterObjects(): ClusterObjects {
  return { services: [], endpointSlices: [], nodes: [], configMaps: [], others: [] };
}
