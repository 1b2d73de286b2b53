// kube-proxy's per-service chain names: 8 characters of base32(SHA-256) of the readable part, a dash, the
// readable part (IPv6 endpoint colons as dots), computed here the long way with node:crypto.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { endpointChainBase, endpointChainBaseOf, serviceChainBase, servicePortReadable } from '../../../src/core/nftables/names.js';

/** base32.StdEncoding of the digest, its first 8 characters (40 bits). */
function expected(readable: string): string {
  const d = createHash('sha256').update(readable).digest();
  let bits = '';
  for (const b of d.subarray(0, 5)) bits += b.toString(2).padStart(8, '0');
  const abc = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let out = '';
  for (let i = 0; i < 40; i += 5) out += abc[parseInt(bits.slice(i, i + 5), 2)];
  return `${out}-${readable}`;
}

const port = { namespace: 'ns1', name: 'svc1', port: 'p80' };

describe('nftables chain names', () => {
  it('matches an upstream name', () => {
    // pkg/proxy/nftables/proxier_test.go: service-ULMVA6XW-ns1/svc1/tcp/p80
    assert.equal(serviceChainBase(port, 'tcp'), 'ULMVA6XW-ns1/svc1/tcp/p80');
  });
  it('hashes the readable part of service and endpoint chains, IPv4 and IPv6', () => {
    assert.equal(servicePortReadable(port, 'udp'), 'ns1/svc1/udp/p80');
    assert.equal(serviceChainBase(port, 'udp'), expected('ns1/svc1/udp/p80'));
    assert.equal(endpointChainBase(port, 'tcp', '10.180.0.1:80'), expected('ns1/svc1/tcp/p80__10.180.0.1/80'));
    assert.equal(endpointChainBase(port, 'tcp', '[fd00:10:180::1]:8080'), expected('ns1/svc1/tcp/p80__fd00.10.180..1/8080'));
    assert.equal(endpointChainBaseOf('ns1/svc1/tcp/p80', '[fd00::1]:80'), endpointChainBase(port, 'tcp', '[fd00::1]:80'));
  });
  it('truncates a readable part past 240 characters with "..." and keeps the hash of the whole', () => {
    const long = { namespace: 'n'.repeat(120), name: 's'.repeat(120), port: 'p' };
    const name = serviceChainBase(long, 'tcp');
    const whole = expected(`${long.namespace}/${long.name}/tcp/p`);
    assert.equal(name.length, 240);
    assert.equal(name, whole.slice(0, 237) + '...');
  });
});
