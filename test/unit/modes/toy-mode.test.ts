// Proof that a proxy mode costs one folder and one registry line: a toy mode, defined here with its own
// state, text format, dump kind, summary, drift, tracer and plan, is registered with one line and then
// works through `rules` (human, -o json, -o toy, --rules, --diff) and `trace --rules`, with no edit
// anywhere else. It registers under "kernelspace" (the Windows mode), which this build has no definition of.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { toy, type ToyService } from './toy-mode.js';
/** Runs a command in a process of its own with the toy registered (toy-cli.ts), as a user runs the CLI. */
async function run(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'test/unit/modes/toy-cli.ts', ...argv], { env: { ...process.env, NO_COLOR: '1' } });
    return { code: 0, ...r };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

const BASE = ['-f', 'examples/', '--mode', 'kernelspace', '--node', 'worker-1'];

describe('a toy mode registered with one line', () => {
  let tmp: string;
  before(() => (tmp = mkdtempSync(join(tmpdir(), 'proxymode-toy-'))));
  after(() => rmSync(tmp, { recursive: true, force: true }));

  it('sync: a mode with no host adapter says so in one sentence and touches nothing', async () => {
    // --dry-run reads the host through the adapter, so it is refused before any rule is read or written
    const r = await run(['sync', ...BASE, '--dry-run']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /applying mode kernelspace's plans to a host \(`kubectl proxymode sync`\) is not implemented yet/);
    assert.equal(r.stdout, '');
  });

  it('rules: the human view from its summary, -o json of its state, -o toy in its own format', async () => {
    const human = await run(['rules', ...BASE]);
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /mode kernelspace/);
    assert.match(human.stdout, /^shop\/web\s+http 80\/TCP\s+toy 10\.103\.81\.20 \(even\)\s+10\.244\.0\.5:8080 33\.3%, 10\.244\.1\.7:8080 33\.3%, 10\.244\.2\.4:8080 33\.3%/m);
    const json = JSON.parse((await run(['rules', ...BASE, '-o', 'json'])).stdout);
    assert.equal(json.mode, 'kernelspace');
    assert.ok(json.rulesets[0].services.some((s: ToyService) => s.servicePort === 'shop/web:http'));
    const text = await run(['rules', 'shop/web', ...BASE, '-o', 'toy']);
    assert.equal(text.stdout, '# toy proxier\nSVC shop/web:http 10.103.81.20:80/TCP -> 10.244.0.5:8080 10.244.1.7:8080 10.244.2.4:8080\n');
  });

  it('rules --rules reads its dump kind; --diff compares in its own drift', async () => {
    const full = (await run(['rules', ...BASE, '-o', 'toy'])).stdout;
    const same = join(tmp, 'same.toy');
    writeFileSync(same, `$ toy-save\n${full.split('# toy proxier').slice(0, 2).join('# toy proxier')}`);
    const inSync = await run(['rules', ...BASE, '--rules', same, '--diff']);
    assert.equal(inSync.code, 0, inSync.stdout + inSync.stderr);
    assert.match(inSync.stdout, /In sync/);
    const broken = join(tmp, 'broken.toy');
    writeFileSync(broken, full.replace(' 10.244.2.4:8080', '').replace(/^SVC shop\/cart:http .*\n/m, ''));
    const drift = await run(['rules', ...BASE, '--rules', broken, '--diff', '-o', 'json']);
    assert.equal(drift.code, 1);
    const kinds = JSON.parse(drift.stdout).drift.map((d: { servicePort: string; kind: string }) => `${d.servicePort} ${d.kind}`);
    assert.ok(kinds.includes('shop/web:http missing endpoint'), kinds.join('\n'));
    assert.ok(kinds.includes('shop/cart:http missing service'), kinds.join('\n'));
    const shown = await run(['rules', '--rules', broken]);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /mode kernelspace/);
  });

  it('trace --rules finds the dump\'s mode and traces through its tracer', async () => {
    const dump = join(tmp, 'trace.toy');
    writeFileSync(dump, (await run(['rules', ...BASE, '-o', 'toy'])).stdout);
    const r = await run(['trace', 'shop/web', '--rules', dump, '-o', 'json']);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const out = JSON.parse(r.stdout);
    assert.equal(out.mode, 'kernelspace');
    assert.equal(out.verdict, 'forwarded');
    assert.deepEqual(out.endpoints.map((e: { ip: string }) => e.ip).sort(), ['10.244.0.5', '10.244.1.7', '10.244.2.4']);
    assert.equal(out.hops[0].table, 'toy');
  });

  it('its plan is data whose text is the script', () => {
    const plan = toy.plan(undefined, { family: 'IPv4', services: [{ servicePort: 'a/b:c', ip: '10.0.0.1', port: 80, protocol: 'TCP', endpoints: ['10.1.0.1:80'] }] });
    assert.equal(plan.text(), plan.operations.map((o) => o.text).join('\n') + '\n');
  });
});
