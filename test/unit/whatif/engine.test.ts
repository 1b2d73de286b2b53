// What-if answers checked against the engine: the edited objects, rendered and traced through the same
// hook the commands use (kube/whatif-source.ts), must give exactly what the engine gives for files where
// the same change was made by hand. Then the answers operators ask for: ETP Local on a node without a local
// endpoint drops, scaling to zero rejects, draining a node falls back to its terminating endpoints only
// when no ready endpoint remains anywhere (CategorizeEndpoints, pkg/proxy/topology.go), and a ConfigMap
// edit changes the rendered mode.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { modeFor } from '../../../src/core/modes/registry.js';
import type { EndpointSlice, KubeObject, Service } from '../../../src/core/objects/types.js';
import { buildProxyView } from '../../../src/core/proxy-view.js';
import type { Packet } from '../../../src/core/trace/types.js';
import type { EditFlags } from '../../../src/core/whatif/index.js';
import { loadProxyConfig } from '../../../src/kube/proxy-config.js';
import { FileSource } from '../../../src/kube/source.js';
import { withWhatIf } from '../../../src/kube/whatif-source.js';

const EXAMPLES = join(fileURLToPath(import.meta.url), '..', '..', '..', '..', 'examples');
const tmp = mkdtempSync(join(tmpdir(), 'proxymode-whatif-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** The engine on a folder, with what-if edits (through the commands' hook) or without. */
async function engine(dir: string, node: string, edits?: EditFlags, mode?: string) {
  const read = new FileSource([dir], () => {});
  const whatIf = edits ? await withWhatIf(read, edits, { namespace: 'shop', namespaceExplicit: true, say: () => {} }) : undefined;
  const source = whatIf?.source ?? read;
  const loaded = await loadProxyConfig(source, undefined, { hostnameOverride: node, ...(mode ? { mode } : {}) }, { warn: () => {} });
  const [services, endpointSlices, nodes] = await Promise.all([source.services(), source.endpointSlices(), source.nodes()]);
  const view = buildProxyView({ services, endpointSlices, nodes }, loaded.config, source.description);
  const def = modeFor(loaded.effectiveMode, 'test');
  const states = def.render(view, loaded.config, {});
  const v4 = view.families.find((f) => f.family === 'IPv4')!;
  return {
    mode: def.mode,
    rules: states.map((s) => def.canonicalLines(s).join('\n')).join('\n'),
    trace: (p: Omit<Packet, 'protocol'>) => def.tracer(states, { rendered: true }).trace({ protocol: 'TCP', ...p }, { nodeName: node, localAddresses: v4.nodeIPs, podCIDRs: v4.podCIDRs }),
    applied: whatIf?.applied ?? [],
  };
}

/** A copy of examples/ with one file's objects changed by `change` (the "by hand" side). */
function handEdited(name: string, file: string, change: (items: KubeObject[]) => void): string {
  const dir = join(tmp, name);
  cpSync(EXAMPLES, dir, { recursive: true });
  const doc = parse(readFileSync(join(dir, file), 'utf8')) as { items: KubeObject[] } & KubeObject;
  if (doc.items) change(doc.items);
  else change([doc]);
  writeFileSync(join(dir, file), stringify(doc));
  return dir;
}

const FROM_POD_W1 = { src: '10.244.1.254', entry: 'pod-local' as const };
const endpoints = (r: { endpoints: Array<{ ip: string; probability: number }> }) => r.endpoints.map((e) => `${e.ip} ${(e.probability * 100).toFixed(1)}%`);
const slicesOf = (items: KubeObject[], svc: string) => (items as EndpointSlice[]).filter((s) => s.metadata?.labels?.['kubernetes.io/service-name'] === svc);

describe('what-if edits against the engine', () => {
  it('ETP Local on a node without a local endpoint drops external traffic; Cluster forwarded it', async () => {
    // the base: examples/ with shop/admin (its one pod on worker-2) at Cluster policy, edited by hand
    const base = handEdited('admin-cluster', 'services.yaml', (items) => {
      (items as Service[]).find((s) => s.metadata?.name === 'admin')!.spec!.externalTrafficPolicy = 'Cluster';
    });
    const nodePort = { ...{ src: '203.0.113.9', entry: 'external' as const }, dst: '192.168.10.21', dport: 30080 };
    const cluster = await engine(base, 'worker-1', undefined, 'iptables');
    assert.equal(cluster.trace(nodePort).verdict, 'forwarded');
    const local = await engine(base, 'worker-1', { set: ['svc/admin:spec.externalTrafficPolicy=Local'] }, 'iptables');
    const byHand = await engine(EXAMPLES, 'worker-1', undefined, 'iptables'); // examples/ has admin at Local
    assert.equal(local.rules, byHand.rules);
    assert.equal(local.trace(nodePort).verdict, 'dropped');
    assert.deepEqual(local.trace(nodePort).endpoints, []);
    // on worker-2, where the pod runs, the same packet is forwarded to it
    const w2 = await engine(base, 'worker-2', { set: ['svc/admin:spec.externalTrafficPolicy=Local'] }, 'iptables');
    assert.deepEqual(endpoints(w2.trace({ ...nodePort, dst: '192.168.10.22' })), ['10.244.2.27 100.0%']);
  });

  it('scaling to zero rejects, exactly as a slice with no endpoints does', async () => {
    const whatIf = await engine(EXAMPLES, 'worker-1', { 'scale-endpoints': ['svc/web=0'] }, 'iptables');
    const byHand = await engine(handEdited('web-none', 'endpointslices.yaml', (items) => { for (const s of slicesOf(items, 'web')) s.endpoints = []; }), 'worker-1', undefined, 'iptables');
    assert.equal(whatIf.rules, byHand.rules);
    const r = whatIf.trace({ ...FROM_POD_W1, dst: '10.103.81.20', dport: 80 });
    assert.equal(r.verdict, 'rejected');
    assert.match(whatIf.applied[0]!.change, /IPv4: 3 → 0 ready/);
  });

  it('scaling down keeps the first N ready endpoints; up clones them with free addresses of their node\'s pod CIDR', async () => {
    const down = await engine(EXAMPLES, 'worker-1', { 'scale-endpoints': ['svc/web=1'] }, 'iptables');
    assert.deepEqual(endpoints(down.trace({ ...FROM_POD_W1, dst: '10.103.81.20', dport: 80 })), ['10.244.0.5 100.0%']);
    const up = await engine(EXAMPLES, 'worker-1', { 'scale-endpoints': ['svc/web=5'] }, 'iptables');
    const eps = up.trace({ ...FROM_POD_W1, dst: '10.103.81.20', dport: 80 }).endpoints.map((e) => e.ip).sort();
    // clones of the cp-1 and worker-1 pods: the lowest free addresses of 10.244.0.0/24 and 10.244.1.0/24
    assert.deepEqual(eps, ['10.244.0.4', '10.244.0.5', '10.244.1.2', '10.244.1.7', '10.244.2.4']);
    // dual stack: each family keeps N (api has one slice per family)
    const api = await engine(EXAMPLES, 'worker-1', { 'scale-endpoints': ['svc/api=1'] }, 'iptables');
    assert.match(api.applied[0]!.change, /IPv4: 2 → 1 ready .*; IPv6: 2 → 1 ready/);
  });

  it('draining a node makes its endpoints terminating; they serve only when no ready endpoint remains anywhere', async () => {
    const drained = await engine(EXAMPLES, 'worker-1', { drain: ['node/worker-2'] }, 'iptables');
    const byHand = await engine(handEdited('drain-w2', 'endpointslices.yaml', (items) => {
      for (const s of items as EndpointSlice[]) for (const ep of s.endpoints ?? []) {
        if (ep.nodeName === 'worker-2' && !ep.conditions?.terminating) ep.conditions = { ready: false, serving: true, terminating: true };
      }
    }), 'worker-1', undefined, 'iptables');
    assert.equal(drained.rules, byHand.rules);
    // web has ready pods on cp-1 and worker-1: the draining one on worker-2 takes no new connection
    assert.deepEqual(endpoints(drained.trace({ ...FROM_POD_W1, dst: '10.103.81.20', dport: 80 })), ['10.244.0.5 50.0%', '10.244.1.7 50.0%']);
    // admin's only pod is on worker-2: no ready endpoint anywhere, so its serving terminating one is used
    const admin = drained.trace({ ...FROM_POD_W1, dst: '10.101.22.9', dport: 80 });
    assert.equal(admin.verdict, 'forwarded');
    assert.deepEqual(endpoints(admin), ['10.244.2.27 100.0%']);
    // and once it no longer serves (its readiness failed), nothing is left: rejected
    const gone = await engine(EXAMPLES, 'worker-1', { set: ['endpointslice/admin-f789t:endpoints[0].conditions.ready=false', 'endpointslice/admin-f789t:endpoints[0].conditions.serving=false'], drain: ['node/worker-2'] }, 'iptables');
    assert.equal(gone.trace({ ...FROM_POD_W1, dst: '10.101.22.9', dport: 80 }).verdict, 'rejected');
  });

  it('--set cm/kube-proxy:mode=nftables renders nftables, as the ConfigMap edited by hand does', async () => {
    const whatIf = await engine(EXAMPLES, 'worker-1', { set: ['cm/kube-proxy:mode=nftables'] });
    assert.equal(whatIf.mode, 'nftables');
    const dir = join(tmp, 'cm-nft');
    cpSync(EXAMPLES, dir, { recursive: true });
    const file = join(dir, 'kube-proxy-configmap.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('    mode: ipvs\n', '    mode: nftables\n'));
    const byHand = await engine(dir, 'worker-1');
    assert.equal(byHand.mode, 'nftables');
    assert.equal(whatIf.rules, byHand.rules);
    assert.equal((await engine(EXAMPLES, 'worker-1')).mode, 'ipvs');
  });
});
