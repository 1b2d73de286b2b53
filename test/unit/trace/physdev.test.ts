// -m physdev in the iptables tracer, under its bridge model: a pod on this node arrives bridged in (its veth
// on the pod bridge), is routed to the Service, never bridged out; packets from elsewhere never crossed a bridge.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseIptablesSave } from '../../../src/core/iptables/parse.js';
import type { Ruleset } from '../../../src/core/iptables/types.js';
import { iptablesEvaluator, type NodeContext, type Packet } from '../../../src/core/trace/index.js';
import { eps } from './helpers.js';

function nat(rules: string): Ruleset {
  return parseIptablesSave(`*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n${rules}COMMIT\n`, { family: 'IPv4' });
}
const ctx: NodeContext = { localAddresses: ['192.168.0.2'], podCIDRs: ['10.0.0.0/24'] };
const from = (entry: Packet['entry'], src = '10.0.0.5'): Packet => ({ src, dst: '10.96.0.1', dport: 80, protocol: 'TCP', entry });
const trace = (rules: string, p: Packet) => iptablesEvaluator(nat(`${rules}-A PREROUTING -d 10.96.0.1 -j DNAT --to-destination 10.9.9.9:80\n`)).trace(p, ctx);

describe('-m physdev from the packet\'s entry point', () => {
  // kube-proxy's ipvs rule: packets not from a bridge port and not from the node are accepted in nat (no DNAT).
  const ipvsRule = '-A PREROUTING -m physdev ! --physdev-is-in -m addrtype ! --src-type LOCAL -j ACCEPT\n';

  it('a packet from outside did not arrive on a bridge port: ! --physdev-is-in matches', () => {
    const r = trace(ipvsRule, from('external', '203.0.113.7'));
    assert.deepEqual(eps(r), []);
    assert.deepEqual(r.qualifications, []);
  });

  it('a pod on the bridge did: ! --physdev-is-in does not match, the DNAT rule follows', () => {
    const r = trace(ipvsRule, from('pod-local'));
    assert.deepEqual(eps(r), ['10.9.9.9:80 1.0000']);
    assert.deepEqual(r.qualifications, []);
  });

  it('--physdev-is-in matches the bridged pod only; a pod on another node came over the uplink', () => {
    const rule = '-A PREROUTING -m physdev --physdev-is-in -j ACCEPT\n';
    assert.deepEqual(eps(trace(rule, from('pod-local'))), []);
    assert.deepEqual(eps(trace(rule, from('pod-remote', '10.0.1.5'))), ['10.9.9.9:80 1.0000']);
  });

  it('a routed packet is never bridged out: --physdev-is-out and --physdev-is-bridged do not match', () => {
    for (const opt of ['--physdev-is-out', '--physdev-is-bridged', '--physdev-out veth+']) {
      assert.deepEqual(eps(trace(`-A PREROUTING -m physdev ${opt} -j ACCEPT\n`, from('pod-local'))), ['10.9.9.9:80 1.0000'], opt);
    }
  });

  it('--physdev-in names are compared by class; a name of no class is not evaluated', () => {
    assert.deepEqual(eps(trace('-A PREROUTING -m physdev --physdev-in veth+ -j ACCEPT\n', from('pod-local'))), []);
    assert.deepEqual(eps(trace('-A PREROUTING -m physdev --physdev-in eth0 -j ACCEPT\n', from('pod-local'))), ['10.9.9.9:80 1.0000']);
    const odd = trace('-A PREROUTING -m physdev --physdev-in zz9 -j ACCEPT\n', from('pod-local'));
    assert.ok(odd.qualifications.some((q) => q.includes('--physdev-in zz9')), odd.qualifications.join('\n'));
  });
});
