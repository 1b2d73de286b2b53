// serializeRestore / serializeSave / sortRestoreLikeUpstream. The normaliser cases are upstream's
// TestSortIPTablesRules (pkg/proxy/iptables/proxier_test.go @ 531be81208e2274ef42e72525a26610a9622bcdf).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  quoteRestoreWord,
  quoteSaveString,
  serializeRestore,
  serializeSave,
  sortRestoreLikeUpstream,
  type Ruleset,
} from '../../../src/core/iptables/index.js';
import { loadCase, readRules, renderCase } from './upstream/harness.js';

/** dedent.Dedent of a Go raw string that starts with a newline, as upstream writes them. */
function dedent(text: string): string {
  const lines = text.split('\n');
  const indents = lines.filter((l) => l.trim() !== '').map((l) => /^[\t ]*/.exec(l)![0].length);
  const n = Math.min(...indents);
  return lines.map((l) => l.slice(n)).join('\n').replace(/^\n/, '').replace(/[\t ]+$/, '');
}

describe('sortRestoreLikeUpstream (TestSortIPTablesRules)', () => {
  it('basic test using each match type', () => {
    const input = dedent(`
      *filter
      :KUBE-SERVICES - [0:0]
      :KUBE-EXTERNAL-SERVICES - [0:0]
      :KUBE-FIREWALL - [0:0]
      :KUBE-FORWARD - [0:0]
      :KUBE-NODEPORTS - [0:0]
      :KUBE-PROXY-FIREWALL - [0:0]
      -A KUBE-NODEPORTS -m comment --comment "ns2/svc2:p80 health check node port" -m tcp -p tcp --dport 30000 -j ACCEPT
      -A KUBE-EXTERNAL-SERVICES -m comment --comment "ns2/svc2:p80 has no local endpoints" -m tcp -p tcp -d 192.168.99.22 --dport 80 -j DROP
      -A KUBE-EXTERNAL-SERVICES -m comment --comment "ns2/svc2:p80 has no local endpoints" -m tcp -p tcp -d 1.2.3.4 --dport 80 -j DROP
      -A KUBE-EXTERNAL-SERVICES -m comment --comment "ns2/svc2:p80 has no local endpoints" -m addrtype --dst-type LOCAL -m tcp -p tcp --dport 3001 -j DROP
      -A KUBE-FIREWALL -m comment --comment "block incoming localnet connections" -d 127.0.0.0/8 ! -s 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP
      -A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP
      -A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT
      -A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
      -A KUBE-PROXY-FIREWALL -m comment --comment "ns5/svc5:p80 traffic not accepted by KUBE-FW-NUKIZ6OKUXPJNT4C" -m tcp -p tcp -d 5.6.7.8 --dport 80 -j DROP
      COMMIT
      *nat
      :KUBE-SERVICES - [0:0]
      :KUBE-NODEPORTS - [0:0]
      :KUBE-POSTROUTING - [0:0]
      :KUBE-MARK-MASQ - [0:0]
      :KUBE-SVC-XPGD46QRK7WJZT7O - [0:0]
      :KUBE-SEP-SXIVWICOYRO3J4NJ - [0:0]
      :KUBE-SVC-GNZBNJ2PO5MGZ6GT - [0:0]
      :KUBE-EXT-GNZBNJ2PO5MGZ6GT - [0:0]
      :KUBE-SVL-GNZBNJ2PO5MGZ6GT - [0:0]
      :KUBE-FW-GNZBNJ2PO5MGZ6GT - [0:0]
      :KUBE-SEP-RS4RBKLTHTF2IUXJ - [0:0]
      :KUBE-SVC-X27LE4BHSL4DOUIK - [0:0]
      :KUBE-SEP-OYPFS5VJICHGATKP - [0:0]
      :KUBE-SVC-4SW47YFZTEDKD3PK - [0:0]
      :KUBE-SEP-UKSFD7AGPMPPLUHC - [0:0]
      :KUBE-SEP-C6EBXVWJJZMIWKLZ - [0:0]
      -A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN
      -A KUBE-POSTROUTING -j MARK --xor-mark 0x4000
      -A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE
      -A KUBE-MARK-MASQ -j MARK --or-mark 0x4000
      -A KUBE-SERVICES -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp -p tcp -d 172.30.0.41 --dport 80 -j KUBE-SVC-XPGD46QRK7WJZT7O
      -A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp -p tcp -d 172.30.0.41 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ
      -A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment ns1/svc1:p80 -j KUBE-SEP-SXIVWICOYRO3J4NJ
      -A KUBE-SEP-SXIVWICOYRO3J4NJ -m comment --comment ns1/svc1:p80 -s 10.180.0.1 -j KUBE-MARK-MASQ
      -A KUBE-SEP-SXIVWICOYRO3J4NJ -m comment --comment ns1/svc1:p80 -m tcp -p tcp -j DNAT --to-destination 10.180.0.1:80
      -A KUBE-SERVICES -m comment --comment "ns2/svc2:p80 cluster IP" -m tcp -p tcp -d 172.30.0.42 --dport 80 -j KUBE-SVC-GNZBNJ2PO5MGZ6GT
      -A KUBE-SERVICES -m comment --comment "ns2/svc2:p80 external IP" -m tcp -p tcp -d 192.168.99.11 --dport 80 -j KUBE-EXT-GNZBNJ2PO5MGZ6GT
      -A KUBE-SERVICES -m comment --comment "ns2/svc2:p80 loadbalancer IP" -m tcp -p tcp -d 1.2.3.4 --dport 80 -j KUBE-FW-GNZBNJ2PO5MGZ6GT
      -A KUBE-SVC-GNZBNJ2PO5MGZ6GT -m comment --comment "ns2/svc2:p80 cluster IP" -m tcp -p tcp -d 172.30.0.42 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ
      -A KUBE-SVC-GNZBNJ2PO5MGZ6GT -m comment --comment ns2/svc2:p80 -j KUBE-SEP-RS4RBKLTHTF2IUXJ
      -A KUBE-SEP-RS4RBKLTHTF2IUXJ -m comment --comment ns2/svc2:p80 -s 10.180.0.2 -j KUBE-MARK-MASQ
      -A KUBE-SEP-RS4RBKLTHTF2IUXJ -m comment --comment ns2/svc2:p80 -m tcp -p tcp -j DNAT --to-destination 10.180.0.2:80
      -A KUBE-FW-GNZBNJ2PO5MGZ6GT -m comment --comment "ns2/svc2:p80 loadbalancer IP" -s 203.0.113.0/25 -j KUBE-EXT-GNZBNJ2PO5MGZ6GT
      -A KUBE-FW-GNZBNJ2PO5MGZ6GT -m comment --comment "other traffic to s2/svc2:p80 will be dropped by KUBE-PROXY-FIREWALL"
      -A KUBE-NODEPORTS -m comment --comment ns2/svc2:p80 -m tcp -p tcp --dport 3001 -j KUBE-EXT-GNZBNJ2PO5MGZ6GT
      -A KUBE-EXT-GNZBNJ2PO5MGZ6GT -m comment --comment "Redirect pods trying to reach external loadbalancer VIP to clusterIP" -s 10.0.0.0/8 -j KUBE-SVC-GNZBNJ2PO5MGZ6GT
      -A KUBE-EXT-GNZBNJ2PO5MGZ6GT -m comment --comment "masquerade LOCAL traffic for ns2/svc2:p80 LB IP" -m addrtype --src-type LOCAL -j KUBE-MARK-MASQ
      -A KUBE-EXT-GNZBNJ2PO5MGZ6GT -m comment --comment "route LOCAL traffic for ns2/svc2:p80 LB IP to service chain" -m addrtype --src-type LOCAL -j KUBE-SVC-GNZBNJ2PO5MGZ6GT
      -A KUBE-EXT-GNZBNJ2PO5MGZ6GT -j KUBE-SVL-GNZBNJ2PO5MGZ6GT
      -A KUBE-SVL-GNZBNJ2PO5MGZ6GT -m comment --comment "ns2/svc2:p80 has no local endpoints" -j KUBE-MARK-DROP
      -A KUBE-SERVICES -m comment --comment "ns3/svc3:p80 cluster IP" -m tcp -p tcp -d 172.30.0.43 --dport 80 -j KUBE-SVC-X27LE4BHSL4DOUIK
      -A KUBE-SVC-X27LE4BHSL4DOUIK -m comment --comment "ns3/svc3:p80 cluster IP" -m tcp -p tcp -d 172.30.0.43 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ
      -A KUBE-NODEPORTS -m comment --comment ns3/svc3:p80 -m tcp -p tcp --dport 3002 -j KUBE-SVC-X27LE4BHSL4DOUIK
      -A KUBE-SVC-X27LE4BHSL4DOUIK -m comment --comment ns3/svc3:p80 -m tcp -p tcp --dport 3002 -j KUBE-MARK-MASQ
      -A KUBE-SVC-X27LE4BHSL4DOUIK -m comment --comment ns3/svc3:p80 -j KUBE-SEP-OYPFS5VJICHGATKP
      -A KUBE-SEP-OYPFS5VJICHGATKP -m comment --comment ns3/svc3:p80 -s 10.180.0.3 -j KUBE-MARK-MASQ
      -A KUBE-SEP-OYPFS5VJICHGATKP -m comment --comment ns3/svc3:p80 -m tcp -p tcp -j DNAT --to-destination 10.180.0.3:80
      -A KUBE-SERVICES -m comment --comment "ns4/svc4:p80 cluster IP" -m tcp -p tcp -d 172.30.0.44 --dport 80 -j KUBE-SVC-4SW47YFZTEDKD3PK
      -A KUBE-SERVICES -m comment --comment "ns4/svc4:p80 external IP" -m tcp -p tcp -d 192.168.99.22 --dport 80 -j KUBE-SVC-4SW47YFZTEDKD3PK
      -A KUBE-SVC-4SW47YFZTEDKD3PK -m comment --comment "ns4/svc4:p80 cluster IP" -m tcp -p tcp -d 172.30.0.44 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ
      -A KUBE-SVC-4SW47YFZTEDKD3PK -m comment --comment "ns4/svc4:p80 external IP" -m tcp -p tcp -d 192.168.99.22 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ
      -A KUBE-SVC-4SW47YFZTEDKD3PK -m comment --comment ns4/svc4:p80 -m statistic --mode random --probability 0.5000000000 -j KUBE-SEP-UKSFD7AGPMPPLUHC
      -A KUBE-SVC-4SW47YFZTEDKD3PK -m comment --comment ns4/svc4:p80 -j KUBE-SEP-C6EBXVWJJZMIWKLZ
      -A KUBE-SEP-UKSFD7AGPMPPLUHC -m comment --comment ns4/svc4:p80 -s 10.180.0.4 -j KUBE-MARK-MASQ
      -A KUBE-SEP-UKSFD7AGPMPPLUHC -m comment --comment ns4/svc4:p80 -m tcp -p tcp -j DNAT --to-destination 10.180.0.4:80
      -A KUBE-SEP-C6EBXVWJJZMIWKLZ -m comment --comment ns4/svc4:p80 -s 10.180.0.5 -j KUBE-MARK-MASQ
      -A KUBE-SEP-C6EBXVWJJZMIWKLZ -m comment --comment ns4/svc4:p80 -m tcp -p tcp -j DNAT --to-destination 10.180.0.5:80
      -A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS
      COMMIT
    `);
    const output = dedent(`
      *filter
      :KUBE-NODEPORTS - [0:0]
      :KUBE-SERVICES - [0:0]
      :KUBE-EXTERNAL-SERVICES - [0:0]
      :KUBE-FIREWALL - [0:0]
      :KUBE-FORWARD - [0:0]
      :KUBE-PROXY-FIREWALL - [0:0]
      -A KUBE-NODEPORTS -m comment --comment "ns2/svc2:p80 health check node port" -m tcp -p tcp --dport 30000 -j ACCEPT
      -A KUBE-EXTERNAL-SERVICES -m comment --comment "ns2/svc2:p80 has no local endpoints" -m tcp -p tcp -d 192.168.99.22 --dport 80 -j DROP
      -A KUBE-EXTERNAL-SERVICES -m comment --comment "ns2/svc2:p80 has no local endpoints" -m tcp -p tcp -d 1.2.3.4 --dport 80 -j DROP
      -A KUBE-EXTERNAL-SERVICES -m comment --comment "ns2/svc2:p80 has no local endpoints" -m addrtype --dst-type LOCAL -m tcp -p tcp --dport 3001 -j DROP
      -A KUBE-FIREWALL -m comment --comment "block incoming localnet connections" -d 127.0.0.0/8 ! -s 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP
      -A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP
      -A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT
      -A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
      -A KUBE-PROXY-FIREWALL -m comment --comment "ns5/svc5:p80 traffic not accepted by KUBE-FW-NUKIZ6OKUXPJNT4C" -m tcp -p tcp -d 5.6.7.8 --dport 80 -j DROP
      COMMIT
      *nat
      :KUBE-NODEPORTS - [0:0]
      :KUBE-SERVICES - [0:0]
      :KUBE-EXT-GNZBNJ2PO5MGZ6GT - [0:0]
      :KUBE-FW-GNZBNJ2PO5MGZ6GT - [0:0]
      :KUBE-MARK-MASQ - [0:0]
      :KUBE-POSTROUTING - [0:0]
      :KUBE-SEP-C6EBXVWJJZMIWKLZ - [0:0]
      :KUBE-SEP-OYPFS5VJICHGATKP - [0:0]
      :KUBE-SEP-RS4RBKLTHTF2IUXJ - [0:0]
      :KUBE-SEP-SXIVWICOYRO3J4NJ - [0:0]
      :KUBE-SEP-UKSFD7AGPMPPLUHC - [0:0]
      :KUBE-SVC-4SW47YFZTEDKD3PK - [0:0]
      :KUBE-SVC-GNZBNJ2PO5MGZ6GT - [0:0]
      :KUBE-SVC-X27LE4BHSL4DOUIK - [0:0]
      :KUBE-SVC-XPGD46QRK7WJZT7O - [0:0]
      :KUBE-SVL-GNZBNJ2PO5MGZ6GT - [0:0]
      -A KUBE-NODEPORTS -m comment --comment ns2/svc2:p80 -m tcp -p tcp --dport 3001 -j KUBE-EXT-GNZBNJ2PO5MGZ6GT
      -A KUBE-NODEPORTS -m comment --comment ns3/svc3:p80 -m tcp -p tcp --dport 3002 -j KUBE-SVC-X27LE4BHSL4DOUIK
      -A KUBE-SERVICES -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp -p tcp -d 172.30.0.41 --dport 80 -j KUBE-SVC-XPGD46QRK7WJZT7O
      -A KUBE-SERVICES -m comment --comment "ns2/svc2:p80 cluster IP" -m tcp -p tcp -d 172.30.0.42 --dport 80 -j KUBE-SVC-GNZBNJ2PO5MGZ6GT
      -A KUBE-SERVICES -m comment --comment "ns2/svc2:p80 external IP" -m tcp -p tcp -d 192.168.99.11 --dport 80 -j KUBE-EXT-GNZBNJ2PO5MGZ6GT
      -A KUBE-SERVICES -m comment --comment "ns2/svc2:p80 loadbalancer IP" -m tcp -p tcp -d 1.2.3.4 --dport 80 -j KUBE-FW-GNZBNJ2PO5MGZ6GT
      -A KUBE-SERVICES -m comment --comment "ns3/svc3:p80 cluster IP" -m tcp -p tcp -d 172.30.0.43 --dport 80 -j KUBE-SVC-X27LE4BHSL4DOUIK
      -A KUBE-SERVICES -m comment --comment "ns4/svc4:p80 cluster IP" -m tcp -p tcp -d 172.30.0.44 --dport 80 -j KUBE-SVC-4SW47YFZTEDKD3PK
      -A KUBE-SERVICES -m comment --comment "ns4/svc4:p80 external IP" -m tcp -p tcp -d 192.168.99.22 --dport 80 -j KUBE-SVC-4SW47YFZTEDKD3PK
      -A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS
      -A KUBE-EXT-GNZBNJ2PO5MGZ6GT -m comment --comment "Redirect pods trying to reach external loadbalancer VIP to clusterIP" -s 10.0.0.0/8 -j KUBE-SVC-GNZBNJ2PO5MGZ6GT
      -A KUBE-EXT-GNZBNJ2PO5MGZ6GT -m comment --comment "masquerade LOCAL traffic for ns2/svc2:p80 LB IP" -m addrtype --src-type LOCAL -j KUBE-MARK-MASQ
      -A KUBE-EXT-GNZBNJ2PO5MGZ6GT -m comment --comment "route LOCAL traffic for ns2/svc2:p80 LB IP to service chain" -m addrtype --src-type LOCAL -j KUBE-SVC-GNZBNJ2PO5MGZ6GT
      -A KUBE-EXT-GNZBNJ2PO5MGZ6GT -j KUBE-SVL-GNZBNJ2PO5MGZ6GT
      -A KUBE-FW-GNZBNJ2PO5MGZ6GT -m comment --comment "ns2/svc2:p80 loadbalancer IP" -s 203.0.113.0/25 -j KUBE-EXT-GNZBNJ2PO5MGZ6GT
      -A KUBE-FW-GNZBNJ2PO5MGZ6GT -m comment --comment "other traffic to s2/svc2:p80 will be dropped by KUBE-PROXY-FIREWALL"
      -A KUBE-MARK-MASQ -j MARK --or-mark 0x4000
      -A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN
      -A KUBE-POSTROUTING -j MARK --xor-mark 0x4000
      -A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE
      -A KUBE-SEP-C6EBXVWJJZMIWKLZ -m comment --comment ns4/svc4:p80 -s 10.180.0.5 -j KUBE-MARK-MASQ
      -A KUBE-SEP-C6EBXVWJJZMIWKLZ -m comment --comment ns4/svc4:p80 -m tcp -p tcp -j DNAT --to-destination 10.180.0.5:80
      -A KUBE-SEP-OYPFS5VJICHGATKP -m comment --comment ns3/svc3:p80 -s 10.180.0.3 -j KUBE-MARK-MASQ
      -A KUBE-SEP-OYPFS5VJICHGATKP -m comment --comment ns3/svc3:p80 -m tcp -p tcp -j DNAT --to-destination 10.180.0.3:80
      -A KUBE-SEP-RS4RBKLTHTF2IUXJ -m comment --comment ns2/svc2:p80 -s 10.180.0.2 -j KUBE-MARK-MASQ
      -A KUBE-SEP-RS4RBKLTHTF2IUXJ -m comment --comment ns2/svc2:p80 -m tcp -p tcp -j DNAT --to-destination 10.180.0.2:80
      -A KUBE-SEP-SXIVWICOYRO3J4NJ -m comment --comment ns1/svc1:p80 -s 10.180.0.1 -j KUBE-MARK-MASQ
      -A KUBE-SEP-SXIVWICOYRO3J4NJ -m comment --comment ns1/svc1:p80 -m tcp -p tcp -j DNAT --to-destination 10.180.0.1:80
      -A KUBE-SEP-UKSFD7AGPMPPLUHC -m comment --comment ns4/svc4:p80 -s 10.180.0.4 -j KUBE-MARK-MASQ
      -A KUBE-SEP-UKSFD7AGPMPPLUHC -m comment --comment ns4/svc4:p80 -m tcp -p tcp -j DNAT --to-destination 10.180.0.4:80
      -A KUBE-SVC-4SW47YFZTEDKD3PK -m comment --comment "ns4/svc4:p80 cluster IP" -m tcp -p tcp -d 172.30.0.44 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ
      -A KUBE-SVC-4SW47YFZTEDKD3PK -m comment --comment "ns4/svc4:p80 external IP" -m tcp -p tcp -d 192.168.99.22 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ
      -A KUBE-SVC-4SW47YFZTEDKD3PK -m comment --comment ns4/svc4:p80 -m statistic --mode random --probability 0.5000000000 -j KUBE-SEP-UKSFD7AGPMPPLUHC
      -A KUBE-SVC-4SW47YFZTEDKD3PK -m comment --comment ns4/svc4:p80 -j KUBE-SEP-C6EBXVWJJZMIWKLZ
      -A KUBE-SVC-GNZBNJ2PO5MGZ6GT -m comment --comment "ns2/svc2:p80 cluster IP" -m tcp -p tcp -d 172.30.0.42 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ
      -A KUBE-SVC-GNZBNJ2PO5MGZ6GT -m comment --comment ns2/svc2:p80 -j KUBE-SEP-RS4RBKLTHTF2IUXJ
      -A KUBE-SVC-X27LE4BHSL4DOUIK -m comment --comment "ns3/svc3:p80 cluster IP" -m tcp -p tcp -d 172.30.0.43 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ
      -A KUBE-SVC-X27LE4BHSL4DOUIK -m comment --comment ns3/svc3:p80 -m tcp -p tcp --dport 3002 -j KUBE-MARK-MASQ
      -A KUBE-SVC-X27LE4BHSL4DOUIK -m comment --comment ns3/svc3:p80 -j KUBE-SEP-OYPFS5VJICHGATKP
      -A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp -p tcp -d 172.30.0.41 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ
      -A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment ns1/svc1:p80 -j KUBE-SEP-SXIVWICOYRO3J4NJ
      -A KUBE-SVL-GNZBNJ2PO5MGZ6GT -m comment --comment "ns2/svc2:p80 has no local endpoints" -j KUBE-MARK-DROP
      COMMIT
    `);
    assert.equal(sortRestoreLikeUpstream(input), output);
  });

  it('extra tables', () => {
    const body = `
      :KUBE-SERVICES - [0:0]
      :KUBE-EXTERNAL-SERVICES - [0:0]
      :KUBE-FORWARD - [0:0]
      :KUBE-NODEPORTS - [0:0]
      -A KUBE-NODEPORTS -m comment --comment "ns2/svc2:p80 health check node port" -m tcp -p tcp --dport 30000 -j ACCEPT
      -A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP
      -A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT
      -A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
      COMMIT`;
    const sorted = `
      :KUBE-NODEPORTS - [0:0]
      :KUBE-SERVICES - [0:0]
      :KUBE-EXTERNAL-SERVICES - [0:0]
      :KUBE-FORWARD - [0:0]
      -A KUBE-NODEPORTS -m comment --comment "ns2/svc2:p80 health check node port" -m tcp -p tcp --dport 30000 -j ACCEPT
      -A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP
      -A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT
      -A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
      COMMIT`;
    const input = dedent(`
      *filter${body}
      *nat${body}
      *mangle${body}
    `);
    const output = dedent(`
      *filter${sorted}
      *mangle${sorted}
      *nat${sorted}
    `);
    assert.equal(sortRestoreLikeUpstream(input), output);
  });

  it('correctly match same service name in different styles of comments', () => {
    const input = dedent(`
      *filter
      COMMIT
      *nat
      :KUBE-SERVICES - [0:0]
      -A KUBE-SERVICES -m comment --comment "ns2/svc2:p80 cluster IP" svc2 line 1
      -A KUBE-SERVICES -m comment --comment ns2/svc2 svc2 line 2
      -A KUBE-SERVICES -m comment --comment "ns2/svc2 blah" svc2 line 3
      -A KUBE-SERVICES -m comment --comment "ns1/svc1:p80 cluster IP" svc1 line 1
      -A KUBE-SERVICES -m comment --comment ns1/svc1 svc1 line 2
      -A KUBE-SERVICES -m comment --comment "ns1/svc1 blah" svc1 line 3
      -A KUBE-SERVICES -m comment --comment ns4/svc4 svc4 line 1
      -A KUBE-SERVICES -m comment --comment "ns4/svc4:p80 cluster IP" svc4 line 2
      -A KUBE-SERVICES -m comment --comment "ns4/svc4 blah" svc4 line 3
      -A KUBE-SERVICES -m comment --comment "ns3/svc3:p80 cluster IP" svc3 line 1
      -A KUBE-SERVICES -m comment --comment "ns3/svc3 blah" svc3 line 2
      -A KUBE-SERVICES -m comment --comment ns3/svc3 svc3 line 3
      COMMIT
    `);
    const output = dedent(`
      *filter
      COMMIT
      *nat
      :KUBE-SERVICES - [0:0]
      -A KUBE-SERVICES -m comment --comment "ns1/svc1:p80 cluster IP" svc1 line 1
      -A KUBE-SERVICES -m comment --comment ns1/svc1 svc1 line 2
      -A KUBE-SERVICES -m comment --comment "ns1/svc1 blah" svc1 line 3
      -A KUBE-SERVICES -m comment --comment "ns2/svc2:p80 cluster IP" svc2 line 1
      -A KUBE-SERVICES -m comment --comment ns2/svc2 svc2 line 2
      -A KUBE-SERVICES -m comment --comment "ns2/svc2 blah" svc2 line 3
      -A KUBE-SERVICES -m comment --comment "ns3/svc3:p80 cluster IP" svc3 line 1
      -A KUBE-SERVICES -m comment --comment "ns3/svc3 blah" svc3 line 2
      -A KUBE-SERVICES -m comment --comment ns3/svc3 svc3 line 3
      -A KUBE-SERVICES -m comment --comment ns4/svc4 svc4 line 1
      -A KUBE-SERVICES -m comment --comment "ns4/svc4:p80 cluster IP" svc4 line 2
      -A KUBE-SERVICES -m comment --comment "ns4/svc4 blah" svc4 line 3
      COMMIT
    `);
    assert.equal(sortRestoreLikeUpstream(input), output);
  });

  it('unexpected junk lines are preserved', () => {
    const input = dedent(`
      *filter
      COMMIT
      *nat
      :KUBE-SERVICES - [0:0]
      :KUBE-SEP-RS4RBKLTHTF2IUXJ - [0:0]
      :KUBE-AAAAA - [0:0]
      :KUBE-ZZZZZ - [0:0]
      :WHY-IS-THIS-CHAIN-HERE - [0:0]
      -A KUBE-SERVICES -m comment --comment "ns2/svc2:p80 cluster IP" svc2 line 1
      -A KUBE-SEP-RS4RBKLTHTF2IUXJ -m comment --comment ns2/svc2:p80 -m tcp -p tcp -j DNAT --to-destination 10.180.0.2:80
      -A KUBE-ZZZZZ -m comment --comment "mystery chain number 1"
      -A KUBE-SERVICES -m comment --comment ns2/svc2 svc2 line 2
      -A WHY-IS-THIS-CHAIN-HERE -j ACCEPT
      -A KUBE-SERVICES -m comment --comment "ns2/svc2 blah" svc2 line 3
      -A KUBE-AAAAA -m comment --comment "mystery chain number 2"
      COMMIT
    `);
    const output = dedent(`
      *filter
      COMMIT
      *nat
      :KUBE-SERVICES - [0:0]
      :KUBE-AAAAA - [0:0]
      :KUBE-SEP-RS4RBKLTHTF2IUXJ - [0:0]
      :KUBE-ZZZZZ - [0:0]
      :WHY-IS-THIS-CHAIN-HERE - [0:0]
      -A KUBE-SERVICES -m comment --comment "ns2/svc2:p80 cluster IP" svc2 line 1
      -A KUBE-SERVICES -m comment --comment ns2/svc2 svc2 line 2
      -A KUBE-SERVICES -m comment --comment "ns2/svc2 blah" svc2 line 3
      -A KUBE-AAAAA -m comment --comment "mystery chain number 2"
      -A KUBE-SEP-RS4RBKLTHTF2IUXJ -m comment --comment ns2/svc2:p80 -m tcp -p tcp -j DNAT --to-destination 10.180.0.2:80
      -A KUBE-ZZZZZ -m comment --comment "mystery chain number 1"
      -A WHY-IS-THIS-CHAIN-HERE -j ACCEPT
      COMMIT
    `);
    assert.equal(sortRestoreLikeUpstream(input), output);
  });

  it('refuses text it cannot parse, as upstream’s parser does', () => {
    assert.throws(() => sortRestoreLikeUpstream('*nat\n:KUBE-SERVICES - [0:0]\n'), /no COMMIT/);
    assert.throws(() => sortRestoreLikeUpstream('*nat\n-A KUBE-NOPE -j ACCEPT\nCOMMIT\n'), /undeclared chain KUBE-NOPE/);
  });
});

describe('serializeRestore', () => {
  const rs = renderCase(loadCase('TestOverallIPTablesRules.yaml'));
  const text = serializeRestore(rs);

  it('quotes exactly the words with a blank, as kube-proxy formats its comments', () => {
    assert.equal(quoteRestoreWord('ns1/svc1:p80'), 'ns1/svc1:p80');
    assert.equal(quoteRestoreWord('ns1/svc1:p80 cluster IP'), '"ns1/svc1:p80 cluster IP"');
    assert.ok(text.includes('-A KUBE-SEP-SXIVWICOYRO3J4NJ -m comment --comment ns1/svc1:p80 -s 10.180.0.1 -j KUBE-MARK-MASQ\n'));
    assert.ok(text.includes('--comment "ns1/svc1:p80 cluster IP"'));
  });

  it('writes the chain lines and the interleaved -A lines in kube-proxy’s write order', () => {
    const lines = text.split('\n');
    assert.deepEqual(lines.slice(0, 8), [
      '*filter',
      ':KUBE-SERVICES - [0:0]',
      ':KUBE-EXTERNAL-SERVICES - [0:0]',
      ':KUBE-FORWARD - [0:0]',
      ':KUBE-NODEPORTS - [0:0]',
      ':KUBE-PROXY-FIREWALL - [0:0]',
      ':KUBE-FIREWALL - [0:0]',
      '-A KUBE-FIREWALL -m comment --comment "block incoming localnet connections" -d 127.0.0.0/8 ! -s 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP',
    ]);
    const nat = lines.slice(lines.indexOf('*nat'));
    const rules = nat.filter((l) => l.startsWith('-A '));
    // postrouting and mark chains first, then service by service (ns1/svc1 first), the NodePorts jump last
    assert.match(rules[0]!, /^-A KUBE-POSTROUTING /);
    assert.match(rules[3]!, /^-A KUBE-MARK-MASQ /);
    assert.deepEqual(rules.slice(4, 9).map((l) => l.split(' ')[1]), [
      'KUBE-SERVICES',
      'KUBE-SVC-XPGD46QRK7WJZT7O',
      'KUBE-SVC-XPGD46QRK7WJZT7O',
      'KUBE-SEP-SXIVWICOYRO3J4NJ',
      'KUBE-SEP-SXIVWICOYRO3J4NJ',
    ]);
    assert.match(rules.at(-1)!, /must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS$/);
    assert.equal(nat.at(-2), 'COMMIT');
  });

  it('keeps the write order as data: a copy writes the same text', () => {
    const nat = rs.tables.find((t) => t.name === 'nat')!;
    assert.deepEqual(nat.writeOrder!.slice(0, 3), [
      { chain: 'KUBE-POSTROUTING', rules: 3 },
      { chain: 'KUBE-MARK-MASQ', rules: 1 },
      { chain: 'KUBE-SERVICES', rules: 1, servicePort: 'ns1/svc1:p80' },
    ]);
    assert.equal(serializeRestore(structuredClone(rs)), text);
    assert.equal(serializeRestore(JSON.parse(JSON.stringify(rs)) as Ruleset), text);
  });

  it('writes a Ruleset without a write order, or with one that does not fit its rules, chain by chain, which normalises the same', () => {
    const bare: Ruleset = { family: rs.family, tables: rs.tables.map(({ name, chains }) => ({ name, chains })) };
    const grouped = serializeRestore(bare);
    assert.notEqual(grouped, text);
    assert.equal(sortRestoreLikeUpstream(grouped), readRules('TestOverallIPTablesRules.rules'));
    const edited = structuredClone(rs);
    edited.tables[1]!.chains.find((c) => c.name.startsWith('KUBE-SEP-'))!.rules.pop();
    const text2 = serializeRestore(edited);
    const natBare = structuredClone(edited);
    delete natBare.tables[1]!.writeOrder;
    assert.equal(text2, serializeRestore(natBare));
    const inPlace = structuredClone(rs);
    serializeRestore(inPlace);
    inPlace.tables[1]!.chains.find((c) => c.name.startsWith('KUBE-SEP-'))!.rules.pop();
    assert.equal(serializeRestore(inPlace), text2, 'an edit after a first serialization is seen');
  });
});

describe('serializeSave', () => {
  it('quotes comments as xtables_save_string does', () => {
    assert.equal(quoteSaveString('abc_DEF-123'), 'abc_DEF-123');
    assert.equal(quoteSaveString('ns1/svc1:p80'), '"ns1/svc1:p80"');
    assert.equal(quoteSaveString(''), '""');
    assert.equal(quoteSaveString(`it's "x" \\`), `"it\\'s \\"x\\" \\\\"`);
  });

  it('prints tables, chain lines with policies and counters, and the rules of each chain together', () => {
    const rs: Ruleset = {
      family: 'IPv4',
      tables: [
        {
          name: 'nat',
          chains: [
            { name: 'PREROUTING', policy: 'ACCEPT', counters: { packets: 12n, bytes: 3456n }, rules: [{ words: ['-m', 'comment', '--comment', 'kubernetes service portals', '-j', 'KUBE-SERVICES'], counters: { packets: 7n, bytes: 420n } }] },
            { name: 'KUBE-SERVICES', policy: '-', rules: [{ words: ['-m', 'comment', '--comment', 'ns1/svc1:p80', '-j', 'KUBE-SVC-XPGD46QRK7WJZT7O'] }] },
          ],
        },
      ],
    };
    assert.equal(
      serializeSave(rs),
      [
        '*nat',
        ':PREROUTING ACCEPT [12:3456]',
        ':KUBE-SERVICES - [0:0]',
        '-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
        '-A KUBE-SERVICES -m comment --comment "ns1/svc1:p80" -j KUBE-SVC-XPGD46QRK7WJZT7O',
        'COMMIT',
        '',
      ].join('\n'),
    );
    assert.match(serializeSave(rs, { counters: true }), /^\[7:420\] -A PREROUTING .*\n\[0:0\] -A KUBE-SERVICES /m);
  });
});
