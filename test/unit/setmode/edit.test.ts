// config.conf edits keep every byte but the value they change: comments, order, quoting, indentation,
// CRLF, and a config.conf written as JSON.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { editProxyConfig } from '../../../src/core/setmode/edit.js';

const edit = (text: string, mode: string, scheduler?: string) => editProxyConfig(text, { mode, scheduler }, 'config.conf');

describe('editProxyConfig', () => {
  it('changes only the mode value, keeping comments, quoting and order', () => {
    const text = 'apiVersion: kubeproxy.config.k8s.io/v1alpha1\n# chosen by the platform team\nmode: "" # empty: iptables\nkind: KubeProxyConfiguration\n';
    const r = edit(text, 'ipvs');
    assert.equal(r.text, text.replace('mode: ""', 'mode: "ipvs"'));
    assert.deepEqual(r.changes, ['mode: "" -> "ipvs"']);
  });

  it('keeps single quotes, plain style and odd indentation', () => {
    const text = "kind: KubeProxyConfiguration\nipvs:\n     scheduler: 'rr'\n     strictARP: true\nmode:   iptables\n";
    const r = edit(text, 'ipvs', 'lc');
    assert.equal(r.text, "kind: KubeProxyConfiguration\nipvs:\n     scheduler: 'lc'\n     strictARP: true\nmode:   ipvs\n");
  });

  it('keeps CRLF line ends, also on lines it adds', () => {
    const text = 'apiVersion: kubeproxy.config.k8s.io/v1alpha1\r\nkind: KubeProxyConfiguration\r\nmode: iptables\r\n';
    const r = edit(text, 'ipvs', 'wrr');
    assert.equal(r.text, 'apiVersion: kubeproxy.config.k8s.io/v1alpha1\r\nkind: KubeProxyConfiguration\r\nmode: ipvs\r\nipvs:\r\n  scheduler: wrr\r\n');
    assert.ok(!/[^\r]\n/.test(r.text), 'every line ends in CRLF');
  });

  it('edits a config.conf written as JSON, as JSON', () => {
    const text = '{\n  "apiVersion": "kubeproxy.config.k8s.io/v1alpha1",\n  "kind": "KubeProxyConfiguration",\n  "mode": "iptables"\n}\n';
    const r = edit(text, 'ipvs', 'sh');
    assert.equal(r.text, '{\n  "apiVersion": "kubeproxy.config.k8s.io/v1alpha1",\n  "kind": "KubeProxyConfiguration",\n  "mode": "ipvs",\n  "ipvs": {"scheduler": "sh"}\n}\n');
    assert.deepEqual(JSON.parse(r.text).ipvs, { scheduler: 'sh' });
  });

  it('adds mode where none is written, at the indentation of the other keys', () => {
    const text = 'apiVersion: x\nkind: KubeProxyConfiguration\nclientConnection:\n  kubeconfig: /var/lib/kube-proxy/kubeconfig.conf\n# trailing comment\n';
    const r = edit(text, 'ipvs');
    assert.equal(parse(r.text).mode, 'ipvs');
    assert.ok(r.text.startsWith(text.slice(0, text.indexOf('# trailing'))));
    assert.ok(r.text.includes('# trailing comment'));
  });

  it('writes a value for a bare `mode:`', () => {
    assert.equal(edit('kind: KubeProxyConfiguration\nmode:\n', 'ipvs').text, 'kind: KubeProxyConfiguration\nmode: ipvs\n');
  });

  it('says nothing changed when the mode is already set', () => {
    assert.deepEqual(edit('mode: ipvs\n', 'ipvs').changes, []);
  });

  it('refuses YAML it cannot read with one sentence', () => {
    assert.throws(() => edit('mode: [\n', 'ipvs'), /config\.conf is not valid YAML .*; fix it before switching modes\./);
  });

  it('keeps every byte of kubeadm\'s real config.conf but the mode', async () => {
    const { readFileSync } = await import('node:fs');
    const cm = JSON.parse(readFileSync(new URL('../../kube/fixtures/kubeadm/kube-proxy-configmap.json', import.meta.url), 'utf8'));
    const text: string = cm.data['config.conf'];
    const r = edit(text, 'ipvs', 'lc');
    assert.equal(r.text, text.replace('mode: ""', 'mode: "ipvs"').replace(/(ipvs:\n(?:  .*\n)*?  scheduler: )""/, '$1"lc"'));
  });
});
