// Shared set-up for API tests: a kubeconfig on disk pointing at a fake server, and fixture loading.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');
export const SERVER = 'https://api.cluster.test:6443';

const dir = mkdtempSync(join(tmpdir(), 'proxymode-kube-'));
let serial = 0;

/** Writes a kubeconfig whose current context talks to `server` with a bearer token, and returns its path. */
export function writeKubeconfig(server = SERVER, user: Record<string, unknown> = { token: 'fixture-token' }, contextName = 'fixture'): string {
  const path = join(dir, `kubeconfig-${serial++}.json`);
  writeFileSync(
    path,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'c', cluster: { server, 'insecure-skip-tls-verify': true } }],
      users: [{ name: 'u', user }],
      contexts: [{ name: contextName, context: { cluster: 'c', user: 'u' } }],
      'current-context': contextName,
    }),
  );
  return path;
}

export function fixture(path: string): string {
  return readFileSync(join(FIXTURES, path), 'utf8');
}

export function fixtureJSON<T = any>(path: string): T {
  return JSON.parse(fixture(path)) as T;
}

/** The single ConfigMap `name` from a distribution's kube-system ConfigMap list, as a GET returns it. */
export function configMapFrom(distribution: string, name: string): object | undefined {
  const list = fixtureJSON<{ items: Array<{ metadata: { name: string } }> }>(`${distribution}/kube-system-configmaps.json`);
  const item = list.items.find((i) => i.metadata.name === name);
  return item && { kind: 'ConfigMap', apiVersion: 'v1', ...item };
}

export function tempDir(): string {
  return dir;
}
