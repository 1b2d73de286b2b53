// The faces every proxy mode shows the commands. A mode is one folder (src/core/<mode>/) that exports one
// ProxyModeDefinition; src/core/modes/registry.ts lists them, one line each. Commands ask the registry and
// never compare a mode name, import from a mode folder, or parse dump text themselves.
//
// S is the mode's own state for one IP family (an iptables Ruleset, an ipvs IpvsState, an nftables table …):
// data, rendered from a node's view or parsed from a dump, and turned into text only at the edge.
import type { KubeProxyConfiguration } from '../config/index.js';
import type { IPFamily } from '../objects/types.js';
import type { ProxyView } from '../proxy-view.js';
import type { ModeEvaluator } from '../trace/types.js';

export type { IPFamily };

/** Every state carries the family it is for. */
export interface FamilyState {
  family: IPFamily;
}

/** What a mode needs beyond the view and the configuration to render faithfully. */
export interface RenderOptions {
  /** The kube-proxy version whose rules to write ("1.31.2"); undefined: the newest the mode knows. */
  kubeProxyVersion?: string;
}

// ---- dumps: saved or live text of the tools a node's rules are read with ----

/**
 * One kind of dump text, recognised by its own shape. A file may hold several kinds concatenated in any
 * order (`ipvsadm -Ln; ipset list; iptables-save`): the splitter (modes/dumps.ts) cuts it into sections at
 * the lines where a kind's section starts.
 */
export interface DumpKind {
  /** "iptables-save", "ipvsadm-save", "ipvsadm-list", "ipset-save", "ipset-list", "nft", "nft-json" … */
  readonly name: string;
  /** How a user makes it: "iptables-save", "ipvsadm -Sn", "nft list ruleset". */
  readonly command: string;
  /** True when `line` begins a section of this kind (`*nat`, `-A -t …`, `create KUBE-… hash:ip`, `table ip …`). */
  startsSection(line: string, next: string | undefined): boolean;
  /** The family a section of this kind names, when its text alone says (ip6tables-save's header, `table ip6`). */
  familyOf?(section: string): IPFamily | undefined;
}

/** One contiguous section of a dump, of one kind. */
export interface DumpSection {
  kind: string;
  text: string;
  /** The family the section is for when its kind can tell; undefined when it serves both or cannot say. */
  family?: IPFamily;
  /** 1-based line in the source where the section starts (for error messages). */
  line: number;
}

/** A dump cut into sections, with where it came from ("dump node1.txt", "node worker-1 (pod …)"). */
export interface Dump {
  source: string;
  sections: DumpSection[];
}

/** A command to run on a node (in its kube-proxy pod, or on this host) to read one dump kind. */
export interface LiveCommand {
  kind: string;
  argv: string[];
  /** The family the command reads (iptables-save vs ip6tables-save); undefined: both. */
  family?: IPFamily;
  /** Whether the mode can go on without it (a node whose image lacks the tool). */
  optional?: boolean;
}

/** A node's shell: the one live-reader interface, for a node's kube-proxy pod (pods/exec) and for this host. */
export interface NodeShell {
  /** For headers: "node worker-1 (pod kube-system/kube-proxy-x7k2p)", "this host (iptables-nft)". */
  readonly description: string;
  /** Runs argv and resolves its standard output; rejects with a one-sentence error when it fails. */
  run(argv: readonly string[]): Promise<string>;
}

// ---- what a ruleset does, per service port, in words every mode shares ----

export interface EntrySummary {
  /** "cluster IP", "external IP", "loadbalancer IP", "nodePort", "health check node port". */
  kind: string;
  protocol: string;
  /** Destination address (no prefix length) or "*" for node ports on every local address. */
  address: string;
  port: number | null;
  /** Where the entry leads: a chain, a virtual server, a verdict map … or the verdict itself. */
  target: string;
  /** When the source is rewritten on this path: "always", "never", or the condition's words. */
  masquerade: string[];
}

export interface EndpointShare {
  /** "10.244.1.5:8080" */
  endpoint: string;
  /** What sends traffic there: a KUBE-SEP chain, an nft endpoint chain, a real server … */
  via: string;
  /** Share of new connections (1 for the last one standing); weights are turned into shares. */
  probability: number;
  /** The raw weight where the mode balances by weight (ipvs). */
  weight?: number;
}

export interface BalancerSummary {
  /** The chain, virtual server or map that picks an endpoint. */
  name: string;
  /** How it picks: "random" (iptables statistic, nft numgen), or an ipvs scheduler ("rr", "lc" …). */
  scheduler: string;
  endpoints: EndpointShare[];
  /** Session affinity (ClientIP) timeout, when set. */
  affinitySeconds: number | null;
  /** Share of new connections no endpoint takes (0 in a healthy balancer). */
  fallThrough: number;
}

export interface ServicePortSummary {
  /** "ns/name:port" as kube-proxy names it. */
  servicePort: string;
  entries: EntrySummary[];
  balancers: BalancerSummary[];
  /** Rejects and drops kube-proxy installs for this service port ("has no endpoints", source ranges …). */
  verdicts: string[];
  /** Set memberships that route this service port (ipvs ipsets, nft sets), "SET member". */
  setMembers?: string[];
}

// ---- drift: one vocabulary, each kind saying what it is about ----

export type DriftKind =
  | 'missing service'
  | 'extra service'
  | 'missing entry'
  | 'extra entry'
  | 'missing endpoint'
  | 'extra endpoint'
  | 'probability'
  | 'weight'
  | 'scheduler'
  | 'affinity'
  | 'masquerade'
  | 'verdict'
  | 'missing set member'
  | 'extra set member'
  | 'missing object'
  | 'stale object';

export interface Drift {
  /** "ns/name:port", or "" for node-wide drift (base chains, sets, tables). */
  servicePort: string;
  kind: DriftKind;
  /** For missing/stale objects: what the object is ("chain nat/KUBE-SEP-…", "ipset KUBE-CLUSTER-IP", "virtual server …"). */
  object?: string;
  detail: string;
}

// ---- a change: data before it is text ----

/** One operation of a plan; `text` is its line(s) in the tool's own script. */
export interface PlanOperation {
  /** What the operation does, in the mode's own words ("declare chain", "flush", "add rule", "delete chain", "add real server" …). */
  op: string;
  /** What it acts on ("nat/KUBE-SVC-…", "ipset KUBE-CLUSTER-IP", "10.96.0.10:53/UDP"). */
  object: string;
  text: string;
}

/** An ordered list of operations turning what a host holds into what it should; its text is the script. */
export interface Plan {
  mode: string;
  family: IPFamily;
  /** Full (everything rewritten) or partial (only what changed). */
  full: boolean;
  operations: PlanOperation[];
  /** The script exactly as the host will run it (iptables-restore input, nft -f input, ipset/ipvsadm restore input). */
  text(): string;
}

export interface PlanOptions {
  /** Rewrite everything (a full sync). */
  full?: boolean;
  /** Upstream's change trackers: exactly these service ports changed ("ns/name:port"). */
  changed?: Iterable<string>;
}

// ---- the definition ----

export interface TextFormat<S> {
  /** What `rules --help` says of `-o NAME`. */
  readonly description: string;
  write(states: readonly S[]): string;
}

export interface TraceOptions {
  /** Rendered by our engine (not read from a node): kube-proxy's jumps from the built-in chains are implied. */
  rendered: boolean;
}

export interface ProxyModeDefinition<S extends FamilyState = FamilyState> {
  /** kube-proxy's name for the mode: "iptables", "ipvs", "nftables", "userspace". */
  readonly mode: string;
  /** `rules -o NAME` text formats (besides human, wide, json, yaml); the first is the one to suggest. */
  readonly formats: Readonly<Record<string, TextFormat<S>>>;
  /** The dump kinds this mode reads; `primary` must be present for a dump to be this mode's. */
  readonly dumps: { readonly primary: readonly DumpKind[]; readonly also?: readonly DumpKind[] };
  render(view: ProxyView, config: KubeProxyConfiguration, opts?: RenderOptions): S[];
  /** Reads one family's state from a dump's sections (those of this mode's kinds). */
  parse(dump: Dump, family: IPFamily): S;
  /** What to run on a node to read its live state. */
  liveCommands(family: IPFamily): LiveCommand[];
  /** Keeps only what serves service ports starting with `prefix` ("ns/", "ns/name", "ns/name:port"). */
  narrow(state: S, prefix: string): S;
  summarize(state: S): ServicePortSummary[];
  /** Everything kube-proxy owns that differs, in the shared vocabulary; spelling and harmless order never count. */
  drift(expected: S, actual: S): Drift[];
  /** Lines in one canonical spelling, for a unified diff. */
  canonicalLines(state: S): string[];
  /** Names live state after the rendered view where the live form carries no names (IPVS has no comments). */
  annotate?(actual: S, expected: S): S;
  tracer(states: readonly S[], opts: TraceOptions): ModeEvaluator;
  /** The change from `previous` (what the host holds; undefined: nothing of ours) to `next`. */
  plan(previous: S | undefined, next: S, opts?: PlanOptions): Plan;
}
