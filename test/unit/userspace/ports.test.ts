// port_allocator.go: an empty range lets the kernel pick (port 0); a range hands out a random free port,
// then the next free one above it, wrapping to the base, and says when none is left.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PortRangeAllocator, renderedProxyPorts } from '../../../src/core/userspace/index.js';

describe('userspace proxy ports', () => {
  it('no range: every allocation is 0 (the kernel picks)', () => {
    assert.equal(new PortRangeAllocator({ base: 0, size: 0 }).allocateNext(), 0);
  });

  it('a range: random first, then scanning up and wrapping; full is -1; a released port is free again', () => {
    const a = new PortRangeAllocator({ base: 40000, size: 3 }, () => 0.5);
    assert.deepEqual([a.allocateNext(), a.allocateNext(), a.allocateNext(), a.allocateNext()], [40001, 40002, 40000, -1]);
    a.release(40002);
    assert.equal(a.allocateNext(), 40002);
  });

  it('rendered stand-ins are deterministic', () => {
    assert.deepEqual(renderedProxyPorts(3, undefined), [32768, 32769, 32770]);
    assert.deepEqual(renderedProxyPorts(3, { base: 50000, size: 2 }), [50000, 50001, 0]);
  });
});
