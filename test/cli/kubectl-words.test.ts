// kubectl's flags and words: -h, help COMMAND, -A, -o name/jsonpath/custom-columns, --no-headers, -f lists,
// -f URL, -f not swallowing the positional, trace NAME -n NS, unknown namespaces and commands, completion.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { proxymode, proxymodeAsync, ROOT } from './run.js';

function oneSentence(stderr: string): void {
  const lines = stderr.trim().split('\n');
  assert.equal(lines.length, 1, stderr);
  assert.match(lines[0]!, /^error: /);
}

describe('help as kubectl', () => {
  it('-h is --help, at the root and for a command', () => {
    const root = proxymode(['-h']);
    assert.equal(root.code, 0, root.stderr);
    assert.equal(root.stdout, proxymode(['--help']).stdout);
    const get = proxymode(['get', '-h']);
    assert.equal(get.code, 0);
    assert.match(get.stdout, /USAGE\n {2}\$ kubectl proxymode get/);
  });

  it('help COMMAND is COMMAND --help', () => {
    const r = proxymode(['help', 'trace']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, proxymode(['trace', '--help']).stdout);
  });

  it('the root help lists get and set as users type them', () => {
    const r = proxymode(['--help']);
    assert.match(r.stdout, /\n {2}get {2,}/);
    assert.match(r.stdout, /\n {2}set {2,}/);
    assert.match(r.stdout, /\n {2}completion {2,}/);
  });

  it('a mistyped command gets a did-you-mean (exit 2)', () => {
    const r = proxymode(['tarce', 'svc/web']);
    assert.equal(r.code, 2);
    oneSentence(r.stderr);
    assert.match(r.stderr, /unknown command "tarce".*did you mean trace\?/);
  });

  it('a usage error points to the help of the command typed (the alias, not the id)', () => {
    const r = proxymode(['get', '--no-such-flag', '-f', 'examples/']);
    assert.equal(r.code, 2);
    oneSentence(r.stderr);
    assert.match(r.stderr, /see 'kubectl proxymode get --help'/);
  });
});

describe('get prints objects as kubectl', () => {
  it('-o name', () => {
    const r = proxymode(['get', '-f', 'examples/', '-o', 'name']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'node/cp-1\nnode/worker-1\nnode/worker-2\n');
  });

  it('-o jsonpath=', () => {
    const r = proxymode(['get', '-f', 'examples/', '-o', 'jsonpath={range .nodes[*]}{.node}={.running}{"\\n"}{end}']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'cp-1=ipvs\nworker-1=ipvs\nworker-2=none\n');
    const flat = proxymode(['get', '-f', 'examples/', '-o', 'jsonpath={.nodes[*].node}']);
    assert.equal(flat.stdout, 'cp-1 worker-1 worker-2\n');
    const bad = proxymode(['get', '-f', 'examples/', '-o', 'jsonpath={.nodes[*].node']);
    assert.equal(bad.code, 2);
    oneSentence(bad.stderr);
  });

  it('-o custom-columns= and --no-headers', () => {
    const r = proxymode(['get', '-f', 'examples/', '-o', 'custom-columns=NODE:.node,RUN:.running']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n').map((l) => l.split(/\s+/)), [['NODE', 'RUN'], ['cp-1', 'ipvs'], ['worker-1', 'ipvs'], ['worker-2', 'none']]);
    const bare = proxymode(['get', '-f', 'examples/', '-o', 'custom-columns=NODE:.node,RUN:.running', '--no-headers']);
    assert.equal(bare.stdout.trim().split('\n').length, 3);
    const human = proxymode(['get', '-f', 'examples/', '--no-headers']);
    assert.equal(human.code, 0);
    assert.match(human.stdout, /^cp-1 +ipvs/);
    assert.doesNotMatch(human.stdout, /NODE|Source:/);
  });

  it('an unknown -o is one sentence', () => {
    const r = proxymode(['get', '-f', 'examples/', '-o', 'tabel']);
    assert.equal(r.code, 2);
    oneSentence(r.stderr);
  });
});

describe('-f as kubectl', () => {
  it('a comma list equals repeated -f', () => {
    const files = ['examples/services.yaml', 'examples/endpointslices.yaml', 'examples/nodes.yaml', 'examples/kube-proxy-configmap.yaml'];
    const comma = proxymode(['rules', '-f', files.join(','), '--node', 'worker-1', '-o', 'json']);
    const repeated = proxymode(['rules', ...files.flatMap((f) => ['-f', f]), '--node', 'worker-1', '-o', 'json']);
    assert.equal(comma.code, 0, comma.stderr);
    assert.equal(comma.stdout.replace(/"source": "[^"]*"/, ''), repeated.stdout.replace(/"source": "[^"]*"/, ''));
    assert.match(comma.stdout, /shop\/web/);
  });

  it('-f does not swallow the positional argument after it', () => {
    const r = proxymode(['get', '-f', 'examples/', 'worker-1', '-o', 'name']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'node/worker-1\n');
  });

  it('-A is accepted; with -n it is a usage error', () => {
    const r = proxymode(['rules', '-f', 'examples/', '-A', '--node', 'worker-1']);
    assert.equal(r.code, 0, r.stderr);
    const both = proxymode(['rules', '-f', 'examples/', '-A', '-n', 'shop']);
    assert.equal(both.code, 2);
    oneSentence(both.stderr);
  });
});

describe('-f URL', () => {
  let server: Server;
  let base = '';
  before(async () => {
    server = createServer((req, res) => {
      const name = (req.url ?? '/').slice(1);
      if (!/^[a-z-]+\.yaml$/.test(name)) {
        res.writeHead(404);
        res.end('not found');
        return;
      }
      try {
        const body = readFileSync(join(ROOT, 'examples', name), 'utf8');
        res.writeHead(200, { 'Content-Type': 'application/yaml' });
        res.end(body);
      } catch {
        res.writeHead(404);
        res.end('not found');
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => server.close());

  it('reads objects over http as from files', async () => {
    const names = ['services.yaml', 'endpointslices.yaml', 'nodes.yaml', 'kube-proxy-configmap.yaml'];
    const r = await proxymodeAsync(['trace', 'web', '-n', 'shop', '-f', names.map((n) => `${base}/${n}`).join(','), '--node', 'worker-1', '--mode', 'iptables', '-o', 'json']);
    const local = proxymode(['trace', 'web', '-n', 'shop', '-f', names.map((n) => `examples/${n}`).join(','), '--node', 'worker-1', '--mode', 'iptables', '-o', 'json']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, local.stdout);
  });

  it('a URL that answers 404 is one sentence (exit 2)', async () => {
    const r = await proxymodeAsync(['get', '-f', `${base}/missing.yaml`]);
    assert.equal(r.code, 2);
    oneSentence(r.stderr);
    assert.match(r.stderr, /cannot fetch .*missing\.yaml: the server answered 404/);
  });
});

describe('names and namespaces', () => {
  it('trace NAME -n NS, as its help promises', () => {
    const r = proxymode(['trace', 'web', '-n', 'shop', '-f', 'examples/', '--mode', 'iptables', '--node', 'worker-1']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /shop\/web/);
  });

  it('-n naming a namespace with no Services says so, in rules and trace', () => {
    for (const args of [['rules', '-f', 'examples/', '--mode', 'iptables', '-n', 'nope'], ['trace', 'web', '-n', 'shp', '-f', 'examples/', '--mode', 'iptables']]) {
      const r = proxymode(args);
      assert.equal(r.code, 2, args.join(' '));
      oneSentence(r.stderr);
      assert.match(r.stderr, /has no Services in files examples\/ \(it is empty or does not exist\)/);
    }
    assert.match(proxymode(['trace', 'web', '-n', 'shp', '-f', 'examples/', '--mode', 'iptables']).stderr, /did you mean shop\?/);
  });

  it('trace suggests close Service names, as rules does', () => {
    const r = proxymode(['trace', 'svc/webb', '-n', 'shop', '-f', 'examples/', '--mode', 'iptables', '--node', 'worker-1']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /did you mean web/);
  });
});

describe('shell completion', () => {
  it('prints scripts for bash, zsh, fish and the kubectl helper', () => {
    assert.match(proxymode(['completion', 'bash']).stdout, /complete -o default -F _kubectl_proxymode kubectl-proxymode/);
    assert.match(proxymode(['completion', 'zsh']).stdout, /^#compdef kubectl-proxymode/);
    assert.match(proxymode(['completion', 'fish']).stdout, /complete -c kubectl-proxymode/);
    assert.match(proxymode(['completion', 'kubectl']).stdout, /exec kubectl-proxymode __complete "\$@"/);
    const bad = proxymode(['completion', 'tcsh']);
    assert.equal(bad.code, 2);
  });

  it('__complete answers in Cobra\'s format', () => {
    assert.equal(proxymode(['__complete', 'tr']).stdout, 'trace\n:4\n');
    assert.match(proxymode(['__complete', '']).stdout, /^completion\ndump\nget\nhelp\nmode\n/);
    assert.equal(proxymode(['__complete', 'rules', '--ip-f']).stdout, '--ip-family\n:4\n');
    assert.match(proxymode(['__complete', 'trace', '--mode', 'ipv']).stdout, /^ipvs\n:4\n$/);
    assert.equal(proxymode(['__complete', 'get', '-f', '']).stdout, ':0\n');
  });

  it('bash completes through the script', () => {
    const script = proxymode(['completion', 'bash']).stdout;
    const run = `${script}\nCOMP_WORDS=(kubectl-proxymode rules --ip-f); COMP_CWORD=2; _kubectl_proxymode; echo "\${COMPREPLY[@]}"`;
    const r = spawnSync('bash', ['-c', run], { env: { ...process.env, PATH: `${join(ROOT, 'bin')}:${process.env.PATH}` }, encoding: 'utf8' });
    assert.equal(r.stdout.trim(), '--ip-family', r.stderr);
  });
});
