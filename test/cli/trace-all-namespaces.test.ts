// `trace NAME -A` searches every namespace for the Service, as kubectl users expect of -A.
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { proxymode } from './run.js';

// examples/ plus a second Service called web, in namespace staging.
const twoWebs = mkdtempSync(join(tmpdir(), 'proxymode-two-webs-'));
for (const f of readdirSync('examples').filter((n) => n.endsWith('.yaml'))) copyFileSync(join('examples', f), join(twoWebs, f));
writeFileSync(
  join(twoWebs, 'zz-staging-web.yaml'),
  'apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  namespace: staging\nspec:\n  type: ClusterIP\n  clusterIP: 10.96.77.7\n  clusterIPs:\n  - 10.96.77.7\n  ports:\n  - name: http\n    port: 80\n    protocol: TCP\n    targetPort: 8080\n',
);
after(() => rmSync(twoWebs, { recursive: true, force: true }));

const trace = (...args: string[]) => proxymode(['trace', ...args, '--mode', 'iptables', '--node', 'worker-1']);

describe('trace -A', () => {
  it('finds a Service by its name in whichever namespace holds it', () => {
    const r = trace('web', '-A', '-f', 'examples/');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Trace: TCP from .* to shop\/web:http \(10\.103\.81\.20:80\/TCP\)/);
    // Without -A, the bare name is looked up in "default" and is not there.
    const without = trace('web', '-f', 'examples/');
    assert.equal(without.code, 2);
    assert.match(without.stderr, /service "web" not found in namespace default/);
  });

  it('names every match as NAMESPACE/NAME and asks for -n when the name is in several namespaces', () => {
    const r = trace('web', '-A', '-f', twoWebs);
    assert.equal(r.code, 2);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr.trim(), 'error: service "web" exists in 2 namespaces (shop/web, staging/web); name one with -n NAMESPACE or NAMESPACE/NAME.');
    const picked = trace('web', '-n', 'staging', '-f', twoWebs);
    assert.equal(picked.code, 1, picked.stderr); // staging/web has no endpoints: rejected
    assert.match(picked.stdout, /to staging\/web:http \(10\.96\.77\.7:80\/TCP\)/);
  });

  it('an unknown name is not found in any namespace, with the close names', () => {
    const r = trace('webb', '-A', '-f', 'examples/');
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^error: service "webb" not found in any namespace \(searched files examples\/\); did you mean web\?$/m);
  });
});
