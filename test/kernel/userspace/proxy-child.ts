// The userspace proxier as a process of its own, for kernel tests: run inside the node's namespace
// (`ip netns exec NODE node --import tsx proxy-child.ts '<options json>'`). Reads one JSON command per
// stdin line and answers one JSON line on stdout:
//   {"op":"sync","services":[ServicePortToProxy…]} -> {"ports":{sp:port},"order":{sp:[endpoint…]}}
//   {"op":"active"}                                -> {"active":{sp:n}}
// It stops (closing every socket) when stdin ends, as the harness's servers do.
import { createInterface } from 'node:readline';
import { startUserspaceProxier, type ServicePortToProxy, type UserspaceProxierOptions } from '../../../src/core/host/userspace/index.js';

const opts = JSON.parse(process.argv[2] ?? '{}') as UserspaceProxierOptions;
const proxier = await startUserspaceProxier({ ...opts, log: (l) => process.stderr.write(`${l}\n`) }, []);
const out = (v: unknown) => process.stdout.write(`${JSON.stringify(v)}\n`);

const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  const cmd = JSON.parse(line) as { op: 'sync'; services: ServicePortToProxy[] } | { op: 'active' };
  if (cmd.op === 'sync') {
    void proxier.sync(cmd.services).then(
      (ports) => out({ ports: Object.fromEntries(ports), order: Object.fromEntries([...ports.keys()].map((k) => [k, proxier.order(k)])) }),
      (e: Error) => out({ error: e.message }),
    );
  } else out({ active: Object.fromEntries(proxier.active()) });
});
lines.on('close', () => void proxier.stop().then(() => process.exit(0)));
out({ ready: true });
