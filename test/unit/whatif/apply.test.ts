// Edits applied to the objects as data: the edited object is a copy, the rest keep their identity; a bad
// path, an unknown object or a value of the wrong type is one sentence naming the flag.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { InputError } from '../../../src/core/errors.js';
import { applyEdits, parseEdits, type EditFlags, type WhatIfObjects } from '../../../src/core/whatif/index.js';
import { FileSource } from '../../../src/kube/source.js';

const EXAMPLES = join(fileURLToPath(import.meta.url), '..', '..', '..', '..', 'examples');

async function load(): Promise<WhatIfObjects> {
  const src = new FileSource([EXAMPLES], () => {});
  const [services, endpointSlices, nodes, configMaps] = await Promise.all([src.services(), src.endpointSlices(), src.nodes(), src.proxyConfigMaps()]);
  return { services, endpointSlices, nodes, configMaps };
}

const OPTS = { namespace: 'shop', namespaceExplicit: true, where: 'files examples/' };
const run = async (flags: EditFlags, opts = OPTS) => {
  const input = await load();
  return { input, ...applyEdits(input, parseEdits(flags), opts) };
};
const svc = (o: WhatIfObjects, name: string) => o.services.find((s) => s.metadata?.name === name)!;

function refused(flags: EditFlags, message: RegExp | string) {
  return assert.rejects(run(flags), (err: unknown) => {
    assert.ok(err instanceof InputError, String(err));
    assert.equal(err.exitCode, 2);
    if (typeof message === 'string') assert.equal(err.message, message);
    else assert.match(err.message, message);
    return true;
  });
}

describe('applying what-if edits', () => {
  it('copies the edited Service and keeps every other object as read', async () => {
    const { input, objects, applied } = await run({ set: ['svc/web:spec.externalTrafficPolicy=Local'] });
    assert.equal(svc(objects, 'web').spec?.externalTrafficPolicy, 'Local');
    assert.equal(svc(input, 'web').spec?.externalTrafficPolicy, undefined, 'the object read is not changed');
    assert.notEqual(svc(objects, 'web'), svc(input, 'web'));
    assert.equal(svc(objects, 'cart'), svc(input, 'cart'));
    assert.equal(objects.endpointSlices, objects.endpointSlices);
    assert.deepEqual(applied, [{ flag: '--set svc/web:spec.externalTrafficPolicy=Local', object: 'Service shop/web', change: 'spec.externalTrafficPolicy: (unset) → Local' }]);
  });

  it('says a value of the wrong type in one sentence naming the flag and the field', async () => {
    await refused({ set: ['svc/web:spec.externalTrafficPolicy=Sometimes'] }, '--set svc/web:spec.externalTrafficPolicy=Sometimes: externalTrafficPolicy must be Cluster or Local.');
    await refused({ set: ['svc/web:spec.ports[0].port=70000'] }, '--set svc/web:spec.ports[0].port=70000: port must be a whole number from 1 to 65535.');
    await refused({ set: ['svc/cart:spec.sessionAffinityConfig.clientIP.timeoutSeconds=forever'] }, /timeoutSeconds must be a whole number from 1 to 86400\.$/);
    await refused({ set: ['svc/gateway:spec.loadBalancerSourceRanges=[10.0.0.0/8,nope]'] }, /loadBalancerSourceRanges\[1\] must be a CIDR such as 10\.0\.0\.0\/8\.$/);
    await refused({ set: ['svc/web:spec.publishNotReadyAddresses=yes'] }, /publishNotReadyAddresses must be true or false\.$/);
  });

  it('says a bad path with the fields there are', async () => {
    await refused({ set: ['svc/web:spec.externalTraficPolicy=Local'] }, /^--set svc\/web:spec\.externalTraficPolicy=Local: spec\.externalTraficPolicy is not a field this tool can set on a Service: spec has no field "externalTraficPolicy" \(it has type, .*externalTrafficPolicy.*\)\.$/);
    await refused({ set: ['svc/web:spec.ports[3].port=80'] }, '--set svc/web:spec.ports[3].port=80: spec.ports has 1 item, so [3] is past its end (use [1] to add one).');
    await refused({ set: ['svc/web:spec.type.x=1'] }, /spec\.type has no fields/);
  });

  it('refuses what the model itself would skip (a cluster IP that is no IP)', async () => {
    await refused({ set: ['svc/web:spec.clusterIP=10.0.0.300'] }, /must be an IP address or None\.$/);
    await refused({ set: ['svc/web:spec.clusterIPs=[nope]'] }, /clusterIPs\[0\] must be an IP address or None\.$/);
  });

  it('names an unknown object, with the close names', async () => {
    await refused({ set: ['svc/webb:spec.type=NodePort'] }, '--set svc/webb:spec.type=NodePort: there is no Service webb in namespace shop in files examples/; did you mean web?');
    await refused({ drain: ['node/worker-9'] }, /^--drain node\/worker-9: there is no Node worker-9 in files examples\/; did you mean worker-1, worker-2\?$/);
    await refused({ set: ['svc/kube-dns:spec.type=NodePort'] }, /there is no Service kube-dns in namespace shop in files examples\/; there is one in kube-system/);
  });

  it('without -n, takes a name that only one namespace has', async () => {
    const { objects, applied } = await run({ set: ['svc/kube-dns:spec.sessionAffinity=ClientIP'] }, { ...OPTS, namespace: 'default', namespaceExplicit: false });
    assert.equal(svc(objects, 'kube-dns').spec?.sessionAffinity, 'ClientIP');
    assert.equal(applied[0]!.object, 'Service kube-system/kube-dns');
  });

  it('sets a label whose key has dots, and keeps a label value a string', async () => {
    const { objects } = await run({ set: ['node/worker-1:metadata.labels.topology\\.kubernetes\\.io/zone=1'] });
    assert.equal(objects.nodes.find((n) => n.metadata?.name === 'worker-1')!.metadata?.labels?.['topology.kubernetes.io/zone'], '1');
  });

  it('null removes a field', async () => {
    const { objects, applied } = await run({ set: ['svc/cart:spec.sessionAffinityConfig=null'] });
    assert.equal(svc(objects, 'cart').spec?.sessionAffinityConfig, undefined);
    assert.match(applied[0]!.change, /^spec\.sessionAffinityConfig: \{"clientIP":\{"timeoutSeconds":3600\}\} → \(removed\)$/);
  });

  it('edits config.conf in the kube-proxy ConfigMap, keeping its other lines, refusing what kube-proxy would', async () => {
    const { input, objects, applied } = await run({ set: ['cm/kube-proxy:mode=nftables', 'cm/kube-proxy:nodePortAddresses=[primary]'] });
    const before = input.configMaps[0]!.data!['config.conf']!.split('\n');
    const after = objects.configMaps[0]!.data!['config.conf']!.split('\n');
    assert.ok(after.includes('mode: nftables'));
    assert.deepEqual(after.filter((l) => !before.includes(l)).map((l) => l.trim()), ['mode: nftables', 'nodePortAddresses:', '- primary']);
    assert.equal(applied[0]!.change, 'config.conf mode: ipvs → nftables');
    await refused({ set: ['cm/kube-proxy:mode=bogus'] }, '--set cm/kube-proxy:mode=bogus: mode "bogus" is not one of "", "iptables", "ipvs", "nftables", "kernelspace", "userspace"; set it to one of those.');
    await refused({ set: ['cm/kube-proxy:moda=ipvs'] }, '--set cm/kube-proxy:moda=ipvs: unknown field "moda" is not a KubeProxyConfiguration field.');
    await refused({ set: ['cm/kube-proxy:iptables.masqueradeAll=1'] }, /^--set cm\/kube-proxy:iptables\.masqueradeAll=1: iptables\.masqueradeAll must be true or false, but it is the number 1/);
    await refused({ set: ['cm/kube-proxy:ipvs.syncPeriod=abc'] }, /ipvs\.syncPeriod "abc" is not a duration/);
  });
});

describe('the model\'s own check on an edited object', () => {
  it('refuses an EndpointSlice port kube-proxy would skip (no name)', async () => {
    const input = await load();
    assert.throws(
      () => applyEdits(input, parseEdits({ set: ['endpointslice/web-fn8j6:ports[1].port=81'] }), OPTS),
      { message: '--set endpointslice/web-fn8j6:ports[1].port=81: EndpointSlice shop/web-fn8j6 (as edited): ports[1].name missing (a port with no name); kube-proxy would skip it, so the edit is refused.' },
    );
  });
});

describe('edits that name no single value or no ConfigMap', () => {
  it('says what to write instead', async () => {
    const input = await load();
    const apply = (flags: EditFlags, objs = input) => () => applyEdits(objs, parseEdits(flags), OPTS);
    assert.throws(apply({ set: ['svc/web:spec.ports=3'] }), { message: '--set svc/web:spec.ports=3: ports is a list of objects; set a field of one item (ports[N].FIELD=VALUE).' });
    assert.throws(apply({ set: ['svc/web:metadata.labels=3'] }), { message: '--set svc/web:metadata.labels=3: labels is not a single value; set one of its fields (labels.FIELD=VALUE).' });
    assert.throws(apply({ set: ['cm/kube-proxy:mode=nftables'] }, { ...input, configMaps: [] }), {
      message: '--set cm/kube-proxy:mode=nftables: there is no ConfigMap kube-proxy in files examples/; give its ConfigMap with -f, or use --mode/--config instead.',
    });
  });
});
