// Choosing iptables-nft or iptables-legacy as kube-proxy's iptables-wrapper does
// (kubernetes-sigs/iptables-wrappers: kubelet chains in nft's mangle, then in legacy, then more rules wins,
// nft on a tie).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { countKubeChains, countRules, detectIptablesKind, hasKubeletChains } from '../../../src/core/host/index.js';
import { byArgv } from './scripted.js';

const MANGLE_HINT = '*mangle\n:PREROUTING ACCEPT [0:0]\n:KUBE-IPTABLES-HINT - [0:0]\n:KUBE-KUBELET-CANARY - [0:0]\nCOMMIT\n';
const EMPTY_MANGLE = '*mangle\n:PREROUTING ACCEPT [0:0]\nCOMMIT\n';
const rules = (n: number, chain = 'KUBE-SERVICES') =>
  `*nat\n:PREROUTING ACCEPT [0:0]\n:${chain} - [0:0]\n${Array.from({ length: n }, (_, i) => `-A ${chain} -d 10.96.0.${i}/32 -j RETURN\n`).join('')}COMMIT\n`;

describe('detectIptablesKind', () => {
  it("kubelet's chains in iptables-nft's mangle table decide at once (one command)", async () => {
    const r = byArgv({ 'iptables-nft-save -t mangle': { stdout: MANGLE_HINT } });
    const d = await detectIptablesKind(r.run);
    assert.equal(d.kind, 'nft');
    assert.equal(d.reason, "kubelet's chains are in iptables-nft's IPv4 mangle table");
    assert.deepEqual(r.calls, ['iptables-nft-save -t mangle']);
  });

  it("kubelet's chains in legacy (read without -t, which would create the table) beat more nft rules", async () => {
    const r = byArgv({
      'iptables-nft-save -t mangle': { stdout: EMPTY_MANGLE },
      'ip6tables-nft-save -t mangle': { stdout: EMPTY_MANGLE },
      'iptables-legacy-save': { stdout: '' },
      'ip6tables-legacy-save': { stdout: MANGLE_HINT },
      'iptables-nft-save': { stdout: rules(50) },
    });
    const d = await detectIptablesKind(r.run);
    assert.deepEqual([d.kind, d.reason], ['legacy', "kubelet's chains are in iptables-legacy's IPv6 tables"]);
    assert.deepEqual(r.calls, ['iptables-nft-save -t mangle', 'ip6tables-nft-save -t mangle', 'iptables-legacy-save', 'ip6tables-legacy-save']);
  });

  it('without kubelet chains, the backend with more rules (both families counted) wins', async () => {
    const r = byArgv({
      'iptables-nft-save -t mangle': {},
      'ip6tables-nft-save -t mangle': {},
      'iptables-legacy-save': { stdout: rules(3) },
      'ip6tables-legacy-save': { stdout: rules(2) },
      'iptables-nft-save': { stdout: rules(4) },
      'ip6tables-nft-save': { stdout: '' },
    });
    const d = await detectIptablesKind(r.run);
    assert.equal(d.kind, 'legacy');
    assert.equal(d.reason, 'iptables-legacy holds more rules (5) than iptables-nft (4)');
    assert.deepEqual([d.legacy.rules, d.nft.rules, d.legacy.kubeChains, d.nft.kubeChains], [5, 4, 2, 1]);
  });

  it('a tie goes to nft, and so does a host with no rules at all', async () => {
    const tie = byArgv({
      'iptables-nft-save -t mangle': {},
      'ip6tables-nft-save -t mangle': {},
      'iptables-legacy-save': { stdout: rules(3) },
      'ip6tables-legacy-save': {},
      'iptables-nft-save': { stdout: rules(3, 'OTHER') },
      'ip6tables-nft-save': {},
    });
    assert.equal((await detectIptablesKind(tie.run)).kind, 'nft');
    const none = byArgv({
      'iptables-nft-save -t mangle': {},
      'ip6tables-nft-save -t mangle': {},
      'iptables-legacy-save': {},
      'ip6tables-legacy-save': {},
      'iptables-nft-save': {},
      'ip6tables-nft-save': {},
    });
    const d = await detectIptablesKind(none.run);
    assert.deepEqual([d.kind, d.reason], ['nft', 'neither backend holds rules, and nft is the default']);
  });

  it('failing save commands count as empty; when only legacy is installed it is chosen', async () => {
    const r = byArgv({ 'iptables-legacy-save': { stdout: '' }, 'ip6tables-legacy-save': { code: 1, stderr: 'x' } });
    const d = await detectIptablesKind(r.run);
    assert.deepEqual([d.kind, d.nft.available, d.legacy.available], ['legacy', false, true]);
  });

  it('helpers', () => {
    assert.equal(hasKubeletChains(MANGLE_HINT), true);
    assert.equal(hasKubeletChains('-A X -j KUBE-KUBELET-CANARY\n'), false);
    assert.equal(countRules('*nat\n-A X\n[1:2] -A Y\n:Z - [0:0]\n'), 2);
    assert.equal(countKubeChains(rules(1) + MANGLE_HINT), 3);
  });
});
