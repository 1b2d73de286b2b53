// No cluster and no files: a dump alone. Commands given only --rules read nothing else, and contact no cluster.
import type { ClusterSource } from './source.js';

export const NO_OBJECTS: ClusterSource = {
  description: 'no objects',
  nodes: async () => [],
  services: async () => [],
  endpointSlices: async () => [],
  proxyConfigMaps: async () => [],
  others: async () => [],
};
