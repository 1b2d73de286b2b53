// One rule's words read as structure, for trace and diff: which matches, which target, and every word kept.
//
// Options are given to extensions the way iptables' own option parsing does: `-s -d -p -i -o -f` anywhere;
// `--opt` to the most recently loaded extension (match or target) that knows it; to the protocol's implicit
// match after `-p tcp` without `-m tcp`; else to the latest extension this reader knows no options of;
// else to `unknown`. Negation is read in both spellings: `! -s x` and the old `-s ! x`.
// viewRule is pure: the same words give an equal view, so callers may memoize it per Rule.

import type { Rule } from './types.js';

/** One `--option` with its arguments, as written (values unquoted). */
export interface RuleOption {
  name: string;
  negated: boolean;
  args: string[];
}

export interface Negated<T> {
  negated: boolean;
  value: T;
}

export interface PortRange {
  from: number;
  to: number;
}

export interface PortSpec {
  negated: boolean;
  /** As written: `80`, `1024:65535`, `80,443,8000:8080`. */
  value: string;
  /** Parsed ranges; a single port is from === to. Empty when a name (`http`) stands for a number. */
  ranges: PortRange[];
}

export interface AddressMatch {
  kind: 'address';
  dir: 'src' | 'dst';
  negated: boolean;
  /** As written, e.g. `10.96.0.10/32`, `fd00::/108`, `10.0.0.0/255.0.0.0`. */
  value: string;
  /** Each comma-separated address with its mask (prefix length or dotted mask) when one is given. */
  addresses: Array<{ ip: string; mask?: string }>;
  words: string[];
}

export interface ProtocolMatch {
  kind: 'protocol';
  negated: boolean;
  protocol: string;
  words: string[];
}

export interface InterfaceMatch {
  kind: 'interface';
  dir: 'in' | 'out';
  negated: boolean;
  /** As written; a trailing `+` is a prefix wildcard. */
  name: string;
  words: string[];
}

export interface FragmentMatch {
  kind: 'fragment';
  negated: boolean;
  words: string[];
}

/** `-m <module>` (or the implicit protocol match) with its options, and a typed reading for known modules. */
export interface ModuleMatch {
  kind: 'module';
  module: string;
  /** Loaded by `-p tcp` and an option of its, without `-m tcp`. */
  implicit: boolean;
  options: RuleOption[];
  words: string[];
  comment?: string;
  statistic?: {
    negated: boolean;
    mode: string;
    probability?: number;
    every?: number;
    packet?: number;
  };
  recent?: {
    negated: boolean;
    /** The list name; iptables' default is DEFAULT. */
    name: string;
    command?: 'set' | 'rcheck' | 'update' | 'remove';
    seconds?: number;
    reap: boolean;
    hitcount?: number;
    rttl: boolean;
    side: 'rsource' | 'rdest';
    mask?: string;
  };
  addrtype?: {
    srcType?: Negated<string[]>;
    dstType?: Negated<string[]>;
    limitIfaceIn: boolean;
    limitIfaceOut: boolean;
  };
  /** mark and connmark: packet (or connection) mark & mask == value. */
  mark?: { negated: boolean; value: number; mask: number };
  /** conntrack, and state (whose --state is ctstate). */
  conntrack?: {
    ctstate?: Negated<string[]>;
    ctstatus?: Negated<string[]>;
    ctproto?: Negated<string>;
    ctorigsrc?: Negated<string>;
    ctorigdst?: Negated<string>;
    ctreplsrc?: Negated<string>;
    ctrepldst?: Negated<string>;
    ctorigsrcport?: Negated<string>;
    ctorigdstport?: Negated<string>;
    ctreplsrcport?: Negated<string>;
    ctrepldstport?: Negated<string>;
    ctdir?: string;
  };
  set?: { negated: boolean; name: string; flags: string[]; returnNomatch: boolean };
  multiport?: { sports?: PortSpec; dports?: PortSpec; ports?: PortSpec };
  /** tcp, udp, sctp, dccp, udplite. */
  ports?: {
    sport?: PortSpec;
    dport?: PortSpec;
    tcpFlags?: { negated: boolean; mask: string[]; comp: string[] };
    syn?: { negated: boolean };
  };
  icmp?: Negated<string>;
  physdev?: {
    in?: Negated<string>;
    out?: Negated<string>;
    isIn?: { negated: boolean };
    isOut?: { negated: boolean };
    isBridged?: { negated: boolean };
  };
  nfacct?: { name: string };
  mac?: Negated<string>;
}

export type Match = AddressMatch | ProtocolMatch | InterfaceMatch | FragmentMatch | ModuleMatch;

export interface MarkAction {
  op: 'set-xmark' | 'set-mark' | 'and-mark' | 'or-mark' | 'xor-mark' | 'save-mark' | 'restore-mark';
  value: number;
  mask: number;
  /** The kernel's form: new mark = (old & ~mask) ^ value. */
  xmark: { value: number; mask: number };
}

export interface Target {
  name: string;
  kind: 'jump' | 'goto';
  /** Every word after the target's name that belongs to it, in order. */
  args: string[];
  options: RuleOption[];
  /** DNAT --to-destination, as written (`10.244.1.5:8080`, `[fd00::5]:80`). */
  toDestination?: string;
  /** SNAT --to-source, as written. */
  toSource?: string;
  /** MASQUERADE / REDIRECT --to-ports. */
  toPorts?: string;
  random?: boolean;
  randomFully?: boolean;
  persistent?: boolean;
  /** MARK / CONNMARK. */
  mark?: MarkAction;
  rejectWith?: string;
  logPrefix?: string;
  logLevel?: string;
}

export interface RuleView {
  matches: Match[];
  target?: Target;
  /** The first comment match's text, unquoted. */
  comment?: string;
  /** Words no extension claimed, in order (options with their arguments). */
  unknown: string[];
}

// ---------------------------------------------------------------------------------------------------------
// Options each known extension takes, with how many arguments.

type Arity = Record<string, number>;

const PORTS: Arity = { '--sport': 1, '--source-port': 1, '--dport': 1, '--destination-port': 1 };

const MATCH_OPTIONS: Record<string, Arity> = {
  comment: { '--comment': 1 },
  statistic: { '--mode': 1, '--probability': 1, '--every': 1, '--packet': 1 },
  recent: {
    '--name': 1, '--set': 0, '--rcheck': 0, '--update': 0, '--remove': 0, '--seconds': 1, '--reap': 0,
    '--hitcount': 1, '--rttl': 0, '--rsource': 0, '--rdest': 0, '--mask': 1,
  },
  addrtype: { '--src-type': 1, '--dst-type': 1, '--limit-iface-in': 0, '--limit-iface-out': 0 },
  mark: { '--mark': 1 },
  connmark: { '--mark': 1 },
  conntrack: {
    '--ctstate': 1, '--ctproto': 1, '--ctorigsrc': 1, '--ctorigdst': 1, '--ctreplsrc': 1, '--ctrepldst': 1,
    '--ctorigsrcport': 1, '--ctorigdstport': 1, '--ctreplsrcport': 1, '--ctrepldstport': 1, '--ctstatus': 1,
    '--ctexpire': 1, '--ctdir': 1,
  },
  state: { '--state': 1 },
  set: {
    '--match-set': 2, '--set': 2, '--return-nomatch': 0, '--update-counters': 0, '--update-subcounters': 0,
    '--packets-eq': 1, '--packets-lt': 1, '--packets-gt': 1, '--bytes-eq': 1, '--bytes-lt': 1, '--bytes-gt': 1,
  },
  multiport: {
    '--sports': 1, '--source-ports': 1, '--dports': 1, '--destination-ports': 1, '--ports': 1,
  },
  tcp: { ...PORTS, '--tcp-flags': 2, '--syn': 0, '--tcp-option': 1 },
  udp: PORTS,
  udplite: PORTS,
  sctp: { ...PORTS, '--chunk-types': 2 },
  dccp: { ...PORTS, '--dccp-types': 1, '--dccp-option': 1 },
  icmp: { '--icmp-type': 1 },
  icmp6: { '--icmpv6-type': 1 },
  physdev: {
    '--physdev-in': 1, '--physdev-out': 1, '--physdev-is-in': 0, '--physdev-is-out': 0, '--physdev-is-bridged': 0,
  },
  nfacct: { '--nfacct-name': 1 },
  mac: { '--mac-source': 1 },
  owner: { '--uid-owner': 1, '--gid-owner': 1, '--socket-exists': 0, '--suppl-groups': 0 },
  limit: { '--limit': 1, '--limit-burst': 1 },
  socket: { '--transparent': 0, '--nowildcard': 0, '--restore-skmark': 0 },
  iprange: { '--src-range': 1, '--dst-range': 1 },
  length: { '--length': 1 },
  pkttype: { '--pkt-type': 1 },
  devgroup: { '--src-group': 1, '--dst-group': 1 },
  rpfilter: { '--loose': 0, '--validmark': 0, '--accept-local': 0, '--invert': 0 },
  cgroup: { '--path': 1, '--cgroup': 1 },
  bpf: { '--bytecode': 1, '--object-pinned': 1 },
  u32: { '--u32': 1 },
  string: { '--algo': 1, '--string': 1, '--hex-string': 1, '--from': 1, '--to': 1, '--icase': 0 },
  connlimit: {
    '--connlimit-upto': 1, '--connlimit-above': 1, '--connlimit-mask': 1, '--connlimit-saddr': 0, '--connlimit-daddr': 0,
  },
  hashlimit: {
    '--hashlimit-upto': 1, '--hashlimit-above': 1, '--hashlimit-burst': 1, '--hashlimit-mode': 1,
    '--hashlimit-srcmask': 1, '--hashlimit-dstmask': 1, '--hashlimit-name': 1, '--hashlimit-htable-size': 1,
    '--hashlimit-htable-max': 1, '--hashlimit-htable-expire': 1, '--hashlimit-htable-gcinterval': 1,
    '--hashlimit-rate-match': 0, '--hashlimit-rate-interval': 1,
  },
  dscp: { '--dscp': 1, '--dscp-class': 1 },
  tos: { '--tos': 1 },
  ttl: { '--ttl-eq': 1, '--ttl-gt': 1, '--ttl-lt': 1 },
  hl: { '--hl-eq': 1, '--hl-gt': 1, '--hl-lt': 1 },
  helper: { '--helper': 1 },
  policy: {
    '--dir': 1, '--pol': 1, '--strict': 0, '--reqid': 1, '--spi': 1, '--proto': 1, '--mode': 1,
    '--tunnel-src': 1, '--tunnel-dst': 1, '--next': 0,
  },
  ipvs: { '--ipvs': 0, '--vproto': 1, '--vaddr': 1, '--vport': 1, '--vdir': 1, '--vmethod': 1, '--vportctl': 1 },
  connbytes: { '--connbytes': 1, '--connbytes-dir': 1, '--connbytes-mode': 1 },
  quota: { '--quota': 1 },
  realm: { '--realm': 1 },
};

const NAT_FLAGS: Arity = { '--random': 0, '--random-fully': 0, '--persistent': 0 };
const MARK_OPS: Arity = { '--set-xmark': 1, '--set-mark': 1, '--and-mark': 1, '--or-mark': 1, '--xor-mark': 1 };

const TARGET_OPTIONS: Record<string, Arity> = {
  ACCEPT: {},
  DROP: {},
  RETURN: {},
  QUEUE: {},
  NOTRACK: {},
  TRACE: {},
  DNAT: { '--to-destination': 1, ...NAT_FLAGS },
  SNAT: { '--to-source': 1, ...NAT_FLAGS },
  MASQUERADE: { '--to-ports': 1, ...NAT_FLAGS },
  REDIRECT: { '--to-ports': 1, '--random': 0 },
  NETMAP: { '--to': 1 },
  MARK: MARK_OPS,
  CONNMARK: { ...MARK_OPS, '--save-mark': 0, '--restore-mark': 0, '--mask': 1, '--nfmask': 1, '--ctmask': 1 },
  REJECT: { '--reject-with': 1 },
  LOG: {
    '--log-level': 1, '--log-prefix': 1, '--log-tcp-sequence': 0, '--log-tcp-options': 0, '--log-ip-options': 0,
    '--log-uid': 0, '--log-macdecode': 0,
  },
  NFLOG: { '--nflog-group': 1, '--nflog-prefix': 1, '--nflog-range': 1, '--nflog-size': 1, '--nflog-threshold': 1 },
  CT: {
    '--notrack': 0, '--helper': 1, '--ctevents': 1, '--expevents': 1, '--zone': 1, '--zone-orig': 1,
    '--zone-reply': 1, '--timeout': 1,
  },
  TPROXY: { '--on-port': 1, '--on-ip': 1, '--tproxy-mark': 1 },
  TCPMSS: { '--set-mss': 1, '--clamp-mss-to-pmtu': 0 },
  NFQUEUE: { '--queue-num': 1, '--queue-balance': 1, '--queue-bypass': 0, '--fail-open': 0, '--queue-cpu-fanout': 0 },
  CHECKSUM: { '--checksum-fill': 0 },
  DSCP: { '--set-dscp': 1, '--set-dscp-class': 1 },
  TOS: { '--set-tos': 1, '--and-tos': 1, '--or-tos': 1, '--xor-tos': 1 },
  CLASSIFY: { '--set-class': 1 },
  SET: { '--add-set': 2, '--del-set': 2, '--map-set': 2, '--exist': 0, '--timeout': 1 },
  TEE: { '--gateway': 1 },
  AUDIT: { '--type': 1 },
  SECMARK: { '--selctx': 1 },
  TTL: { '--ttl-set': 1, '--ttl-dec': 1, '--ttl-inc': 1 },
  HL: { '--hl-set': 1, '--hl-dec': 1, '--hl-inc': 1 },
};

/** The match a `-p` protocol loads implicitly. */
function protocolModule(protocol: string): string | undefined {
  switch (protocol.toLowerCase()) {
    case 'tcp':
    case '6':
      return 'tcp';
    case 'udp':
    case '17':
      return 'udp';
    case 'sctp':
    case '132':
      return 'sctp';
    case 'dccp':
    case '33':
      return 'dccp';
    case 'udplite':
    case '136':
      return 'udplite';
    case 'icmp':
    case '1':
      return 'icmp';
    case 'icmpv6':
    case 'ipv6-icmp':
    case 'icmp6':
    case '58':
      return 'icmp6';
    default:
      return undefined;
  }
}

// ---------------------------------------------------------------------------------------------------------

interface Extension {
  known: Arity | undefined;
  options: RuleOption[];
  words: string[];
}

interface LoadedMatch extends Extension {
  match: ModuleMatch;
}

/** Reads one rule's words into matches, a target and the words nothing claimed. */
export function viewRule(rule: Rule): RuleView {
  return viewWords(rule.words);
}

interface Taken {
  args: string[];
  negated: boolean;
  /** where reading goes on */
  next: number;
}

// Module functions, not closures inside viewWords: a trace of 10,000 services reads every rule's words,
// and a closure per call (named at run time under tsx) cost about a second of it.

/** An option's arguments from `i`: old-style `! value` negation first, then `count` words. */
function takeArgs(words: readonly string[], i: number, count: number): Taken {
  let negated = false;
  if (count > 0 && words[i] === '!' && i + 1 < words.length) {
    negated = true;
    i++;
  }
  const args = words.slice(i, Math.min(words.length, i + count));
  return { args, negated, next: i + args.length };
}

/** Greedy arguments for an option of unknown arity: words up to the next option or `!`. */
function takeGreedy(words: readonly string[], i: number): Taken {
  const n = words.length;
  let negated = false;
  if (words[i] === '!' && i + 1 < n && !isOptionWord(words[i + 1]!)) {
    negated = true;
    i++;
  }
  const start = i;
  while (i < n && !isOptionWord(words[i]!) && words[i] !== '!') i++;
  return { args: words.slice(start, i), negated, next: i };
}

export function viewWords(words: readonly string[]): RuleView {
  const matches: Match[] = [];
  const unknown: string[] = [];
  const loaded: Array<LoadedMatch | (Extension & { target: Target })> = [];
  let target: Target | undefined;
  let protocol: string | undefined;
  let pending = false; // a `!` waits for the next option
  const n = words.length;
  let i = 0;

  while (i < n) {
    const w = words[i]!;
    if (w === '!') {
      if (pending) unknown.push('!');
      pending = true;
      i++;
      continue;
    }
    const negated = pending;
    pending = false;
    i++;
    switch (w) {
      case '-s':
      case '--source':
      case '--src':
      case '-d':
      case '--destination':
      case '--dst': {
        const { args, negated: old, next } = takeArgs(words, i, 1);
        i = next;
        const value = args[0] ?? '';
        matches.push({
          kind: 'address',
          dir: w === '-s' || w === '--source' || w === '--src' ? 'src' : 'dst',
          negated: negated || old,
          value,
          addresses: value.split(',').map(splitMask),
          words: wordsOf(w, negated, old, args),
        });
        continue;
      }
      case '-p':
      case '--protocol': {
        const { args, negated: old, next } = takeArgs(words, i, 1);
        i = next;
        protocol = args[0] ?? '';
        matches.push({ kind: 'protocol', negated: negated || old, protocol, words: wordsOf(w, negated, old, args) });
        continue;
      }
      case '-i':
      case '--in-interface':
      case '-o':
      case '--out-interface': {
        const { args, negated: old, next } = takeArgs(words, i, 1);
        i = next;
        matches.push({
          kind: 'interface',
          dir: w === '-i' || w === '--in-interface' ? 'in' : 'out',
          negated: negated || old,
          name: args[0] ?? '',
          words: wordsOf(w, negated, old, args),
        });
        continue;
      }
      case '-f':
      case '--fragment':
        matches.push({ kind: 'fragment', negated, words: negated ? ['!', w] : [w] });
        continue;
      case '-m':
      case '--match': {
        const module = words[i];
        if (module === undefined) {
          unknown.push(...(negated ? ['!', w] : [w]));
          continue;
        }
        i++;
        const match: ModuleMatch = { kind: 'module', module, implicit: false, options: [], words: [w, module] };
        if (negated) unknown.push('!');
        matches.push(match);
        loaded.push({ known: MATCH_OPTIONS[module], options: match.options, words: match.words, match });
        continue;
      }
      case '-j':
      case '--jump':
      case '-g':
      case '--goto': {
        const name = words[i];
        if (name === undefined) {
          unknown.push(...(negated ? ['!', w] : [w]));
          continue;
        }
        i++;
        if (negated) unknown.push('!');
        const t: Target = { name, kind: w === '-g' || w === '--goto' ? 'goto' : 'jump', args: [], options: [] };
        target = t;
        const known = TARGET_OPTIONS[name] ?? (looksLikeChain(name) ? {} : undefined);
        loaded.push({ known, options: t.options, words: t.args, target: t });
        continue;
      }
      default:
        break;
    }
    if (!isOptionWord(w)) {
      // A stray value (or a lone `-`): nothing takes it.
      if (negated) unknown.push('!');
      unknown.push(w);
      continue;
    }
    // An extension option: the latest loaded extension that knows it, else the protocol's implicit match,
    // else the latest extension whose options this reader does not know.
    let owner: Extension | undefined;
    for (let k = loaded.length - 1; k >= 0; k--) {
      const ext = loaded[k]!;
      if (ext.known !== undefined && w in ext.known) {
        owner = ext;
        break;
      }
    }
    if (owner === undefined && protocol !== undefined) {
      const module = protocolModule(protocol);
      const known = module === undefined ? undefined : MATCH_OPTIONS[module];
      if (module !== undefined && known !== undefined && w in known) {
        const match: ModuleMatch = { kind: 'module', module, implicit: true, options: [], words: [] };
        matches.push(match);
        owner = { known, options: match.options, words: match.words, match } as LoadedMatch;
        loaded.push(owner as LoadedMatch);
      }
    }
    if (owner === undefined) {
      for (let k = loaded.length - 1; k >= 0; k--) {
        if (loaded[k]!.known === undefined) {
          owner = loaded[k];
          break;
        }
      }
    }
    const arity = owner?.known?.[w];
    const { args, negated: old, next } = arity === undefined ? takeGreedy(words, i) : takeArgs(words, i, arity);
    i = next;
    const optionWords = wordsOf(w, negated, old, args);
    if (owner === undefined) {
      unknown.push(...optionWords);
      continue;
    }
    owner.options.push({ name: w, negated: negated || old, args });
    owner.words.push(...optionWords);
  }
  if (pending) unknown.push('!');

  for (const m of matches) if (m.kind === 'module') readModule(m);
  if (target !== undefined) readTarget(target);
  const view: RuleView = { matches, unknown };
  if (target !== undefined) view.target = target;
  const comment = matches.find((m): m is ModuleMatch => m.kind === 'module' && m.comment !== undefined)?.comment;
  if (comment !== undefined) view.comment = comment;
  return view;
}

function isOptionWord(w: string): boolean {
  return w.length > 1 && w.charCodeAt(0) === 45; /* '-' */
}

/** The words an option was read from, with `!` where it stood. */
function wordsOf(name: string, negated: boolean, old: boolean, args: string[]): string[] {
  if (old) return [name, '!', ...args];
  return negated ? ['!', name, ...args] : [name, ...args];
}

/** User chains are conventionally not all-uppercase-letters-only names of extensions we do not know. */
function looksLikeChain(name: string): boolean {
  // KUBE-SVC-…, cali-…, CILIUM_…, DOCKER-USER: any name with a lower-case letter, a digit, '-' or '_' is
  // taken for a chain (no options). An all-capitals word (e.g. SNPT) may be an extension we do not know.
  return /[^A-Z]/.test(name);
}

function splitMask(a: string): { ip: string; mask?: string } {
  const slash = a.indexOf('/');
  return slash < 0 ? { ip: a } : { ip: a.slice(0, slash), mask: a.slice(slash + 1) };
}

// ---------------------------------------------------------------------------------------------------------
// Typed readings.

function last(options: RuleOption[], ...names: string[]): RuleOption | undefined {
  for (let k = options.length - 1; k >= 0; k--) if (names.includes(options[k]!.name)) return options[k];
  return undefined;
}

function has(options: RuleOption[], ...names: string[]): boolean {
  return last(options, ...names) !== undefined;
}

function neg<T>(o: RuleOption | undefined, value: (o: RuleOption) => T): Negated<T> | undefined {
  return o === undefined ? undefined : { negated: o.negated, value: value(o) };
}

function arg0(o: RuleOption): string {
  return o.args[0] ?? '';
}

function list(o: RuleOption): string[] {
  return arg0(o).split(',').filter((s) => s !== '');
}

function num(s: string | undefined): number | undefined {
  if (s === undefined || s === '') return undefined;
  const v = Number(s);
  return Number.isFinite(v) ? v : undefined;
}

/** strtoul(…, 0) for marks: 0x hex, leading-0 octal, else decimal; undefined when not a uint32. */
export function parseUint32(s: string): number | undefined {
  let v: number;
  if (/^0[xX][0-9a-fA-F]+$/.test(s)) v = parseInt(s.slice(2), 16);
  else if (/^0[0-7]+$/.test(s)) v = parseInt(s.slice(1), 8);
  else if (/^[0-9]+$/.test(s)) v = parseInt(s, 10);
  else return undefined;
  return v <= 0xffffffff ? v : undefined;
}

/** `value[/mask]` for marks; the mask defaults to 0xffffffff. */
export function parseMarkMask(s: string): { value: number; mask: number } | undefined {
  const slash = s.indexOf('/');
  const value = parseUint32(slash < 0 ? s : s.slice(0, slash));
  const mask = slash < 0 ? 0xffffffff : parseUint32(s.slice(slash + 1));
  return value === undefined || mask === undefined ? undefined : { value, mask };
}

/** `80`, `1024:65535`, `80,443`, iptables' `!80` is not a thing; names stay unparsed. */
export function parsePorts(value: string): PortRange[] {
  const ranges: PortRange[] = [];
  for (const part of value.split(',')) {
    const colon = part.indexOf(':');
    const from = colon < 0 ? part : part.slice(0, colon);
    const to = colon < 0 ? part : part.slice(colon + 1);
    const a = from === '' ? 0 : /^\d+$/.test(from) ? Number(from) : NaN;
    const b = to === '' ? 65535 : /^\d+$/.test(to) ? Number(to) : NaN;
    if (Number.isNaN(a) || Number.isNaN(b)) return [];
    ranges.push({ from: a, to: b });
  }
  return ranges;
}

function portSpec(o: RuleOption | undefined): PortSpec | undefined {
  if (o === undefined) return undefined;
  const value = arg0(o);
  return { negated: o.negated, value, ranges: parsePorts(value) };
}

function readModule(m: ModuleMatch): void {
  const o = m.options;
  switch (m.module) {
    case 'comment': {
      const c = last(o, '--comment');
      if (c !== undefined) m.comment = arg0(c);
      return;
    }
    case 'statistic': {
      const mode = last(o, '--mode');
      const p = last(o, '--probability');
      const every = last(o, '--every');
      const packet = last(o, '--packet');
      const s: NonNullable<ModuleMatch['statistic']> = {
        negated: o.some((x) => x.negated),
        mode: mode === undefined ? (p !== undefined ? 'random' : 'nth') : arg0(mode),
      };
      const pv = num(p?.args[0]);
      if (pv !== undefined) s.probability = pv;
      const ev = num(every?.args[0]);
      if (ev !== undefined) s.every = ev;
      const pk = num(packet?.args[0]);
      if (pk !== undefined) s.packet = pk;
      m.statistic = s;
      return;
    }
    case 'recent': {
      const cmd = last(o, '--set', '--rcheck', '--update', '--remove');
      const r: NonNullable<ModuleMatch['recent']> = {
        negated: cmd?.negated ?? false,
        name: (() => {
          const nm = last(o, '--name');
          return nm === undefined ? 'DEFAULT' : arg0(nm);
        })(),
        reap: has(o, '--reap'),
        rttl: has(o, '--rttl'),
        side: last(o, '--rsource', '--rdest')?.name === '--rdest' ? 'rdest' : 'rsource',
      };
      if (cmd !== undefined) r.command = cmd.name.slice(2) as 'set' | 'rcheck' | 'update' | 'remove';
      const secs = num(last(o, '--seconds')?.args[0]);
      if (secs !== undefined) r.seconds = secs;
      const hits = num(last(o, '--hitcount')?.args[0]);
      if (hits !== undefined) r.hitcount = hits;
      const mask = last(o, '--mask');
      if (mask !== undefined) r.mask = arg0(mask);
      m.recent = r;
      return;
    }
    case 'addrtype': {
      const a: NonNullable<ModuleMatch['addrtype']> = {
        limitIfaceIn: has(o, '--limit-iface-in'),
        limitIfaceOut: has(o, '--limit-iface-out'),
      };
      const src = neg(last(o, '--src-type'), list);
      if (src !== undefined) a.srcType = src;
      const dst = neg(last(o, '--dst-type'), list);
      if (dst !== undefined) a.dstType = dst;
      m.addrtype = a;
      return;
    }
    case 'mark':
    case 'connmark': {
      const mk = last(o, '--mark');
      const parsed = mk === undefined ? undefined : parseMarkMask(arg0(mk));
      if (mk !== undefined && parsed !== undefined) m.mark = { negated: mk.negated, ...parsed };
      return;
    }
    case 'conntrack':
    case 'state': {
      const c: NonNullable<ModuleMatch['conntrack']> = {};
      const st = neg(last(o, '--ctstate', '--state'), list);
      if (st !== undefined) c.ctstate = st;
      const status = neg(last(o, '--ctstatus'), list);
      if (status !== undefined) c.ctstatus = status;
      for (const key of [
        'ctproto', 'ctorigsrc', 'ctorigdst', 'ctreplsrc', 'ctrepldst',
        'ctorigsrcport', 'ctorigdstport', 'ctreplsrcport', 'ctrepldstport',
      ] as const) {
        const v = neg(last(o, `--${key}`), arg0);
        if (v !== undefined) c[key] = v;
      }
      const dir = last(o, '--ctdir');
      if (dir !== undefined) c.ctdir = arg0(dir);
      m.conntrack = c;
      return;
    }
    case 'set': {
      const s = last(o, '--match-set', '--set');
      if (s !== undefined) {
        m.set = {
          negated: s.negated,
          name: s.args[0] ?? '',
          flags: (s.args[1] ?? '').split(',').filter((x) => x !== ''),
          returnNomatch: has(o, '--return-nomatch'),
        };
      }
      return;
    }
    case 'multiport': {
      const mp: NonNullable<ModuleMatch['multiport']> = {};
      const s = portSpec(last(o, '--sports', '--source-ports'));
      if (s !== undefined) mp.sports = s;
      const d = portSpec(last(o, '--dports', '--destination-ports'));
      if (d !== undefined) mp.dports = d;
      const p = portSpec(last(o, '--ports'));
      if (p !== undefined) mp.ports = p;
      m.multiport = mp;
      return;
    }
    case 'tcp':
    case 'udp':
    case 'sctp':
    case 'dccp':
    case 'udplite': {
      const p: NonNullable<ModuleMatch['ports']> = {};
      const s = portSpec(last(o, '--sport', '--source-port'));
      if (s !== undefined) p.sport = s;
      const d = portSpec(last(o, '--dport', '--destination-port'));
      if (d !== undefined) p.dport = d;
      const f = last(o, '--tcp-flags');
      if (f !== undefined) {
        const split = (x: string | undefined) => (x ?? '').split(',').filter((y) => y !== '');
        p.tcpFlags = { negated: f.negated, mask: split(f.args[0]), comp: split(f.args[1]) };
      }
      const syn = last(o, '--syn');
      if (syn !== undefined) p.syn = { negated: syn.negated };
      m.ports = p;
      return;
    }
    case 'icmp':
    case 'icmp6': {
      const t = neg(last(o, '--icmp-type', '--icmpv6-type'), arg0);
      if (t !== undefined) m.icmp = t;
      return;
    }
    case 'physdev': {
      const p: NonNullable<ModuleMatch['physdev']> = {};
      const pin = neg(last(o, '--physdev-in'), arg0);
      if (pin !== undefined) p.in = pin;
      const pout = neg(last(o, '--physdev-out'), arg0);
      if (pout !== undefined) p.out = pout;
      const flag = (name: string) => {
        const f = last(o, name);
        return f === undefined ? undefined : { negated: f.negated };
      };
      const isIn = flag('--physdev-is-in');
      if (isIn !== undefined) p.isIn = isIn;
      const isOut = flag('--physdev-is-out');
      if (isOut !== undefined) p.isOut = isOut;
      const isBridged = flag('--physdev-is-bridged');
      if (isBridged !== undefined) p.isBridged = isBridged;
      m.physdev = p;
      return;
    }
    case 'nfacct': {
      const nm = last(o, '--nfacct-name');
      if (nm !== undefined) m.nfacct = { name: arg0(nm) };
      return;
    }
    case 'mac': {
      const mac = neg(last(o, '--mac-source'), arg0);
      if (mac !== undefined) m.mac = mac;
      return;
    }
    default:
      return;
  }
}

/** The first argument of the last of `names` given, if any. */
function optionValue(o: RuleOption[], ...names: string[]): string | undefined {
  const x = last(o, ...names);
  return x === undefined ? undefined : arg0(x);
}

function readTarget(t: Target): void {
  const o = t.options;
  switch (t.name) {
    case 'DNAT': {
      const v = optionValue(o, '--to-destination');
      if (v !== undefined) t.toDestination = v;
      break;
    }
    case 'SNAT': {
      const v = optionValue(o, '--to-source');
      if (v !== undefined) t.toSource = v;
      break;
    }
    case 'MASQUERADE':
    case 'REDIRECT': {
      const v = optionValue(o, '--to-ports');
      if (v !== undefined) t.toPorts = v;
      break;
    }
    case 'MARK':
    case 'CONNMARK': {
      const mark = readMark(o);
      if (mark !== undefined) t.mark = mark;
      break;
    }
    case 'REJECT': {
      const v = optionValue(o, '--reject-with');
      if (v !== undefined) t.rejectWith = v;
      break;
    }
    case 'LOG': {
      const p = optionValue(o, '--log-prefix');
      if (p !== undefined) t.logPrefix = p;
      const l = optionValue(o, '--log-level');
      if (l !== undefined) t.logLevel = l;
      break;
    }
    default:
      break;
  }
  if (t.name === 'DNAT' || t.name === 'SNAT' || t.name === 'MASQUERADE' || t.name === 'REDIRECT') {
    if (has(o, '--random')) t.random = true;
    if (has(o, '--random-fully')) t.randomFully = true;
    if (has(o, '--persistent')) t.persistent = true;
  }
}

/** MARK and CONNMARK as libxt_MARK / libxt_CONNMARK turn them into (value, mask) for the kernel. */
function readMark(o: RuleOption[]): MarkAction | undefined {
  const x = last(o, '--set-xmark', '--set-mark', '--and-mark', '--or-mark', '--xor-mark', '--save-mark', '--restore-mark');
  if (x === undefined) return undefined;
  const op = x.name.slice(2) as MarkAction['op'];
  if (op === 'save-mark' || op === 'restore-mark') {
    return { op, value: 0, mask: 0xffffffff, xmark: { value: 0, mask: 0xffffffff } };
  }
  if (op === 'set-xmark' || op === 'set-mark') {
    const vm = parseMarkMask(arg0(x));
    if (vm === undefined) return undefined;
    const mask = op === 'set-mark' ? (vm.mask | vm.value) >>> 0 : vm.mask;
    return { op, value: vm.value, mask: vm.mask, xmark: { value: vm.value, mask } };
  }
  const bits = parseUint32(arg0(x));
  if (bits === undefined) return undefined;
  switch (op) {
    case 'and-mark':
      return { op, value: bits, mask: 0xffffffff, xmark: { value: 0, mask: ~bits >>> 0 } };
    case 'or-mark':
      return { op, value: bits, mask: 0xffffffff, xmark: { value: bits, mask: bits } };
    default:
      return { op, value: bits, mask: 0xffffffff, xmark: { value: bits, mask: 0 } };
  }
}

/** A NAT range as DNAT/SNAT write it: `ip[-ip][:port[-port]]`, IPv6 in brackets. */
export function parseNatRange(
  s: string,
): { minIp?: string; maxIp?: string; minPort?: number; maxPort?: number } | undefined {
  let ips = s;
  let ports: string | undefined;
  if (s.startsWith('[')) {
    const close = s.indexOf(']');
    if (close < 0) return undefined;
    ips = s.slice(1, close);
    const rest = s.slice(close + 1);
    if (rest !== '') {
      if (!rest.startsWith(':')) return undefined;
      ports = rest.slice(1);
    }
  } else if (s.split(':').length === 2) {
    const colon = s.indexOf(':');
    ips = s.slice(0, colon);
    ports = s.slice(colon + 1);
  }
  const out: { minIp?: string; maxIp?: string; minPort?: number; maxPort?: number } = {};
  if (ips !== '') {
    const dash = ips.indexOf('-');
    out.minIp = dash < 0 ? ips : ips.slice(0, dash);
    out.maxIp = dash < 0 ? ips : ips.slice(dash + 1);
  }
  if (ports !== undefined) {
    const dash = ports.indexOf('-');
    const a = Number(dash < 0 ? ports : ports.slice(0, dash));
    const b = Number(dash < 0 ? ports : ports.slice(dash + 1));
    if (!Number.isInteger(a) || !Number.isInteger(b)) return undefined;
    out.minPort = a;
    out.maxPort = b;
  }
  return out;
}
