// Proxy ports. kube-proxy's port allocator (port_allocator.go): with an empty portRange every service
// port's socket binds port 0 and the kernel picks; with a range, each allocation takes a random free port
// of the range, scanning up from it (then from the base) when that one is taken.
//
// A rendered view cannot know the ports a node picked, so it assigns stand-ins deterministically: the
// range's ports in service-port order from its base, or, with no range, from 32768 (the start of Linux's
// default ephemeral range, where the kernel picks). Comparisons with a node never count the port numbers.

export const RENDERED_PORT_BASE = 32768;

export interface PortRange {
  base: number;
  size: number;
}

/** The stand-in proxy ports for `count` service ports, in order. */
export function renderedProxyPorts(count: number, range: PortRange | undefined): number[] {
  const base = range && range.base > 0 ? range.base : RENDERED_PORT_BASE;
  const size = range && range.base > 0 ? range.size : 65536 - RENDERED_PORT_BASE;
  return Array.from({ length: count }, (_, i) => (i < size ? base + i : 0));
}

/** The range allocator: a random free port first, then the next free one above it, then from the base. */
export class PortRangeAllocator {
  private readonly used = new Set<number>();
  constructor(
    private readonly range: PortRange,
    /** [0, 1) like Math.random; tests pass a fixed sequence. */
    private readonly random: () => number = Math.random,
  ) {}

  /** A free port, or -1 when the range is full (upstream: "no remaining ports left to allocate"). */
  allocateNext(): number {
    const { base, size } = this.range;
    if (size <= 0) return 0; // no range: bind port 0 and let the kernel pick
    const j = Math.min(size - 1, Math.floor(this.random() * size));
    for (let k = 0; k < size; k++) {
      const i = (j + k) % size;
      if (!this.used.has(i)) {
        this.used.add(i);
        return base + i;
      }
    }
    return -1;
  }

  release(port: number): void {
    this.used.delete(port - this.range.base);
  }
}
