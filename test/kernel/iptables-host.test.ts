// The host backend (src/core/host) against real iptables in a network namespace, for iptables-nft and
// iptables-legacy: apply and read back, refusals that name the line and leave the node's rules
// byte-identical, idempotent single rules, backend detection, and endpoint switches under load.
// The rules are hand-written in kube-proxy's shape (KUBE-SERVICES -> KUBE-SVC-… -> KUBE-SEP-… DNAT), in
// the canonical order iptables-save prints, so what is read back can be compared word for word.
import assert from 'node:assert/strict';
import test from 'node:test';
import {
  IptablesCommandBackend,
  RestoreError,
  detectIptablesKind,
  ensureNfacct,
  netnsRunner,
  type IptablesKind,
} from '../../src/core/host/index.js';
import { parseIptablesSave } from '../../src/core/iptables/parse.js';
import type { Ruleset } from '../../src/core/iptables/types.js';
import {
  connect,
  connectBatch,
  countReplies,
  exec,
  iptablesRestore,
  iptablesSave,
  kernelSkip,
  resetNetfilter,
  withTopology,
  type ConnectResult,
  type Host,
} from './harness/index.js';

const TOOLS = [
  'iptables-nft', 'iptables-legacy', 'iptables-nft-restore', 'iptables-legacy-restore', 'iptables-nft-save',
  'iptables-legacy-save', 'ip6tables-nft-save', 'ip6tables-legacy-save', 'nft', 'nfacct', 'conntrack',
];
const skip = kernelSkip(TOOLS, 'iptables host backend');

const SVC_IP = '10.96.0.10';
const SVC = 'KUBE-SVC-PMWEBHTTPAAAAAAA';
const KINDS: IptablesKind[] = ['nft', 'legacy'];

const sepName = (h: Host) => `KUBE-SEP-PM${h.name.toUpperCase().replace('-', '')}AAAAAAAAAA`;

/** The nat table of one service port whose endpoints are `eps`, as iptables-save prints it. */
function natRules(eps: readonly Host[], opts: { extraChains?: string[] } = {}): string {
  const sep = sepName;
  const seps = [...eps].sort((a, b) => (sep(a) < sep(b) ? -1 : 1));
  const chains = ['KUBE-MARK-MASQ', 'KUBE-POSTROUTING', ...seps.map(sep), 'KUBE-SERVICES', SVC, ...(opts.extraChains ?? [])].sort();
  const lines = [
    '*nat',
    ':PREROUTING ACCEPT [0:0]',
    ':INPUT ACCEPT [0:0]',
    ':OUTPUT ACCEPT [0:0]',
    ':POSTROUTING ACCEPT [0:0]',
    ...chains.map((c) => `:${c} - [0:0]`),
  ];
  const byChain = new Map<string, string[]>([
    ['KUBE-MARK-MASQ', ['-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000']],
    [
      'KUBE-POSTROUTING',
      [
        '-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN',
        '-A KUBE-POSTROUTING -j MARK --set-xmark 0x4000/0x0',
        '-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully',
      ],
    ],
    ['KUBE-SERVICES', [`-A KUBE-SERVICES -d ${SVC_IP}/32 -p tcp -m comment --comment "pm/web:http cluster IP" -m tcp --dport 80 -j ${SVC}`]],
    [
      SVC,
      eps.map((h, i) => {
        const n = eps.length - i;
        const stat = n > 1 ? ` -m statistic --mode random --probability ${(1 / n).toFixed(11)}` : '';
        return `-A ${SVC} -m comment --comment "pm/web:http -> ${h.ipv4}:80"${stat} -j ${sep(h)}`;
      }),
    ],
  ]);
  for (const h of seps) {
    byChain.set(sep(h), [
      `-A ${sep(h)} -s ${h.ipv4}/32 -m comment --comment "pm/web:http" -j KUBE-MARK-MASQ`,
      `-A ${sep(h)} -p tcp -m comment --comment "pm/web:http" -m tcp -j DNAT --to-destination ${h.ipv4}:80`,
    ]);
  }
  lines.push(
    '-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    '-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    '-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING',
  );
  for (const c of chains) lines.push(...(byChain.get(c) ?? []));
  lines.push('COMMIT', '');
  return lines.join('\n');
}

const FILTER = [
  '*filter',
  ':INPUT ACCEPT [0:0]',
  ':FORWARD ACCEPT [0:0]',
  ':OUTPUT ACCEPT [0:0]',
  ':KUBE-FORWARD - [0:0]',
  ':KUBE-SERVICES - [0:0]',
  '-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
  '-A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD',
  '-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP',
  '-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT',
  '-A KUBE-SERVICES -d 10.96.0.20/32 -p tcp -m comment --comment "pm/none:http has no endpoints" -m tcp --dport 80 -j REJECT --reject-with icmp-port-unreachable',
  'COMMIT',
  '',
].join('\n');

/** Chains and rule words of the tables in `text` (no counters, no built-in chains' policies' counters). */
function rulesOf(text: string): Array<{ table: string; chains: Array<{ name: string; policy: string; rules: string[][] }> }> {
  const rs: Ruleset = parseIptablesSave(text, { family: 'IPv4' });
  return rs.tables.map((t) => ({ table: t.name, chains: t.chains.map((c) => ({ name: c.name, policy: c.policy, rules: c.rules.map((r) => r.words) })) }));
}

/**
 * Save output without its `# Generated/Completed … on <date>` lines and with the built-in chains' packet
 * counters zeroed (the node's own IGMP/ND traffic moves them): what must stay byte-identical.
 */
const stable = (save: string) =>
  save
    .split('\n')
    .filter((l) => !l.startsWith('#'))
    .map((l) => l.replace(/^(:\S+ \S+) \[\d+:\d+\]$/, '$1 [0:0]'))
    .join('\n');

test('iptables host backend', { skip, timeout: 60_000 }, async (t) => {
  await withTopology(t, { pods: 4 }, async (topo) => {
    const [p1, p2, p3, p4] = topo.pods;
    assert.ok(p1 && p2 && p3 && p4);
    await topo.serve(topo.pods, { tcp: [80] });
    const node = topo.node.ns;
    const run = netnsRunner(node);
    const A = [p1, p2];
    const B = [p3, p4];

    for (const kind of KINDS) {
      const backend = new IptablesCommandBackend(kind, run, { waitSeconds: 10 });

      await t.test(`${kind}: a ruleset applied through the backend reads back the same, and works`, async () => {
        try {
          const t0 = Date.now();
          await backend.restore('IPv4', FILTER + natRules(A), { noflush: true });
          const applied = Date.now() - t0;
          assert.deepEqual(rulesOf(await backend.save('IPv4', 'filter')), rulesOf(FILTER));
          assert.deepEqual(rulesOf(await backend.save('IPv4', 'nat')), rulesOf(natRules(A)));
          assert.match(await backend.save('IPv4', 'nat'), /--comment "pm\/web:http cluster IP"/, 'comments with spaces survive, quoted');
          const b = await connectBatch(topo.client.ns, SVC_IP, 80, { count: 20, concurrency: 4 });
          assert.deepEqual(Object.keys(b.counts).sort(), ['pod-1', 'pod-2'], JSON.stringify(b.counts));
          const r = await connect(topo.client.ns, '10.96.0.20', 80, { timeoutMs: 2_000 });
          assert.deepEqual([r.ok, !r.ok && r.error], [false, 'refused'], 'the filter table is live too');
          assert.match(await backend.version(), /^\d+\.\d+\.\d+$/);
          t.diagnostic(`${kind}: two-table restore (with snapshot) took ${applied} ms`);
        } finally {
          await resetNetfilter(node);
        }
      });

      await t.test(`${kind}: iptables-restore itself is atomic per table only: a later table's failure leaves earlier COMMITs applied`, async () => {
        try {
          await backend.restore('IPv4', FILTER + natRules(A), { noflush: true });
          const natBefore = stable(await iptablesSave(node, kind, { table: 'nat' }));
          // filter gains a chain; nat gets three good lines, then an unknown target
          const text = ['*filter', ':KUBE-NEW - [0:0]', '-A KUBE-NEW -j ACCEPT', 'COMMIT', '*nat', ':KUBE-EXTRA - [0:0]', `-A ${SVC} -j RETURN`, '-A KUBE-EXTRA -j RETURN', '-A KUBE-EXTRA -j PM-NO-SUCH-TARGET', 'COMMIT', ''].join('\n');
          const r = await iptablesRestore(node, text, { backend: kind, noflush: true, check: false });
          assert.notEqual(r.code, 0);
          assert.match(await iptablesSave(node, kind, { table: 'filter' }), /-A KUBE-NEW -j ACCEPT/, 'the filter COMMIT was applied');
          assert.equal(stable(await iptablesSave(node, kind, { table: 'nat' })), natBefore, 'no line of the failed nat block was applied');
        } finally {
          await resetNetfilter(node);
        }
      });

      await t.test(`${kind}: a refused restore names the line and its text and leaves the rules byte-identical (unknown target, missing nfacct counter)`, async () => {
        try {
          await ensureNfacct(run, ['pm_present_ctr']);
          await backend.restore('IPv4', FILTER + natRules(A), { noflush: true });
          const before = stable(await backend.save('IPv4'));
          const beforeOther = stable(await iptablesSave(node, kind === 'nft' ? 'legacy' : 'nft'));
          const bad1 = FILTER.replace('-j DROP', '-j DROP\n-A KUBE-FORWARD -j ACCEPT') + natRules(B).replace('-j MARK --set-xmark 0x4000/0x4000', '-j PM-NO-SUCH-TARGET');
          const badLine1 = bad1.split('\n').findIndex((l) => l.includes('PM-NO-SUCH-TARGET')) + 1;
          const bad2 = FILTER.replace(
            '-j DROP',
            '-j DROP\n-A KUBE-FORWARD -m nfacct --nfacct-name pm_present_ctr -j ACCEPT\n-A KUBE-FORWARD -m nfacct --nfacct-name pm_missing_ctr -j DROP',
          ) + natRules(B);
          const badLine2 = bad2.split('\n').findIndex((l) => l.includes('pm_missing_ctr')) + 1;
          for (const [text, line, reason] of [
            [bad1, badLine1, kind === 'nft' ? /Chain 'PM-NO-SUCH-TARGET' does not exist/ : /Couldn't load target `PM-NO-SUCH-TARGET'/],
            [bad2, badLine2, /nfacct counter pm_missing_ctr does not exist/],
          ] as const) {
            const lineText = text.split('\n')[line - 1]!;
            const e = await backend.restore('IPv4', text, { noflush: true }).then(
              () => assert.fail('the restore should be refused'),
              (err: unknown) => err,
            );
            assert.ok(e instanceof RestoreError, String(e));
            t.diagnostic(`${kind}: ${e.message}`);
            assert.equal(e.line, line);
            assert.equal(e.lineText, lineText);
            assert.ok(e.message.includes(`line ${line} of the IPv4 rules ("${lineText}")`), e.message);
            assert.match(e.message, reason);
            assert.match(e.message, /so the node's rules were left as they were\.$/);
            assert.equal(e.rollback?.error, undefined);
            assert.equal(stable(await backend.save('IPv4')), before, 'every table byte-identical');
          }
          assert.equal(stable(await iptablesSave(node, kind === 'nft' ? 'legacy' : 'nft')), beforeOther, 'the other backend untouched');
          // check (--test) parses without committing: it catches what the tool itself rejects (an unknown
          // option), not what only the kernel or iptables-nft's commit would (a missing chain, a counter)
          const bad3 = bad1.replace('-j PM-NO-SUCH-TARGET', '-j MARK --pm-bogus-option');
          await assert.rejects(backend.check('IPv4', bad3, { noflush: true }), (e: unknown) => {
            assert.ok(e instanceof RestoreError);
            assert.equal(e.line, badLine1);
            assert.match(e.message, /would refuse line \d+ .*unknown option "--pm-bogus-option"/);
            return true;
          });
          assert.equal(stable(await backend.save('IPv4')), before);
        } finally {
          await resetNetfilter(node);
        }
      });

      await t.test(`${kind}: ensureChain / ensureRule / deleteRule are idempotent`, async () => {
        try {
          const jump = ['-m', 'comment', '--comment', 'kubernetes service portals', '-j', 'KUBE-SERVICES'];
          assert.equal(await backend.ensureChain('IPv4', 'nat', 'KUBE-SERVICES'), true);
          assert.equal(await backend.ensureChain('IPv4', 'nat', 'KUBE-SERVICES'), false);
          assert.equal(await backend.ensureRule('IPv4', 'nat', 'PREROUTING', jump, 'prepend'), true);
          assert.equal(await backend.ensureRule('IPv4', 'nat', 'PREROUTING', jump, 'prepend'), false);
          assert.equal(await backend.ensureRule('IPv4', 'nat', 'PREROUTING', ['-j', 'RETURN'], 'append'), true);
          const lines = (await backend.save('IPv4', 'nat')).split('\n').filter((l) => l.startsWith('-A PREROUTING'));
          assert.deepEqual(lines, ['-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES', '-A PREROUTING -j RETURN']);
          assert.equal(await backend.deleteRule('IPv4', 'nat', 'PREROUTING', jump), true);
          assert.equal(await backend.deleteRule('IPv4', 'nat', 'PREROUTING', jump), false);
          assert.doesNotMatch(await backend.save('IPv4', 'nat'), /-A PREROUTING .*KUBE-SERVICES/);
        } finally {
          await resetNetfilter(node);
        }
      });

      await t.test(`${kind}: endpoint switches by restore under load: every connection lands on the old or the new set`, async () => {
        try {
          await backend.restore('IPv4', FILTER + natRules(A), { noflush: true });
          // Load in batches of 500: the harness client's JSON answer is cut short above ~200 kB (~3000 results).
          let stop = false;
          const load = (async () => {
            const all: ConnectResult[] = [];
            while (!stop && all.length < 5_000) {
              const batch = await connectBatch(topo.client.ns, SVC_IP, 80, { count: 500, concurrency: 4, timeoutMs: 2_000, deadlineMs: 20_000 });
              all.push(...batch.results);
            }
            return all;
          })();
          let switches = 0;
          const t0 = Date.now();
          while (switches < 30) {
            const next = switches % 2 === 0 ? B : A;
            const old = switches % 2 === 0 ? A : B;
            // kube-proxy's shape of a change: new SEP chains written, the old ones flushed and deleted
            const natText = natRules(next, { extraChains: old.map(sepName) }).replace('COMMIT\n', old.map((h) => `-X ${sepName(h)}`).join('\n') + '\nCOMMIT\n');
            await backend.restore('IPv4', FILTER + natText, { noflush: true });
            switches++;
            await new Promise((r) => setTimeout(r, 15));
          }
          stop = true;
          const results = await load;
          const counts = countReplies(results);
          const b = { results, counts, complete: true };
          t.diagnostic(`${kind}: ${switches} switches in ${Date.now() - t0} ms under ${b.results.length} connections: ${JSON.stringify(b.counts)}`);
          assert.equal(b.complete, true);
          assert.ok(results.length >= 500, `${results.length} connections during the switches`);
          const failed = b.results.filter((r) => !r.ok);
          assert.deepEqual(failed, [], 'no connection failed');
          assert.deepEqual(Object.keys(b.counts).filter((k) => !/^pod-[1-4]$/.test(k)), []);
          assert.ok(['pod-1', 'pod-2'].some((p) => b.counts[p]) && ['pod-3', 'pod-4'].some((p) => b.counts[p]), 'both sets served');
          const end = await backend.save('IPv4', 'nat');
          assert.equal((end.match(/^:KUBE-SEP-/gm) ?? []).length, 2, 'old endpoint chains deleted');
        } finally {
          await resetNetfilter(node);
        }
      });
    }

    await t.test('detection: the backend holding KUBE- rules, kubelet chains first, nft when neither holds any', async () => {
      try {
        await resetNetfilter(node);
        let d = await detectIptablesKind(run);
        assert.deepEqual([d.kind, d.reason], ['nft', 'neither backend holds rules, and nft is the default']);

        await iptablesRestore(node, FILTER + natRules(A), { backend: 'legacy', noflush: true });
        d = await detectIptablesKind(run);
        assert.equal(d.kind, 'legacy', d.reason);
        assert.ok((d.legacy.kubeChains ?? 0) > 0 && d.nft.kubeChains === 0);

        await iptablesRestore(node, FILTER + natRules([p1, p2, p3, p4]), { backend: 'nft', noflush: true });
        d = await detectIptablesKind(run);
        assert.equal(d.kind, 'nft', `more nft rules: ${d.reason}`);

        await resetNetfilter(node);
        await iptablesRestore(node, FILTER + natRules(B), { backend: 'legacy', noflush: true });
        await iptablesRestore(node, '*mangle\n:KUBE-KUBELET-CANARY - [0:0]\nCOMMIT\n', { backend: 'nft', noflush: true });
        d = await detectIptablesKind(run);
        assert.deepEqual([d.kind, d.reason], ['nft', "kubelet's chains are in iptables-nft's IPv4 mangle table"]);
      } finally {
        await resetNetfilter(node);
        await exec(node, ['nfacct', 'flush']);
      }
    });
  });
});
