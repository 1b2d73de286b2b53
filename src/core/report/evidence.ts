// What a node's kube-proxy says about itself, read from data only (no I/O): its log's start-up lines,
// its command line, k3s/RKE2 node annotations, and the live-rules probe. Pure functions, so the mode report
// can be built from the cluster, from saved files, or from a benchmark's synthetic answers alike.
//
// Log wordings, from kubernetes/kubernetes cmd/kube-proxy/app/server_others.go (≤ 1.28) and server_linux.go
// (≥ 1.29), and from public kube-proxy logs of each era:
//   ≤ 1.18   "Flag proxy-mode=\"\" unknown, assuming iptables proxy"   "Using iptables Proxier."  "Using ipvs Proxier."
//            "Can't use ipvs proxier, trying iptables proxier"
//   1.19–20  "Unknown proxy mode \"\", assuming iptables proxy"
//            "Can't use the IPVS proxier: IPVS proxier will not be used because the following required kernel modules are not loaded: [ip_vs …]"
//   1.21–24  structured: "\"Unknown proxy mode, assuming iptables proxy\" proxyMode=\"\""  "\"Using iptables Proxier\""
//            "\"Can't use the IPVS proxier\" err=\"…\"" then "\"Using iptables Proxier\"" (the fallback)
//   ≥ 1.25   no fallback: "\"Error running ProxyServer\" err=\"can't use the IPVS proxier: …\"" and
//            "\"command failed\" err=\"can't use the IPVS proxier: …\"", then the container exits (CrashLoopBackOff)
//   ≥ 1.25   "\"Using iptables proxy\"" (server_linux.go platformApplyDefaults) when mode is "": the default applied
//   ≥ 1.29   "\"Using nftables Proxier\"" (also JSON logs: {"msg":"Using iptables Proxier"})

export interface LogVerdict {
  /** The proxier kube-proxy started, or null when the log does not say. */
  running: string | null;
  /** The log line that showed it. */
  line?: string;
  /** kube-proxy ≤ 1.24 could not use IPVS and fell back to iptables: the reason it gave. */
  fallbackReason?: string;
  /** kube-proxy ≥ 1.25 refused to start: the error it exited with. */
  crash?: string;
  /** A mode kube-proxy did not know and replaced with iptables ("" means unset: the platform default). */
  unknownMode?: string;
}

const USING = /Using (iptables|ipvs|nftables|userspace|kernelspace|winkernel) Proxier/i;
const FALLBACK = /Can't use (?:the IPVS|ipvs) proxier(?:, trying iptables proxier)?(?:"?\s*(?:err="([^"]*)"|:\s*(.*)))?/;
const CRASH = /(?:err="|Error: |^)(can't use the IPVS proxier: [^"]*)/i;
const UNKNOWN = [
  /Flag proxy-mode="([^"]*)" unknown, assuming iptables proxy/,
  /Unknown proxy mode "([^"]*)", assuming iptables proxy/,
  /Unknown proxy mode, assuming iptables proxy"?\s+proxyMode="([^"]*)"/,
  // ≥ 1.25 platformApplyDefaults: logged only when mode is "" (the Linux default), before "Using iptables Proxier".
  /"?Using iptables proxy"?()$/,
];

export function parseKubeProxyLog(text: string): LogVerdict {
  const verdict: LogVerdict = { running: null };
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line) continue;
    const using = USING.exec(line);
    if (using) {
      if (verdict.running === null) {
        verdict.running = using[1].toLowerCase() === 'winkernel' ? 'kernelspace' : using[1].toLowerCase();
        verdict.line = line;
      }
      continue;
    }
    for (const re of UNKNOWN) {
      const m = re.exec(line);
      if (m && verdict.unknownMode === undefined) verdict.unknownMode = m[1];
    }
    const crash = /Error running ProxyServer|command failed|^Error: /.test(line) ? CRASH.exec(line) : null;
    if (crash) {
      if (verdict.crash === undefined) verdict.crash = crash[1];
      continue;
    }
    const fb = FALLBACK.exec(line);
    if (fb && verdict.fallbackReason === undefined) verdict.fallbackReason = (fb[1] ?? fb[2] ?? '').trim() || 'no reason given';
  }
  // A crash after a started proxier cannot happen; a crash without one is the ≥ 1.25 refusal.
  if (verdict.running) delete verdict.crash;
  return verdict;
}

/** A short human cause for an IPVS refusal or fallback. */
export function ipvsCause(reason: string): string {
  if (/kernel modules? (?:are )?not loaded|ip_vs|no such file or directory|dummy VS|protocol not supported/i.test(reason)) return 'IPVS modules missing on this node';
  if (/ipset/i.test(reason)) return 'ipset missing or too old on this node';
  if (/scheduler/i.test(reason)) return 'the IPVS scheduler\'s module is missing on this node';
  return reason;
}

/** kube-proxy flags that decide the mode, from a command line (container command + args, or k3s --kube-proxy-arg values). */
export interface ProxyFlags {
  mode?: string;
  scheduler?: string;
  config?: string;
  /** Where the log goes when a shell redirects it (GKE's static pod: /var/log/kube-proxy.log). */
  logFile?: string;
}

export function parseProxyFlags(argv: string[]): ProxyFlags {
  // A `sh -c "exec kube-proxy …"` command is one string: split it into words.
  const words = argv.flatMap((a) => (/\s/.test(a) && /kube-proxy/.test(a) ? a.split(/\s+/) : [a]));
  const flags: ProxyFlags = {};
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    const m = /^--?([a-z-]+)(?:=(.*))?$/.exec(w);
    if (m) {
      const value = m[2] ?? (words[i + 1] && !words[i + 1].startsWith('-') ? words[++i] : '');
      if (m[1] === 'proxy-mode') flags.mode = value;
      else if (m[1] === 'ipvs-scheduler') flags.scheduler = value;
      else if (m[1] === 'config') flags.config = value;
      continue;
    }
    const redirect = /^\d?>>?(\/\S+\.log)$/.exec(w);
    if (redirect) flags.logFile = redirect[1];
  }
  return flags;
}

/** k3s and RKE2 keep their server/agent command line in a node annotation; kube-proxy's flags are the --kube-proxy-arg values. */
export const NODE_ARGS_ANNOTATIONS = ['k3s.io/node-args', 'rke2.io/node-args'];

export function nodeArgsProxyFlags(annotations: Record<string, string> | undefined): { distribution: 'k3s' | 'rke2'; flags: ProxyFlags } | undefined {
  for (const key of NODE_ARGS_ANNOTATIONS) {
    const raw = annotations?.[key];
    if (raw === undefined) continue;
    let args: string[] = [];
    try {
      const parsed = JSON.parse(raw);
      if (Array.isArray(parsed)) args = parsed.map(String);
    } catch {
      args = [];
    }
    const proxyArgs: string[] = [];
    for (let i = 0; i < args.length; i++) {
      const m = /^--kube-proxy-arg(?:=(.*))?$/.exec(args[i]);
      if (!m) continue;
      const v = m[1] ?? args[++i] ?? '';
      proxyArgs.push(v.startsWith('-') ? v : `--${v}`);
    }
    return { distribution: key.startsWith('k3s') ? 'k3s' : 'rke2', flags: parseProxyFlags(proxyArgs) };
  }
  return undefined;
}

/** The image tag as a version: registry.k8s.io/kube-proxy:v1.31.4 -> v1.31.4; digests dropped. */
export function imageVersion(image: string | undefined): string | null {
  if (!image) return null;
  const noDigest = image.split('@')[0];
  const slash = noDigest.lastIndexOf('/');
  const colon = noDigest.lastIndexOf(':');
  return colon > slash ? noDigest.slice(colon + 1) : null;
}

/** Minor version of a kube-proxy version string (v1.24.17-eks.3 -> 24), or null. */
export function minorVersion(version: string | null | undefined): number | null {
  const m = /^v?1\.(\d+)/.exec(version ?? '');
  return m ? Number(m[1]) : null;
}

/** What a node's live rules show, from the outputs of the probe commands run in its kube-proxy pod. */
export interface ProbeOutput {
  iptablesNat?: string;
  nftTables?: string;
  ipvsadm?: string;
}

export function classifyRules(p: ProbeOutput): { mode: string | null; evidence: string } {
  const nft = p.nftTables ?? '';
  if (/table\s+(ip|ip6|inet)\s+kube-proxy\b/.test(nft)) return { mode: 'nftables', evidence: 'nft table ip kube-proxy present' };
  const nat = p.iptablesNat ?? '';
  const ipvsServices = (p.ipvsadm ?? '').split('\n').filter((l) => /^(TCP|UDP|SCTP)\s/.test(l)).length;
  if (/--match-set KUBE-CLUSTER-IP|-A KUBE-SERVICES .*match-set/.test(nat) || ipvsServices > 0) {
    return { mode: 'ipvs', evidence: `IPVS: ${ipvsServices} virtual servers, ipset KUBE-CLUSTER-IP in nat` };
  }
  const svc = (nat.match(/^:KUBE-SVC-/gm) ?? []).length;
  if (/^:KUBE-SERVICES /m.test(nat)) return { mode: 'iptables', evidence: `iptables: KUBE-SERVICES and ${svc} KUBE-SVC-* chains in nat` };
  return { mode: null, evidence: 'no kube-proxy rules found (no KUBE-SERVICES chain, no kube-proxy nft table, no IPVS services)' };
}
