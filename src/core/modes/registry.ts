// The registry of proxy modes: one line per mode. Commands ask it for a mode's faces, the dump kinds every
// mode reads, and which mode a dump belongs to; they never switch on a mode's name themselves.
import { PROXY_MODES } from '../config/index.js';
import { InputError, NotImplementedError } from '../errors.js';
import { iptablesMode } from '../iptables/mode.js';
import { ipvsMode } from '../ipvs/mode.js';
import { nftablesMode } from '../nftables/mode.js';
import { userspaceMode } from '../userspace/mode.js';
import { hasSection, splitDump, unknownDumpError } from './dumps.js';
import type { Dump, DumpKind, DumpSection, FamilyState, IPFamily, NodeShell, ProxyModeDefinition } from './types.js';

type AnyMode = ProxyModeDefinition<FamilyState>;

/** Precedence for dumps: a mode whose primary kinds appear claims the dump, the first listed first (ipvs reads iptables-save too). */
const MODES: AnyMode[] = [];

/** Adds a mode; its definition is all a mode needs to be known to every command. */
export function registerMode(def: AnyMode, opts: { first?: boolean } = {}): void {
  const at = MODES.findIndex((m) => m.mode === def.mode);
  if (at >= 0) MODES.splice(at, 1);
  if (opts.first) MODES.unshift(def);
  else MODES.push(def);
}

registerMode(nftablesMode);
registerMode(ipvsMode);
registerMode(userspaceMode); // before iptables: an iptables-save dump declaring KUBE-PORTALS-* is a userspace node's
registerMode(iptablesMode);

export function registeredModes(): readonly AnyMode[] {
  return MODES;
}

/** The mode's definition, or a one-sentence NotImplementedError naming what is missing (`what`: "`kubectl proxymode rules`"). */
export function modeFor(mode: string, what: string): AnyMode {
  const def = MODES.find((m) => m.mode === mode);
  if (def) return def;
  if ((PROXY_MODES as readonly string[]).includes(mode)) throw new NotImplementedError(`${what} for mode ${mode}`);
  throw new InputError(`"${mode}" is not a proxy mode; use one of ${PROXY_MODES.join(', ')}.`);
}

/** Every `-o` text format of every mode, for flag options and help: name -> the modes that print it. */
export function textFormats(): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const m of MODES) for (const f of Object.keys(m.formats)) out.set(f, [...(out.get(f) ?? []), m.mode]);
  return out;
}

export function dumpKinds(): DumpKind[] {
  const out = new Map<string, DumpKind>();
  for (const m of MODES) for (const k of [...m.dumps.primary, ...(m.dumps.also ?? [])]) out.set(k.name, k);
  return [...out.values()];
}

/** Cuts text into sections of every kind any mode reads; an empty or unknown text is one sentence. */
export function readDump(text: string, source: string): Dump {
  const kinds = dumpKinds();
  const dump = splitDump(text, source, kinds);
  if (dump.sections.length === 0) throw unknownDumpError(source, kinds, text.trim() === '');
  return dump;
}

/** The mode a dump is of: the first registered mode whose primary kinds it holds. */
export function modeOfDump(dump: Dump): AnyMode {
  const def = MODES.find((m) => hasSection(dump, m.dumps.primary));
  if (!def) throw unknownDumpError(dump.source, dumpKinds(), false);
  return def;
}

/**
 * The states a dump holds, one per family it has rules of: families its sections name (ip6tables-save's
 * header, `table ip6 …`), or whose parse finds service ports; IPv4 when nothing says otherwise.
 */
export function dumpStates<S extends { family: IPFamily }>(def: ProxyModeDefinition<S>, dump: Dump): S[] {
  const named = new Set(dump.sections.map((s: DumpSection) => s.family).filter((f): f is IPFamily => f !== undefined));
  return (['IPv4', 'IPv6'] as const)
    .map((f) => def.parse(dump, f))
    .filter((s) => named.has(s.family) || def.summarize(s).length > 0 || (s.family === 'IPv4' && named.size === 0));
}

/** Reads a node's live state through its shell: the mode's commands, their output as a dump, parsed. */
export async function readLive<S extends { family: IPFamily }>(def: ProxyModeDefinition<S>, shell: NodeShell, family: IPFamily): Promise<S> {
  const sections: DumpSection[] = [];
  for (const c of def.liveCommands(family)) {
    let text: string;
    try {
      text = await shell.run(c.argv);
    } catch (e) {
      if (c.optional) continue;
      throw e;
    }
    sections.push({ kind: c.kind, text, line: 1, ...(c.family ? { family: c.family } : {}) });
  }
  return def.parse({ source: shell.description, sections }, family);
}
