// An HTTP GET from inside a network namespace, where `sync --netns` makes its servers listen. It runs this
// very node in the namespace (`ip netns exec`), so the tests need no curl on the machine.
import { exec } from './proc.js';

const GET = `fetch(process.argv[1], { signal: AbortSignal.timeout(3000) })
  .then(async (r) => process.stdout.write(JSON.stringify({ status: r.status, body: await r.text() })))
  .catch((e) => { process.stderr.write(String(e)); process.exit(1); });`;

export async function httpGet(ns: string, url: string): Promise<{ status: number; body: string }> {
  const r = await exec(ns, [process.execPath, '-e', GET, url]);
  if (r.code !== 0) throw new Error(`GET ${url} in ${ns}: exit ${r.code} ${r.stderr.trim()}`);
  return JSON.parse(r.stdout) as { status: number; body: string };
}
