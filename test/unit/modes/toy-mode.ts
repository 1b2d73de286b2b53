// A toy proxy mode, to prove a mode costs one definition and one registry line (see toy-mode.test.ts):
// its own state, text format, dump kind, summary, drift, tracer and plan. It takes the name "kernelspace",
// a mode kube-proxy knows and this build has not implemented yet.
import { sectionText } from '../../../src/core/modes/dumps.js';
import type { Drift, DumpKind, ProxyModeDefinition, ServicePortSummary } from '../../../src/core/modes/types.js';
import type { IPFamily } from '../../../src/core/objects/types.js';
import type { ModeEvaluator } from '../../../src/core/trace/types.js';

export interface ToyService {
  servicePort: string;
  ip: string;
  port: number;
  protocol: string;
  endpoints: string[];
}
export interface ToyState {
  family: IPFamily;
  services: ToyService[];
}

const TOY_DUMP: DumpKind = { name: 'toy-dump', command: 'toy-save', startsSection: (line) => (line === '# toy proxier' ? 'header' : false) };

const toText = (s: ToyState) => ['# toy proxier', ...s.services.map((v) => `SVC ${v.servicePort} ${v.ip}:${v.port}/${v.protocol} -> ${v.endpoints.join(' ')}`)].join('\n') + '\n';

export const toy: ProxyModeDefinition<ToyState> = {
  mode: 'kernelspace',
  formats: { toy: { description: 'one line per service port', write: (states) => states.map(toText).join('') } },
  dumps: { primary: [TOY_DUMP] },
  render: (view) =>
    view.families.map((f) => ({
      family: f.family,
      services: [...f.state.serviceMap.values()]
        .filter((sp) => sp.clusterIP)
        .map((sp) => ({
          servicePort: `${sp.name.namespace}/${sp.name.name}:${sp.name.port}`,
          ip: sp.clusterIP,
          port: sp.port,
          protocol: sp.protocol,
          endpoints: (f.state.endpointsMap.get(`${sp.name.namespace}/${sp.name.name}:${sp.name.port}`) ?? []).filter((e) => e.ready).map((e) => e.endpoint),
        }))
        .sort((a, b) => (a.servicePort < b.servicePort ? -1 : 1)),
    })),
  parse: (dump, family) => ({
    family,
    services: sectionText(dump, TOY_DUMP.name)
      .split('\n')
      .flatMap((l) => {
        const m = /^SVC (\S+) (\S+):(\d+)\/(\S+) ->(.*)$/.exec(l);
        return m && m[2]!.includes(':') === (family === 'IPv6') ? [{ servicePort: m[1]!, ip: m[2]!, port: Number(m[3]), protocol: m[4]!, endpoints: m[5]!.trim().split(' ').filter(Boolean) }] : [];
      }),
  }),
  liveCommands: () => [{ kind: TOY_DUMP.name, argv: ['toy-save'] }],
  narrow: (s, prefix) => ({ ...s, services: s.services.filter((v) => v.servicePort.startsWith(prefix)) }),
  summarize: (s): ServicePortSummary[] =>
    s.services.map((v) => ({
      servicePort: v.servicePort,
      entries: [{ kind: 'cluster IP', protocol: v.protocol, address: v.ip, port: v.port, target: `toy ${v.ip}`, masquerade: ['never'] }],
      balancers: [{ name: `toy ${v.ip}`, scheduler: 'even', endpoints: v.endpoints.map((e) => ({ endpoint: e, via: 'toy', probability: 1 / v.endpoints.length })), affinitySeconds: null, fallThrough: 0 }],
      verdicts: v.endpoints.length ? [] : ['REJECT: has no endpoints'],
    })),
  drift: (e, a) =>
    e.services.flatMap((v): Drift[] => {
      const w = a.services.find((x) => x.servicePort === v.servicePort);
      if (!w) return [{ servicePort: v.servicePort, kind: 'missing service', detail: `no toy line for ${v.servicePort}` }];
      return v.endpoints.filter((x) => !w.endpoints.includes(x)).map((x) => ({ servicePort: v.servicePort, kind: 'missing endpoint', detail: x }));
    }),
  canonicalLines: (s) => toText(s).split('\n').filter(Boolean),
  tracer: (states): ModeEvaluator => ({
    mode: 'kernelspace',
    trace: (p) => {
      const v = states.flatMap((s) => s.services).find((x) => x.ip === p.dst && x.port === p.dport);
      const endpoints = (v?.endpoints ?? []).map((e) => ({ ip: e.slice(0, e.lastIndexOf(':')), port: Number(e.slice(e.lastIndexOf(':') + 1)), probability: 1 / v!.endpoints.length, masquerade: false }));
      const verdict = !v ? 'not-matched' : endpoints.length ? 'forwarded' : 'rejected';
      return { mode: 'kernelspace', verdict, endpoints, masquerade: false, masqueradeReason: 'the toy never masquerades', hops: [{ table: 'toy', chain: 'services', rule: v ? `SVC ${v.servicePort}` : 'none', action: verdict }], qualifications: [] };
    },
  }),
  plan: (_prev, next) => {
    const lines = toText(next).split('\n').filter(Boolean);
    return { mode: 'kernelspace', family: next.family, full: true, operations: lines.map((l) => ({ op: 'write', object: l.split(' ')[1] ?? '', text: l })), text: () => lines.join('\n') + '\n' };
  },
};

