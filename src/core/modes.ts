// The registry of proxy modes: each mode's engine, so commands never switch on the mode themselves.
// Every engine has the same faces over its own ruleset type R (an iptables Ruleset, an ipvs IpvsState …):
// render a node's view, print it as the mode's tools take it, read a dump or a live node back, narrow to a
// service, describe, compare.
import type { KubeProxyConfiguration, ProxyMode } from './config/index.js';
import { NotImplementedError } from './errors.js';
import type { Drift } from './iptables/drift.js';
import { iptablesEngine } from './iptables/engine.js';
import type { ServicePortSummary } from './iptables/summary.js';
import type { IPFamily } from './iptables/types.js';
import { ipvsEngine } from './ipvs/engine.js';
import type { ProxyView } from './proxy-view.js';

/** Text formats `rules -o` prints besides json/yaml/human. */
export type TextOutput = 'restore' | 'nft' | 'ipvsadm';

/** What engines read from a node (src/kube/live-rules.ts readers); the optional readers serve the ipvs mode. */
export interface LiveReader {
  readonly description: string;
  iptablesSave(family: IPFamily): Promise<string>;
  ipvsadmSave?(): Promise<string>;
  ipvsadmList?(): Promise<string>;
  ipsetSave?(): Promise<string>;
}

export interface ModeEngine<R extends { family: IPFamily } = { family: IPFamily }> {
  readonly mode: ProxyMode;
  /** The -o text formats this mode prints; the first is the one to suggest. */
  readonly textOutputs: readonly TextOutput[];
  render(view: ProxyView, config: KubeProxyConfiguration): R[];
  text(format: TextOutput, rulesets: R[]): string;
  /** A saved dump (--rules FILE) of one family. */
  parseDump(text: string, family: IPFamily, source: string): R;
  /** The same as parseDump (its older name, which trace uses). */
  parseLive(text: string, family: IPFamily, source: string): R;
  readLive(reader: LiveReader, family: IPFamily): Promise<R>;
  narrow(r: R, prefix: string): R;
  /** "ns/name:port" of every service port the ruleset serves. */
  servicePorts(r: R): string[];
  drift(expected: R, actual: R): Drift[];
  canonicalLines(r: R): string[];
  /** Names live data after the rendered view where the live form carries no names (IPVS has no comments). */
  annotate?(actual: R, expected: R): R;
  /** The iptables-style summary the default human view renders (iptables-family modes). */
  summarize?(r: R): ServicePortSummary[];
  /** Or a table of its own: headers and rows. */
  table?(rulesets: R[], wide: boolean): { headers: string[]; rows: string[][] };
}

const iptablesMode: ModeEngine<ReturnType<typeof iptablesEngine.render>[number]> = {
  mode: iptablesEngine.mode,
  textOutputs: ['restore'],
  render: iptablesEngine.render,
  text: (_format, rs) => iptablesEngine.restoreText(rs),
  parseDump: iptablesEngine.parseLive,
  parseLive: iptablesEngine.parseLive,
  readLive: async (reader, family) => iptablesEngine.parseLive(await reader.iptablesSave(family), family, reader.description),
  narrow: iptablesEngine.narrow,
  servicePorts: (rs) => iptablesEngine.summarize(rs).map((s) => s.servicePort),
  drift: iptablesEngine.drift,
  canonicalLines: iptablesEngine.canonicalLines,
  summarize: iptablesEngine.summarize,
};

const ipvsMode: ModeEngine<ReturnType<typeof ipvsEngine.render>[number]> = {
  ...ipvsEngine,
  textOutputs: [...ipvsEngine.textOutputs],
  text: (format, rs) => ipvsEngine.text(format, rs),
  parseLive: ipvsEngine.parseDump,
};

const ENGINES: Partial<Record<ProxyMode, ModeEngine<any>>> = {
  iptables: iptablesMode,
  ipvs: ipvsMode,
};

export type IptablesModeEngine = typeof iptablesMode;
export type IpvsModeEngine = typeof ipvsMode;

/** The engine for a mode, or a one-sentence NotImplementedError naming what is missing. */
export function engineFor(mode: 'iptables', what: string): IptablesModeEngine;
export function engineFor(mode: 'ipvs', what: string): IpvsModeEngine;
export function engineFor(mode: ProxyMode, what: string): ModeEngine<any>;
export function engineFor(mode: ProxyMode, what: string): ModeEngine<any> {
  const engine = ENGINES[mode];
  if (!engine) throw new NotImplementedError(`${what} for mode ${mode}`);
  return engine;
}
