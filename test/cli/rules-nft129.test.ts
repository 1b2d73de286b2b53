// `rules --mode nftables --kube-proxy-version 1.29` on examples/: the config leaves nodePortAddresses unset,
// which 1.29 took as every local IP (the "primary" default came in 1.30); the forward chain's drop follows
// nf_conntrack_tcp_be_liberal, which the header says it assumed, or read from the dump's forward chain.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ROOT, proxymode } from './run.js';

const BASE = ['rules', '-f', 'examples/', '--mode', 'nftables', '--node', 'worker-1'];
const DUMP = join(ROOT, 'test', 'unit', 'nftables', 'fixtures', 'layout-1.29.nft.txt');

describe('rules --kube-proxy-version 1.29 (nftables)', () => {
  it('answers NodePorts on every local IP when nodePortAddresses is unset; 1.31 on the primary IP only', () => {
    const old = proxymode([...BASE, '--kube-proxy-version', '1.29', '-o', 'nft']);
    assert.equal(old.code, 0, old.stderr);
    assert.match(old.stdout, /^add rule ip kube-proxy services fib daddr type local ip daddr != 127\.0\.0\.0\/8 meta l4proto \. th dport vmap @service-nodeports$/m);
    assert.doesNotMatch(old.stdout, /^add element ip kube-proxy nodeport-ips /m);
    assert.match(old.stdout, /^add rule ip kube-proxy forward ct state invalid drop$/m);
    const newer = proxymode([...BASE, '--kube-proxy-version', '1.31', '-o', 'nft']);
    assert.equal(newer.code, 0, newer.stderr);
    assert.match(newer.stdout, /^add rule ip kube-proxy services ip daddr @nodeport-ips meta l4proto \. th dport vmap @service-nodeports$/m);
    assert.match(newer.stdout, /^add element ip kube-proxy nodeport-ips \{ 192\.168\.10\.21 \}$/m);
  });
  it('says on the header that be_liberal was assumed, or what the dump showed', () => {
    const offline = proxymode([...BASE, '--kube-proxy-version', '1.29']);
    assert.equal(offline.code, 0, offline.stderr);
    assert.match(offline.stdout, /^Source: .* · kube-proxy 1\.29 · nf_conntrack_tcp_be_liberal 0 \(not read; the kernel default, assumed\)/m);
    const newer = proxymode([...BASE, '--kube-proxy-version', '1.31']);
    assert.doesNotMatch(newer.stdout, /be_liberal/);

    const liberal = join(mkdtempSync(join(tmpdir(), 'proxymode-nft129-')), 'liberal.nft');
    const text = readFileSync(DUMP, 'utf8');
    const edited = text.replace(/(\tchain forward \{\n)\t\tct state invalid drop\n/, '$1');
    assert.notEqual(edited, text);
    writeFileSync(liberal, edited);
    const read1 = proxymode([...BASE, '--kube-proxy-version', '1.29', '--rules', liberal]);
    assert.equal(read1.code, 0, read1.stderr);
    assert.match(read1.stdout, /^Source: .* · nf_conntrack_tcp_be_liberal 1 \(as the node's forward chain shows\)$/m);
    const read0 = proxymode([...BASE, '--kube-proxy-version', '1.29', '--rules', DUMP]);
    assert.match(read0.stdout, /^Source: .* · nf_conntrack_tcp_be_liberal 0 \(as the node's forward chain shows\)$/m);
  });
});
