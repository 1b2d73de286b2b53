// roundrobin_test.go (v1.25) cases for the pure balancer: rotation over the shuffled list, updates that
// restart it, removals that leave other service ports where they were, ClientIP stickiness, and the reset
// a failed dial asks for. `random` near 1 makes the shuffle keep the order, so the rotation is exact.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MissingEndpointsError, MissingServiceEntryError, RoundRobin, shuffle } from '../../../src/core/userspace/index.js';

const keepOrder = () => 0.999999;
const seq = (lb: RoundRobin, sp: string, n: number, client = '10.0.0.1', reset = false) => Array.from({ length: n }, () => lb.nextEndpoint(sp, client, reset));

describe('userspace round robin (roundrobin_test.go)', () => {
  it('LoadBalanceFailsWithNoEndpoints: an unknown service port has no entry', () => {
    const lb = new RoundRobin();
    assert.throws(() => lb.nextEndpoint('testnamespace/foo:does-not-exist', '10.0.0.1'), MissingServiceEntryError);
  });

  it('LoadBalanceWorksWithSingleEndpoint', () => {
    const lb = new RoundRobin();
    lb.update(new Map([['ns/foo:p', ['endpoint1:40']]]));
    assert.deepEqual(seq(lb, 'ns/foo:p', 4), ['endpoint1:40', 'endpoint1:40', 'endpoint1:40', 'endpoint1:40']);
  });

  it('LoadBalanceWorksWithMultipleEndpoints: the shuffled list in turn, then from its start again', () => {
    const lb = new RoundRobin();
    lb.update(new Map([['ns/foo:p', ['endpoint:1', 'endpoint:2', 'endpoint:3']]]));
    const order = [...lb.endpoints('ns/foo:p')];
    assert.deepEqual([...order].sort(), ['endpoint:1', 'endpoint:2', 'endpoint:3']);
    assert.deepEqual(seq(lb, 'ns/foo:p', 4), [order[0], order[1], order[2], order[0]]);
  });

  it('the shuffle is upstream Fisher-Yates: a fixed random gives a fixed permutation', () => {
    assert.deepEqual(shuffle(['a', 'b', 'c'], keepOrder), ['a', 'b', 'c']);
    assert.deepEqual(shuffle(['a', 'b', 'c'], () => 0), ['b', 'c', 'a']);
  });

  it('LoadBalanceWorksWithMultipleEndpointsMultiplePorts: each service port rotates on its own', () => {
    const lb = new RoundRobin({ random: keepOrder });
    lb.update(new Map([['ns/foo:p', ['endpoint1:1', 'endpoint2:1', 'endpoint3:3']], ['ns/foo:q', ['endpoint1:2', 'endpoint2:2', 'endpoint3:4']]]));
    assert.deepEqual(seq(lb, 'ns/foo:p', 4), ['endpoint1:1', 'endpoint2:1', 'endpoint3:3', 'endpoint1:1']);
    assert.deepEqual(seq(lb, 'ns/foo:q', 4), ['endpoint1:2', 'endpoint2:2', 'endpoint3:4', 'endpoint1:2']);
  });

  it('LoadBalanceWorksWithMultipleEndpointsAndUpdates: a changed list starts from its beginning; an emptied one fails', () => {
    const lb = new RoundRobin({ random: keepOrder });
    lb.update(new Map([['ns/foo:p', ['endpoint1:1', 'endpoint2:2', 'endpoint3:3']]]));
    assert.deepEqual(seq(lb, 'ns/foo:p', 2), ['endpoint1:1', 'endpoint2:2']);
    lb.update(new Map([['ns/foo:p', ['endpoint4:4', 'endpoint5:5']]]));
    assert.deepEqual(seq(lb, 'ns/foo:p', 4), ['endpoint4:4', 'endpoint5:5', 'endpoint4:4', 'endpoint5:5']);
    lb.update(new Map());
    assert.throws(() => lb.nextEndpoint('ns/foo:p', '10.0.0.1'), MissingEndpointsError);
  });

  it('an update with the same endpoints in another order keeps the rotation where it was', () => {
    const lb = new RoundRobin({ random: keepOrder });
    lb.update(new Map([['ns/foo:p', ['a:1', 'b:1', 'c:1']]]));
    assert.equal(lb.nextEndpoint('ns/foo:p', '10.0.0.1'), 'a:1');
    lb.update(new Map([['ns/foo:p', ['c:1', 'b:1', 'a:1']]]));
    assert.equal(lb.nextEndpoint('ns/foo:p', '10.0.0.1'), 'b:1');
  });

  it('LoadBalanceWorksWithServiceRemoval: the other service port continues where it left off', () => {
    const lb = new RoundRobin({ random: keepOrder });
    lb.update(new Map([['ns/foo:p', ['endpoint1:123', 'endpoint2:123', 'endpoint3:123']], ['ns/bar:p', ['endpoint4:456', 'endpoint5:456', 'endpoint6:456']]]));
    seq(lb, 'ns/foo:p', 5);
    assert.deepEqual(seq(lb, 'ns/bar:p', 5), ['endpoint4:456', 'endpoint5:456', 'endpoint6:456', 'endpoint4:456', 'endpoint5:456']);
    lb.update(new Map([['ns/bar:p', ['endpoint4:456', 'endpoint5:456', 'endpoint6:456']]]));
    assert.throws(() => lb.nextEndpoint('ns/foo:p', '10.0.0.1'), MissingEndpointsError);
    assert.deepEqual(seq(lb, 'ns/bar:p', 4), ['endpoint6:456', 'endpoint4:456', 'endpoint5:456', 'endpoint6:456']);
  });

  it('StickyLoadBalanceWorksWithNewServiceCalledFirst: each client keeps the endpoint it first got', () => {
    const lb = new RoundRobin({ random: keepOrder });
    lb.newService('ns/foo', true, 10800);
    lb.update(new Map([['ns/foo', ['endpoint1:1', 'endpoint2:2', 'endpoint3:3']]]));
    const first = ['127.0.0.1', '127.0.0.2', '127.0.0.3'].map((c) => lb.nextEndpoint('ns/foo', c));
    assert.deepEqual(first, ['endpoint1:1', 'endpoint2:2', 'endpoint3:3']);
    for (let i = 0; i < 3; i++) assert.deepEqual(['127.0.0.1', '127.0.0.2', '127.0.0.3'].map((c) => lb.nextEndpoint('ns/foo', c)), first);
  });

  it('StickyLoadBalanceWorksWithNewServiceCalledSecond: affinity set after the endpoints still sticks', () => {
    const lb = new RoundRobin({ random: keepOrder });
    lb.update(new Map([['ns/foo', ['endpoint1:1', 'endpoint2:2']]]));
    lb.newService('ns/foo', true, 10800);
    assert.equal(lb.nextEndpoint('ns/foo', '127.0.0.1'), 'endpoint1:1');
    assert.equal(lb.nextEndpoint('ns/foo', '127.0.0.1'), 'endpoint1:1');
    assert.equal(lb.nextEndpoint('ns/foo', '127.0.0.2'), 'endpoint2:2');
  });

  it('StickyLoadBalanceWorksWithMultipleEndpointsRemoveOne: only clients of the removed endpoint move', () => {
    const lb = new RoundRobin({ random: keepOrder });
    lb.newService('ns/foo', true, 10800);
    lb.update(new Map([['ns/foo', ['endpoint:1', 'endpoint:2', 'endpoint:3']]]));
    const clients = ['127.0.0.1', '127.0.0.2', '127.0.0.3'];
    assert.deepEqual(clients.map((c) => lb.nextEndpoint('ns/foo', c)), ['endpoint:1', 'endpoint:2', 'endpoint:3']);
    lb.update(new Map([['ns/foo', ['endpoint:1', 'endpoint:2']]]));
    // the list is new (index 0): client 3 lost its endpoint and takes the first in turn
    assert.equal(lb.nextEndpoint('ns/foo', '127.0.0.1'), 'endpoint:1');
    assert.equal(lb.nextEndpoint('ns/foo', '127.0.0.2'), 'endpoint:2');
    assert.equal(lb.nextEndpoint('ns/foo', '127.0.0.3'), 'endpoint:1');
    assert.equal(lb.nextEndpoint('ns/foo', '127.0.0.3'), 'endpoint:1');
  });

  it('StickyLoadBalanceWorksWithEndpointFails: a reset (failed dial) takes the next endpoint and sticks to it', () => {
    const lb = new RoundRobin({ random: keepOrder });
    lb.newService('ns/foo', true, 10800);
    lb.update(new Map([['ns/foo', ['endpoint:1', 'endpoint:2', 'endpoint:3']]]));
    assert.equal(lb.nextEndpoint('ns/foo', '127.0.0.1'), 'endpoint:1');
    assert.equal(lb.nextEndpoint('ns/foo', '127.0.0.1', true), 'endpoint:2');
    assert.equal(lb.nextEndpoint('ns/foo', '127.0.0.1'), 'endpoint:2');
    assert.equal(lb.nextEndpoint('ns/foo', '127.0.0.1', true), 'endpoint:3');
    assert.equal(lb.nextEndpoint('ns/foo', '127.0.0.1'), 'endpoint:3');
  });

  it('StickyLoadBalanceWorksWithServiceRemoval: a deleted service port has no entry; the other stays sticky', () => {
    const lb = new RoundRobin({ random: keepOrder });
    lb.newService('ns/foo', true, 10800);
    lb.newService('ns/bar', true, 10800);
    lb.update(new Map([['ns/foo', ['a:1', 'b:1']], ['ns/bar', ['c:1', 'd:1']]]));
    assert.equal(lb.nextEndpoint('ns/bar', '127.0.0.1'), 'c:1');
    lb.deleteService('ns/foo');
    assert.throws(() => lb.nextEndpoint('ns/foo', '127.0.0.1'), MissingServiceEntryError);
    assert.equal(lb.nextEndpoint('ns/bar', '127.0.0.1'), 'c:1');
  });

  it('affinity expires after timeoutSeconds (whole seconds, as upstream truncates) and is cleaned up', () => {
    let now = 0;
    const lb = new RoundRobin({ random: keepOrder, now: () => now });
    lb.newService('ns/foo', true, 2);
    lb.update(new Map([['ns/foo', ['a:1', 'b:1']]]));
    assert.equal(lb.nextEndpoint('ns/foo', '127.0.0.1'), 'a:1');
    now = 1999;
    assert.equal(lb.nextEndpoint('ns/foo', '127.0.0.1'), 'a:1'); // 1.999 s truncates to 1 < 2; refreshes lastUsed
    now = 1999 + 2000;
    assert.equal(lb.nextEndpoint('ns/foo', '127.0.0.1'), 'b:1');
    now += 5000;
    lb.cleanupStaleStickySessions('ns/foo');
    assert.equal(lb.nextEndpoint('ns/foo', '127.0.0.1'), 'a:1'); // forgotten: next in turn
  });

  it('a timeout of 0 means the 3-hour default (DefaultClientIPServiceAffinitySeconds)', () => {
    let now = 0;
    const lb = new RoundRobin({ random: keepOrder, now: () => now });
    lb.newService('ns/foo', true, 0);
    lb.update(new Map([['ns/foo', ['a:1', 'b:1']]]));
    assert.equal(lb.nextEndpoint('ns/foo', '127.0.0.1'), 'a:1');
    now = 10799_000;
    assert.equal(lb.nextEndpoint('ns/foo', '127.0.0.1'), 'a:1');
    now += 10800_000;
    assert.equal(lb.nextEndpoint('ns/foo', '127.0.0.1'), 'b:1');
  });
});
