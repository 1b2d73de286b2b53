// Scheduler semantics, with the kernel's hash facts computed independently (Python big-int arithmetic of
// ip_vs_sh.c / ip_vs_dh.c formulas) and written down here.
import assert from 'node:assert/strict';
import test from 'node:test';
import { dhHashKey, dhPick, scheduleOne, shHashKey, shPick, shTable, type RealServer, type VirtualServer } from '../../../src/core/ipvs/index.js';

const rs = (address: string, weight = 1, extra: Partial<RealServer> = {}): RealServer => ({ address, port: 80, weight, forward: 'Masq', ...extra });
const vs = (scheduler: string, realServers: RealServer[], extra: Partial<VirtualServer> = {}): VirtualServer => ({ protocol: 'TCP', address: '10.96.0.10', port: 80, scheduler, schedFlags: [], persistentTimeout: null, realServers, ...extra });

test('sh hash key: hash_32(ntohl(saddr), 8) with GOLDEN_RATIO_32 0x61C88647', () => {
  assert.equal(shHashKey('10.0.0.1'), 39);
  assert.equal(shHashKey('192.168.1.7'), 211);
  assert.equal(shHashKey('10.244.1.5'), 115);
  assert.equal(shHashKey('fd00::1'), 140); // IPv6 folds the four words: 0xfd000001
});

test('dh hash key: (ntohl(daddr) * 2654435761) & 255', () => {
  assert.equal(dhHashKey('10.0.0.1'), 177);
  assert.equal(dhHashKey('192.168.1.7'), 215);
  assert.equal(dhHashKey('fd00::1'), 177);
});

test('sh table: each destination takes `weight` consecutive buckets; weight 0 still takes one', () => {
  assert.deepEqual(shTable([{ weight: 1 }, { weight: 1 }, { weight: 1 }]).slice(0, 6), [0, 1, 2, 0, 1, 2]);
  assert.deepEqual(shTable([{ weight: 2 }, { weight: 1 }]).slice(0, 6), [0, 0, 1, 0, 0, 1]);
  assert.deepEqual(shTable([{ weight: 0 }, { weight: 3 }]).slice(0, 8), [0, 1, 1, 1, 0, 1, 1, 1]);
});

test('sh picks the exact real server: bucket 39 of 3 equal servers is the first (39 % 3 = 0), bucket 211 the second', () => {
  const v = vs('sh', [rs('10.244.1.1'), rs('10.244.1.2'), rs('10.244.1.3')]);
  assert.equal(shPick(v, '10.0.0.1')?.address, '10.244.1.1');
  assert.equal(shPick(v, '192.168.1.7')?.address, '10.244.1.2');
  const r = scheduleOne(v, { source: '192.168.1.7', destination: '10.96.0.10' });
  assert.equal(r.deterministic, true);
  assert.deepEqual(r.endpoints, [{ address: '10.244.1.2', port: 80, probability: 1 }]);
});

test('sh: a bucket on a weight-0 server finds no destination unless sh-fallback walks on', () => {
  const servers = [rs('10.244.1.1', 0), rs('10.244.1.2'), rs('10.244.1.3')];
  // table: [0,1,2,0,1,2,…]: bucket 39 -> server 0 (weight 0)
  assert.equal(shPick(vs('sh', servers), '10.0.0.1'), null);
  assert.equal(scheduleOne(vs('sh', servers), { source: '10.0.0.1', destination: '10.96.0.10' }).endpoints.length, 0);
  assert.ok(shPick(vs('sh', servers, { schedFlags: ['sh-fallback'] }), '10.0.0.1'));
});

test('dh picks by destination address: bucket 177 of 2 servers is the second (177 % 2 = 1)', () => {
  const v = vs('dh', [rs('10.244.1.1'), rs('10.244.1.2')], { address: '10.0.0.1' });
  assert.equal(dhPick(v, '10.0.0.1')?.address, '10.244.1.2');
});

test('rr and wrr: probabilities from weights; rr ignores weight-0 servers', () => {
  const servers = [rs('10.244.1.1', 1), rs('10.244.1.2', 3), rs('10.244.1.3', 0)];
  assert.deepEqual(scheduleOne(vs('rr', servers), { source: '1.1.1.1', destination: '10.96.0.10' }).endpoints.map((e) => e.probability), [0.5, 0.5]);
  assert.deepEqual(scheduleOne(vs('wrr', servers), { source: '1.1.1.1', destination: '10.96.0.10' }).endpoints.map((e) => e.probability), [0.25, 0.75]);
});

test('lc, wlc, sed, nq depend on live counts: unknown without them, exact with ipvsadm -Ln counts', () => {
  const noCounts = scheduleOne(vs('lc', [rs('10.244.1.1'), rs('10.244.1.2')]), { source: '1.1.1.1', destination: '10.96.0.10' });
  assert.equal(noCounts.deterministic, false);
  assert.match(noCounts.note, /live connection counts/);
  const counted = [rs('10.244.1.1', 1, { activeConns: 2, inactiveConns: 0 }), rs('10.244.1.2', 4, { activeConns: 3, inactiveConns: 10 }), rs('10.244.1.3', 1, { activeConns: 0, inactiveConns: 600 })];
  const pick = (s: string) => scheduleOne(vs(s, counted), { source: '1.1.1.1', destination: '10.96.0.10' }).endpoints[0]?.address;
  assert.equal(pick('lc'), '10.244.1.1'); // overheads 512, 778, 600
  assert.equal(pick('wlc'), '10.244.1.2'); // 512, 194.5, 600
  assert.equal(pick('sed'), '10.244.1.2'); // (a+1)/w: 3, 1, 1 -> the first of the tie (strict <)
  assert.equal(pick('nq'), '10.244.1.3'); // an idle server (no active connection) first
});

test('persistence is stated; no real servers means dropped', () => {
  assert.match(scheduleOne(vs('rr', [rs('10.244.1.1')], { persistentTimeout: 10800 }), { source: '1.1.1.1', destination: '10.96.0.10' }).note, /Persistent \(10800s\)/);
  assert.equal(scheduleOne(vs('rr', []), { source: '1.1.1.1', destination: '10.96.0.10' }).endpoints.length, 0);
});
