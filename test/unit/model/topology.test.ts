// CategorizeEndpoints, as upstream topology.go decides it. Cases follow upstream's topology_test.go
// TestCategorizeEndpoints, restated for the newest rules: kube-proxy uses hints whenever the EndpointSlice
// controller wrote them (no annotation check), terminating endpoints are always a fallback, and node hints
// give PreferSameNode.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Endpoint, ServicePort } from '../../../src/core/model/index.js';
import { categorizeEndpoints, topologyModeFromHints } from '../../../src/core/model/index.js';
import { ep, sp, strings } from './fixtures.js';

interface Case {
  name: string;
  nodeLabels?: Record<string, string>;
  nodeName?: string;
  service: ServicePort;
  endpoints: Endpoint[];
  /** null: the policy is never used; []: used, but no endpoints */
  cluster: string[] | null;
  local: string[] | null;
  /** defaults to whichever of cluster/local is set when only one is */
  all?: string[];
  /** hasAnyEndpoints although `all` is empty */
  onlyRemote?: boolean;
}

const zoneA = { 'topology.kubernetes.io/zone': 'zone-a' };
const ready = (endpoint: string, f: Partial<Endpoint> = {}) => ep(endpoint, { ready: true, serving: true, ...f });
const zones = (...z: string[]) => ({ zoneHints: z });
const terminating = (endpoint: string, f: Partial<Endpoint> = {}) => ep(endpoint, { serving: true, terminating: true, ...f });

const fourZoned = [
  ready('10.1.2.3:80', zones('zone-a')),
  ready('10.1.2.4:80', zones('zone-b')),
  ready('10.1.2.5:80', zones('zone-c')),
  ready('10.1.2.6:80', zones('zone-a')),
];

const cases: Case[] = [
  {
    name: 'zone hints: only endpoints hinted for this zone serve Cluster traffic',
    nodeLabels: zoneA,
    service: sp(),
    endpoints: fourZoned,
    cluster: ['10.1.2.3:80', '10.1.2.6:80'],
    local: null,
  },
  {
    name: 'zone hints apply whatever the topology annotation says (the controller reads it, not kube-proxy)',
    nodeLabels: zoneA,
    service: sp({ hintsAnnotation: 'disabled', trafficDistribution: 'Nonsense' }),
    endpoints: fourZoned,
    cluster: ['10.1.2.3:80', '10.1.2.6:80'],
    local: null,
  },
  {
    name: 'externalTrafficPolicy Local: topology ignored for Local endpoints, lists merged',
    nodeLabels: zoneA,
    service: sp({ externalPolicyLocal: true, nodePort: 8080 }),
    endpoints: [
      ready('10.1.2.3:80', { ...zones('zone-a'), isLocal: true }),
      ready('10.1.2.4:80', { ...zones('zone-b'), isLocal: true }),
      ready('10.1.2.5:80', zones('zone-c')),
      ready('10.1.2.6:80', zones('zone-a')),
    ],
    cluster: ['10.1.2.3:80', '10.1.2.6:80'],
    local: ['10.1.2.3:80', '10.1.2.4:80'],
    all: ['10.1.2.3:80', '10.1.2.4:80', '10.1.2.6:80'],
  },
  {
    name: 'internalTrafficPolicy Local with a node port: topology ignored for Local endpoints',
    nodeLabels: zoneA,
    service: sp({ internalPolicyLocal: true, nodePort: 8080 }),
    endpoints: [
      ready('10.1.2.3:80', { ...zones('zone-a'), isLocal: true }),
      ready('10.1.2.4:80', { ...zones('zone-b'), isLocal: true }),
      ready('10.1.2.5:80', zones('zone-c')),
      ready('10.1.2.6:80', zones('zone-a')),
    ],
    cluster: ['10.1.2.3:80', '10.1.2.6:80'],
    local: ['10.1.2.3:80', '10.1.2.4:80'],
    all: ['10.1.2.3:80', '10.1.2.4:80', '10.1.2.6:80'],
  },
  { name: 'no node labels: no zone filtering', nodeLabels: {}, service: sp(), endpoints: [ready('10.1.2.3:80', zones('zone-a'))], cluster: ['10.1.2.3:80'], local: null },
  {
    name: 'empty zone label: no zone filtering',
    nodeLabels: { 'topology.kubernetes.io/zone': '' },
    service: sp(),
    endpoints: [ready('10.1.2.3:80', zones('zone-a'))],
    cluster: ['10.1.2.3:80'],
    local: null,
  },
  {
    name: 'node in a zone no endpoint is hinted for: no filtering',
    nodeLabels: { 'topology.kubernetes.io/zone': 'zone-b' },
    service: sp(),
    endpoints: [ready('10.1.2.3:80', zones('zone-a'))],
    cluster: ['10.1.2.3:80'],
    local: null,
  },
  {
    name: 'an unready endpoint is never used, even when hinted for this zone',
    nodeLabels: zoneA,
    service: sp(),
    endpoints: [fourZoned[0]!, fourZoned[1]!, fourZoned[2]!, ep('10.1.2.6:80', zones('zone-a'))],
    cluster: ['10.1.2.3:80'],
    local: null,
  },
  {
    name: 'only unready endpoints hinted for this zone: no filtering',
    nodeLabels: zoneA,
    service: sp(),
    endpoints: [ep('10.1.2.3:80', zones('zone-a')), fourZoned[1]!, fourZoned[2]!, ep('10.1.2.6:80', zones('zone-a'))],
    cluster: ['10.1.2.4:80', '10.1.2.5:80'],
    local: null,
  },
  {
    name: 'one ready endpoint without a hint: no filtering',
    nodeLabels: zoneA,
    service: sp(),
    endpoints: [fourZoned[0]!, fourZoned[1]!, ready('10.1.2.5:80'), fourZoned[3]!],
    cluster: ['10.1.2.3:80', '10.1.2.4:80', '10.1.2.5:80', '10.1.2.6:80'],
    local: null,
  },
  {
    name: 'an unready endpoint without a hint does not disable filtering',
    nodeLabels: zoneA,
    service: sp(),
    endpoints: [fourZoned[0]!, fourZoned[1]!, ep('10.1.2.5:80')],
    cluster: ['10.1.2.3:80'],
    local: null,
  },
  {
    name: 'several hints per endpoint: any endpoint whose hints include the zone',
    nodeLabels: { 'topology.kubernetes.io/zone': 'zone-c' },
    service: sp(),
    endpoints: [
      ready('10.1.2.3:80', zones('zone-a', 'zone-b', 'zone-c')),
      ready('10.1.2.4:80', zones('zone-b', 'zone-c')),
      ready('10.1.2.5:80', zones('zone-b', 'zone-d')),
      ready('10.1.2.6:80', zones('zone-c')),
    ],
    cluster: ['10.1.2.3:80', '10.1.2.4:80', '10.1.2.6:80'],
    local: null,
  },
  {
    name: 'conflicting topology and localness: all reachable is the merge of both lists',
    nodeLabels: zoneA,
    service: sp({ externalPolicyLocal: true, nodePort: 8080 }),
    endpoints: [
      ready('10.0.0.0:80', { ...zones('zone-a'), isLocal: true }),
      ready('10.0.0.1:80', { ...zones('zone-b'), isLocal: true }),
      ready('10.0.0.2:80', zones('zone-a')),
      ready('10.0.0.3:80', zones('zone-b')),
    ],
    cluster: ['10.0.0.0:80', '10.0.0.2:80'],
    local: ['10.0.0.0:80', '10.0.0.1:80'],
    all: ['10.0.0.0:80', '10.0.0.1:80', '10.0.0.2:80'],
  },
  { name: 'internalTrafficPolicy Local, no endpoints', service: sp({ internalPolicyLocal: true }), endpoints: [], cluster: null, local: [] },
  {
    name: 'internalTrafficPolicy Local, all endpoints remote: none reachable, but some exist',
    service: sp({ internalPolicyLocal: true }),
    endpoints: [ready('10.0.0.0:80'), ready('10.0.0.1:80')],
    cluster: null,
    local: [],
    onlyRemote: true,
  },
  {
    name: 'internalTrafficPolicy Local, all endpoints local',
    service: sp({ internalPolicyLocal: true }),
    endpoints: [ready('10.0.0.0:80', { isLocal: true }), ready('10.0.0.1:80', { isLocal: true })],
    cluster: null,
    local: ['10.0.0.0:80', '10.0.0.1:80'],
  },
  {
    name: 'internalTrafficPolicy Local, some endpoints local',
    service: sp({ internalPolicyLocal: true }),
    endpoints: [ready('10.0.0.0:80', { isLocal: true }), ready('10.0.0.1:80')],
    cluster: null,
    local: ['10.0.0.0:80'],
  },
  { name: 'Cluster policy, no endpoint ready', service: sp(), endpoints: [ep('10.0.0.0:80'), ep('10.0.0.1:80')], cluster: [], local: null },
  { name: 'Cluster policy, some endpoints ready', service: sp(), endpoints: [ep('10.0.0.0:80'), ready('10.0.0.1:80')], cluster: ['10.0.0.1:80'], local: null },
  {
    name: 'Cluster policy, all endpoints terminating but serving: fall back to them',
    service: sp(),
    endpoints: [terminating('10.0.0.0:80', { isLocal: true }), terminating('10.0.0.1:80')],
    cluster: ['10.0.0.0:80', '10.0.0.1:80'],
    local: null,
  },
  {
    name: 'terminating endpoints that no longer serve are not a fallback',
    service: sp(),
    endpoints: [ep('10.0.0.0:80', { terminating: true }), ep('10.0.0.1:80', { serving: true })],
    cluster: [],
    local: null,
  },
  {
    name: 'iTP Local, eTP Cluster, some endpoints local',
    service: sp({ internalPolicyLocal: true, nodePort: 8080 }),
    endpoints: [ready('10.0.0.0:80', { isLocal: true }), ready('10.0.0.1:80')],
    cluster: ['10.0.0.0:80', '10.0.0.1:80'],
    local: ['10.0.0.0:80'],
    all: ['10.0.0.0:80', '10.0.0.1:80'],
  },
  {
    name: 'iTP Cluster, eTP Local, some endpoints local',
    service: sp({ externalPolicyLocal: true, nodePort: 8080 }),
    endpoints: [ready('10.0.0.0:80', { isLocal: true }), ready('10.0.0.1:80')],
    cluster: ['10.0.0.0:80', '10.0.0.1:80'],
    local: ['10.0.0.0:80'],
    all: ['10.0.0.0:80', '10.0.0.1:80'],
  },
  {
    name: 'iTP Local, eTP Local, all endpoints remote',
    service: sp({ internalPolicyLocal: true, externalPolicyLocal: true, nodePort: 8080 }),
    endpoints: [ready('10.0.0.0:80'), ready('10.0.0.1:80')],
    cluster: ['10.0.0.0:80', '10.0.0.1:80'],
    local: [],
    all: ['10.0.0.0:80', '10.0.0.1:80'],
  },
  {
    name: 'iTP Local, eTP Local, all endpoints remote and terminating',
    service: sp({ internalPolicyLocal: true, externalPolicyLocal: true, nodePort: 8080 }),
    endpoints: [terminating('10.0.0.0:80'), terminating('10.0.0.1:80')],
    cluster: ['10.0.0.0:80', '10.0.0.1:80'],
    local: [],
    all: ['10.0.0.0:80', '10.0.0.1:80'],
  },
  {
    name: 'iTP Cluster, eTP Local, local endpoint only terminating: Local falls back to it, lists merged',
    service: sp({ externalPolicyLocal: true, nodePort: 8080 }),
    endpoints: [
      ready('10.0.0.0:80'),
      ep('10.0.0.1:80', { isLocal: true }),
      terminating('10.0.0.2:80', { isLocal: true }),
      terminating('10.0.0.3:80'),
    ],
    cluster: ['10.0.0.0:80'],
    local: ['10.0.0.2:80'],
    all: ['10.0.0.0:80', '10.0.0.2:80'],
  },
  {
    name: 'externalTrafficPolicy Local is ignored when the port is not externally accessible',
    service: sp({ externalPolicyLocal: true }),
    endpoints: [ready('10.0.0.0:80'), ready('10.0.0.1:80', { isLocal: true })],
    cluster: ['10.0.0.0:80', '10.0.0.1:80'],
    local: null,
  },
  {
    name: 'no Cluster endpoints for an iTP Local internal-only service',
    service: sp({ internalPolicyLocal: true }),
    endpoints: [ready('10.0.0.0:80'), ready('10.0.0.1:80', { isLocal: true })],
    cluster: null,
    local: ['10.0.0.1:80'],
  },
  // PreferSameNode (node hints), newest upstream
  {
    name: 'node hints for this node: only those endpoints (PreferSameNode beats zone hints)',
    nodeName: 'node-1',
    nodeLabels: zoneA,
    service: sp(),
    endpoints: [
      ready('10.0.0.1:80', { zoneHints: ['zone-a'], nodeHints: ['node-1'] }),
      ready('10.0.0.2:80', { zoneHints: ['zone-a'], nodeHints: ['node-2'] }),
      ready('10.0.0.3:80', { zoneHints: ['zone-b'], nodeHints: ['node-3'] }),
    ],
    cluster: ['10.0.0.1:80'],
    local: null,
  },
  {
    name: 'node hints but none for this node: fall back to zone hints',
    nodeName: 'node-9',
    nodeLabels: zoneA,
    service: sp(),
    endpoints: [
      ready('10.0.0.1:80', { zoneHints: ['zone-a'], nodeHints: ['node-1'] }),
      ready('10.0.0.2:80', { zoneHints: ['zone-a'], nodeHints: ['node-2'] }),
      ready('10.0.0.3:80', { zoneHints: ['zone-b'], nodeHints: ['node-3'] }),
    ],
    cluster: ['10.0.0.1:80', '10.0.0.2:80'],
    local: null,
  },
  {
    name: 'one ready endpoint without a node hint: node hints ignored, zone hints used',
    nodeName: 'node-1',
    nodeLabels: zoneA,
    service: sp(),
    endpoints: [
      ready('10.0.0.1:80', { zoneHints: ['zone-a'], nodeHints: ['node-1'] }),
      ready('10.0.0.2:80', { zoneHints: ['zone-a'] }),
      ready('10.0.0.3:80', { zoneHints: ['zone-b'], nodeHints: ['node-3'] }),
    ],
    cluster: ['10.0.0.1:80', '10.0.0.2:80'],
    local: null,
  },
  {
    name: 'node hints with no zone label on the node still give PreferSameNode',
    nodeName: 'node-2',
    service: sp(),
    endpoints: [ready('10.0.0.1:80', { nodeHints: ['node-1'] }), ready('10.0.0.2:80', { nodeHints: ['node-2'] })],
    cluster: ['10.0.0.2:80'],
    local: null,
  },
];

function check(c: Case) {
  const r = categorizeEndpoints(c.endpoints, c.service, c.nodeName ?? 'test-node', c.nodeLabels);
  assert.deepEqual(strings(r.clusterEndpoints), c.cluster, 'clusterEndpoints');
  assert.deepEqual(strings(r.localEndpoints), c.local, 'localEndpoints');
  const all = c.all ?? (c.local === null ? c.cluster : c.cluster === null ? c.local : null);
  assert.ok(all !== null, 'test case must say allReachableEndpoints');
  assert.deepEqual(strings(r.allReachableEndpoints), all, 'allReachableEndpoints');
  assert.equal(r.hasAnyEndpoints, all.length > 0 || c.onlyRemote === true, 'hasAnyEndpoints');
}

describe('categorizeEndpoints (upstream TestCategorizeEndpoints, newest rules)', () => {
  for (const c of cases) it(c.name, () => check(c));
});

describe('topologyModeFromHints', () => {
  it('is empty without ready endpoints, even when every endpoint is hinted for this zone', () => {
    assert.equal(topologyModeFromHints([ep('10.0.0.1:80', zones('zone-a'))], 'n', 'zone-a'), '');
    assert.equal(topologyModeFromHints([ready('10.0.0.1:80', zones('zone-a'))], 'n', 'zone-a'), 'PreferSameZone');
    assert.equal(topologyModeFromHints([ready('10.0.0.1:80', { nodeHints: ['n'] })], 'n', 'zone-a'), 'PreferSameNode');
  });
});

describe('endpoint order is kept', () => {
  it('each list keeps the input order, including the merged list', () => {
    const eps = [
      ready('10.0.0.10:80', { zoneHints: ['zone-a'] }),
      ready('10.0.0.1:80', { zoneHints: ['zone-b'], isLocal: true }),
      ready('10.0.0.2:80', { zoneHints: ['zone-a'] }),
    ];
    const r = categorizeEndpoints(eps, sp({ externalPolicyLocal: true, nodePort: 30000 }), 'n', zoneA);
    assert.deepEqual(strings(r.clusterEndpoints), ['10.0.0.10:80', '10.0.0.2:80']);
    assert.deepEqual(strings(r.allReachableEndpoints), ['10.0.0.10:80', '10.0.0.1:80', '10.0.0.2:80']);
  });
});
