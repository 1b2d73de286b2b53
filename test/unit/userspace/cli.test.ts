// `rules --mode userspace` and `trace --mode userspace` work through the registry with no command edits;
// a userspace node's iptables-save is read as userspace without --mode.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

async function run(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'test/unit/userspace/cli.ts', ...argv], { env: { ...process.env, NO_COLOR: '1' } });
    return { code: 0, ...r };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

const BASE = ['-f', 'examples/', '--mode', 'userspace', '--node', 'worker-1'];

describe('userspace through the commands', () => {
  it('rules: the human view and -o restore / -o proxy', async () => {
    const human = await run(['rules', ...BASE]);
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /mode userspace/);
    assert.match(human.stdout, /^shop\/web\s+http 80\/TCP\s+proxy port \d+\/TCP \(round robin\)\s+10\.244\.0\.5:8080 33\.3%/m);
    const restore = await run(['rules', 'shop/web', ...BASE, '-o', 'restore']);
    assert.match(restore.stdout, /^-A KUBE-PORTALS-CONTAINER -m comment --comment shop\/web:http -p tcp -m tcp --dport 80 -d 10\.103\.81\.20\/32 -j REDIRECT --to-ports \d+$/m);
    const proxy = await run(['rules', 'shop/cart', ...BASE, '-o', 'proxy']);
    assert.match(proxy.stdout, /^shop\/cart:http TCP proxy port \d+ \(stand-in\) <- cluster IP 10\.105\.63\.211:80 -> round robin .*ClientIP affinity 3600s$/m);
  });

  it('rules --rules and trace --rules read a userspace dump without --mode', async () => {
    const shown = await run(['rules', '--rules', 'test/unit/userspace/dumps/docs-userspace.txt']);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /mode userspace/);
    const t = await run(['trace', '10.0.1.175:80', '--rules', 'test/unit/userspace/dumps/docs-userspace.txt', '-o', 'json']);
    assert.equal(t.code, 0, t.stderr + t.stdout);
    const out = JSON.parse(t.stdout);
    assert.equal(out.mode, 'userspace');
    assert.ok(out.hops.some((h: { chain: string }) => h.chain === 'KUBE-PORTALS-CONTAINER'), t.stdout);
  });

  it('trace --mode userspace from -f: the proxy, its endpoints and the node as source', async () => {
    const t = await run(['trace', 'shop/web', ...BASE, '-o', 'json']);
    assert.equal(t.code, 0, t.stderr + t.stdout);
    const out = JSON.parse(t.stdout);
    assert.equal(out.verdict, 'forwarded');
    assert.equal(out.masquerade, true);
    assert.deepEqual(out.endpoints.map((e: { ip: string }) => e.ip).sort(), ['10.244.0.5', '10.244.1.7', '10.244.2.4']);
  });
});
