// How the API source pages, retries and fails: every refusal becomes one sentence with the exit code
// of shared/spec/cli.md. Error bodies are the API server's own (fixtures/errors/PROVENANCE.md).
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, afterEach, describe, it } from 'node:test';
import nock from 'nock';
import { ClusterError, InputError, type ProxymodeError } from '../../src/core/errors.js';
import { loadProxyConfig } from '../../src/kube/proxy-config.js';
import { ApiSource } from '../../src/kube/source.js';
import { fixture, fixtureJSON, SERVER, tempDir, writeKubeconfig } from './helpers.js';

nock.disableNetConnect();
afterEach(() => nock.cleanAll());
after(() => nock.enableNetConnect());

function source(extra: Partial<ConstructorParameters<typeof ApiSource>[0]> = {}): ApiSource {
  return new ApiSource({ kubeconfig: writeKubeconfig(), requestTimeout: '5s', ...extra });
}

async function rejection(p: Promise<unknown>): Promise<ProxymodeError> {
  try {
    await p;
  } catch (err) {
    return err as ProxymodeError;
  }
  assert.fail('expected the call to fail');
}

describe('list paging', () => {
  it('follows continue tokens with limit until the last page', async () => {
    const page1 = fixtureJSON('kubeadm/nodes-page1.json');
    const scope = nock(SERVER)
      .get('/api/v1/nodes').query({ limit: '2' }).reply(200, page1)
      .get('/api/v1/nodes').query({ limit: '2', continue: page1.metadata.continue }).reply(200, fixture('kubeadm/nodes-page2.json'));
    const nodes = await source({ pageSize: 2 }).nodes();
    assert.deepEqual(nodes.map((n) => n.metadata?.name), ['k8s-cp-01', 'k8s-node-01', 'k8s-node-02']);
    scope.done();
  });

  it('starts the list again when the continue token has expired (410), without duplicates', async () => {
    const page1 = fixtureJSON('kubeadm/nodes-page1.json');
    const scope = nock(SERVER)
      .get('/api/v1/nodes').query({ limit: '2' }).reply(200, page1)
      .get('/api/v1/nodes').query({ limit: '2', continue: page1.metadata.continue }).reply(410, fixture('errors/410-expired-continue.json'))
      .get('/api/v1/nodes').query({ limit: '2' }).reply(200, page1)
      .get('/api/v1/nodes').query({ limit: '2', continue: page1.metadata.continue }).reply(200, fixture('kubeadm/nodes-page2.json'));
    const nodes = await source({ pageSize: 2 }).nodes();
    assert.deepEqual(nodes.map((n) => n.metadata?.name), ['k8s-cp-01', 'k8s-node-01', 'k8s-node-02']);
    scope.done();
  });

  it('gives up with one sentence when the token expires twice', async () => {
    const page1 = fixtureJSON('kubeadm/nodes-page1.json');
    nock(SERVER)
      .get('/api/v1/nodes').query({ limit: '2' }).twice().reply(200, page1)
      .get('/api/v1/nodes').query({ limit: '2', continue: page1.metadata.continue }).twice().reply(410, fixture('errors/410-expired-continue.json'));
    const err = await rejection(source({ pageSize: 2 }).nodes());
    assert.ok(err instanceof ClusterError);
    assert.match(err.message, /answered 410 to list nodes at the cluster scope: The provided continue parameter is too old/);
  });

  it('lists Services of one namespace when -n is given', async () => {
    const scope = nock(SERVER).get('/api/v1/namespaces/shop/services').query({ limit: '500' }).reply(200, { kind: 'ServiceList', apiVersion: 'v1', metadata: { resourceVersion: '1' }, items: [] });
    assert.deepEqual(await source().services('shop'), []);
    scope.done();
  });
});

describe('refusals name the verb, the resource and what to do', () => {
  it('403 on list nodes names the user, the verb and the resource (exit 3)', async () => {
    nock(SERVER).get('/api/v1/nodes').query(true).reply(403, fixture('errors/403-forbidden-list-nodes.json'));
    const err = await rejection(source().nodes());
    assert.ok(err instanceof ClusterError);
    assert.equal(err.exitCode, 3);
    assert.equal(
      err.message,
      'forbidden: user "system:serviceaccount:default:viewer" may not list nodes at the cluster scope (RBAC); ask a cluster admin to grant "list" on "nodes".',
    );
  });

  it('403 on the kube-proxy ConfigMap names get configmaps in kube-system', async () => {
    nock(SERVER).get('/api/v1/namespaces/kube-system/configmaps/kube-proxy').reply(403, fixture('errors/403-forbidden-get-configmap.json'));
    const err = await rejection(loadProxyConfig(source(), undefined, {}));
    assert.ok(err instanceof ClusterError);
    assert.match(err.message, /may not get configmaps "kube-proxy" in namespace "kube-system" \(RBAC\); ask a cluster admin to grant "get" on "configmaps" in namespace "kube-system"\.$/);
  });

  it('403 on EndpointSlices names the discovery resource', async () => {
    nock(SERVER).get('/apis/discovery.k8s.io/v1/endpointslices').query(true).reply(403, fixture('errors/403-forbidden-list-endpointslices.json'));
    const err = await rejection(source().endpointSlices());
    assert.match(err.message, /may not list endpointslices at the cluster scope/);
  });

  it('401 says the credentials were rejected and how to recover (exit 3)', async () => {
    nock(SERVER).get('/api/v1/nodes').query(true).reply(401, fixture('errors/401-unauthorized.json'));
    const err = await rejection(source().nodes());
    assert.equal(err.exitCode, 3);
    assert.equal(err.message, `the API server at ${SERVER} rejected the credentials of context "fixture" (401 Unauthorized); log in again or refresh the kubeconfig's user token.`);
  });

  it('a missing kube-proxy ConfigMap (404) is no error: kube-proxy\'s defaults apply', async () => {
    const scope = nock(SERVER)
      .get('/api/v1/namespaces/kube-system/configmaps/kube-proxy').reply(404, fixture('errors/404-configmap-not-found.json'))
      .get('/api/v1/namespaces/kube-system/configmaps/kube-proxy-config').reply(404, fixture('errors/404-configmap-kube-proxy-config-not-found.json'));
    const cfg = await loadProxyConfig(source(), undefined, {});
    assert.equal(cfg.effectiveMode, 'iptables');
    assert.equal(cfg.modeDefaulted, true);
    scope.done();
  });

  it('429 with a plain-text body says the server is throttling', async () => {
    nock(SERVER).get('/api/v1/nodes').query(true).reply(429, fixture('errors/429-too-many-requests.txt'), { 'Retry-After': '1' });
    const err = await rejection(source().nodes());
    assert.equal(err.exitCode, 3);
    assert.match(err.message, /is throttling requests \(429/);
  });

  it('500 quotes the server\'s message', async () => {
    nock(SERVER).get('/api/v1/services').query(true).reply(500, fixture('errors/500-etcd-request-timed-out.json'));
    const err = await rejection(source().services());
    assert.equal(err.exitCode, 3);
    assert.match(err.message, /answered 500 to list services at the cluster scope: etcdserver: request timed out/);
  });

  it('504 from the server is a time-out', async () => {
    nock(SERVER).get('/api/v1/nodes').query(true).reply(504, fixture('errors/504-timeout.json'));
    const err = await rejection(source().nodes());
    assert.match(err.message, /timed out answering list nodes at the cluster scope \(504\)/);
  });

  it('--request-timeout bounds each request (exit 3)', async () => {
    nock(SERVER).get('/api/v1/nodes').query(true).delay(2000).reply(200, fixture('kind/nodes.json'));
    const t0 = Date.now();
    const err = await rejection(source({ requestTimeout: '200ms' }).nodes());
    assert.ok(Date.now() - t0 < 1500, 'the timeout cut the request short');
    assert.ok(err instanceof ClusterError);
    assert.equal(err.message, `the API server at ${SERVER} did not answer within 0.2s (--request-timeout) to list nodes at the cluster scope; check the connection or raise --request-timeout.`);
  });

  it('a reply that is not JSON says the server is not a Kubernetes API server', async () => {
    nock(SERVER).get('/api/v1/nodes').query(true).reply(200, '<html>login</html>');
    const err = await rejection(source().nodes());
    assert.match(err.message, /sent a reply that is not JSON to list nodes; is the kubeconfig pointing at a Kubernetes API server\?$/);
  });
});

describe('kubeconfig handling', () => {
  it('KUBECONFIG with several paths is merged, as kubectl does', async () => {
    const dir = tempDir();
    const clusters = join(dir, 'clusters.yaml');
    const contexts = join(dir, 'contexts.yaml');
    writeFileSync(clusters, `apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: "${SERVER}", insecure-skip-tls-verify: true}\nusers:\n- name: u\n  user: {token: merged-token}\n`);
    writeFileSync(contexts, 'apiVersion: v1\nkind: Config\ncontexts:\n- name: merged\n  context: {cluster: c, user: u}\ncurrent-context: merged\n');
    const saved = process.env.KUBECONFIG;
    process.env.KUBECONFIG = `${clusters}:${contexts}`;
    try {
      const scope = nock(SERVER, { reqheaders: { authorization: 'Bearer merged-token' } }).get('/api/v1/nodes').query(true).reply(200, fixture('kind/nodes.json'));
      const src = new ApiSource({ requestTimeout: '5s' });
      assert.equal((await src.nodes()).length, 3);
      assert.match(src.description, /^cluster merged /);
      scope.done();
    } finally {
      if (saved === undefined) delete process.env.KUBECONFIG;
      else process.env.KUBECONFIG = saved;
    }
  });

  it('--context picks a context; an unknown one lists those there are (exit 2)', () => {
    const kc = writeKubeconfig(SERVER, { token: 't' }, 'prod');
    assert.throws(
      () => new ApiSource({ kubeconfig: kc, context: 'staging', requestTimeout: '0' }),
      (err: Error) => err instanceof InputError && err.message === 'context "staging" is not in the kubeconfig (it has: prod); pick one with --context.',
    );
    assert.match(new ApiSource({ kubeconfig: kc, context: 'prod', requestTimeout: '0' }).description, /^cluster prod /);
  });

  it('a missing --kubeconfig file is bad input (exit 2)', () => {
    assert.throws(() => new ApiSource({ kubeconfig: '/no/such/kubeconfig', requestTimeout: '0' }), (err: Error) => err instanceof InputError && /cannot read the kubeconfig \/no\/such\/kubeconfig: it does not exist/.test(err.message));
  });

  it('a malformed --request-timeout is bad input', () => {
    assert.throws(() => new ApiSource({ kubeconfig: writeKubeconfig(), requestTimeout: 'soon' }), /is not a duration/);
  });

  it('exec credential plugins supply the token (client-node runs the plugin)', async () => {
    const kc = writeKubeconfig(SERVER, {
      exec: {
        apiVersion: 'client.authentication.k8s.io/v1',
        command: process.execPath,
        args: ['-e', 'console.log(JSON.stringify({apiVersion:"client.authentication.k8s.io/v1",kind:"ExecCredential",status:{token:"from-exec-plugin"}}))'],
        interactiveMode: 'Never',
      },
    });
    const scope = nock(SERVER, { reqheaders: { authorization: 'Bearer from-exec-plugin' } }).get('/api/v1/nodes').query(true).reply(200, fixture('kind/nodes.json'));
    assert.equal((await new ApiSource({ kubeconfig: kc, requestTimeout: '5s' }).nodes()).length, 3);
    scope.done();
  });

  it('a failing exec plugin is a cluster error naming the context', async () => {
    const kc = writeKubeconfig(SERVER, { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: process.execPath, args: ['-e', 'process.exit(1)'], interactiveMode: 'Never' } });
    const err = await rejection(new ApiSource({ kubeconfig: kc, requestTimeout: '5s' }).nodes());
    assert.equal(err.exitCode, 3);
    assert.match(err.message, /^getting credentials for context "fixture" failed: .+; check the kubeconfig user's auth settings\.$/);
  });
});
