// What a host refused, as one sentence (src/core/errors.ts style), and the reading of iptables-restore's
// error output that names the refused line.
//
// iptables-restore 1.8.x (both backends) reports a failure in one of these shapes (measured on this VM):
//   legacy, parse time:  "iptables-restore v1.8.9 (legacy): Couldn't load target `X':No such file or directory"
//                        "Error occurred at line: 7"  (the offending rule's line)
//   legacy, kernel:      "iptables-restore: line 4 failed"  (the table's COMMIT line: the kernel refused the
//                        whole table blob, e.g. a rule naming an nfacct counter that does not exist)
//   nft, parse time:     "iptables-nft-restore v1.8.9 (nf_tables): Chain 'X' does not exist" + "Error occurred
//                        at line: 8" — for a jump to a missing chain the line is the table's COMMIT
//   nft, kernel:         "line 3: RULE_APPEND failed (No such file or directory): rule in chain KUBE-FOO"
//   either:              "COMMIT expected at line 4", "line 2 failed: No chain/target/match by that name."
// Lines count every input line (comments and blank lines too), from 1.

import { ClusterError } from '../errors.js';
import { restoreBlocks } from './backend.js';

/** A command on the host failed (not started, or a non-zero exit). */
export class HostCommandError extends ClusterError {
  constructor(
    message: string,
    readonly argv: readonly string[],
    readonly status: number,
    readonly stderr: string,
  ) {
    super(message);
  }
}

export function commandFailure(argv: readonly string[], status: number, stderr: string, what?: string): HostCommandError {
  const tool = argv[0] ?? '?';
  if (status === 127 && /ENOENT|not found|No such file/i.test(stderr)) {
    return new HostCommandError(`${tool} is not installed on the node (or not in its PATH), so ${what ?? 'it could not run'}; install it and try again.`, argv, status, stderr);
  }
  const reason = cleanReason(stderr) || 'no error output';
  return new HostCommandError(`\`${argv.join(' ')}\` failed (exit ${status}: ${reason}).`, argv, status, stderr);
}

export interface RollbackOutcome {
  /** tables the failed restore had already committed and that were put back */
  tables: string[];
  /** why putting them back failed; then the node is NOT as it was */
  error?: string;
}

/** iptables-restore refused the text. The rules are as before unless `rollback.error` is set. */
export class RestoreError extends ClusterError {
  constructor(
    message: string,
    /** e.g. iptables-nft-restore */
    readonly tool: string,
    /** the refused line (1-based) of the text given to restore, when known */
    readonly line: number | undefined,
    /** that line's text */
    readonly lineText: string | undefined,
    /** the tool's reason, cleaned of its prefixes */
    readonly reason: string,
    readonly status: number,
    readonly stderr: string,
    readonly rollback?: RollbackOutcome,
  ) {
    super(message);
  }
}

export interface RestoreFailure {
  tool: string;
  family: 'IPv4' | 'IPv6';
  /** the refused line and its text, when known */
  at?: { line: number; text: string };
  reason: string;
  status: number;
  stderr: string;
  /** a `--test` run: nothing was to be applied */
  test?: boolean;
  rollback?: RollbackOutcome;
}

/** The one-sentence error for a refused restore, e.g. `iptables-nft-restore refused line 7 of the IPv4
 * rules ("-A KUBE-X -j NOPE"): Chain 'NOPE' does not exist, so the node's rules were left as they were.` */
export function restoreError(f: RestoreFailure): RestoreError {
  const where = f.at ? `line ${f.at.line} of the ${f.family} rules ("${f.at.text.trim()}")` : `the ${f.family} rules`;
  const reason = f.reason || (f.at ? 'the kernel refused the table' : `exit ${f.status}`);
  let tail: string;
  if (f.test) tail = '; fix that rule before applying';
  else if (f.rollback?.error) {
    tail = `, and putting back the tables it had already committed failed (${f.rollback.error}), so the node's rules are only partly applied; apply again`;
  } else tail = ", so the node's rules were left as they were";
  const message = `${f.tool} ${f.test ? 'would refuse' : 'refused'} ${where}: ${reason}${tail}.`;
  return new RestoreError(message, f.tool, f.at?.line, f.at?.text, reason, f.status, f.stderr, f.rollback);
}

/** The line number iptables-restore reports and its cleaned-up reason. */
export function parseRestoreFailure(stderr: string): { line?: number; reason: string } {
  const at = /Error occurred at line:\s*(\d+)/.exec(stderr) ?? /\bline (\d+)\b/.exec(stderr);
  return { line: at ? Number(at[1]) : undefined, reason: cleanReason(stderr) };
}

const TOOL_PREFIX = /^(?:ip6?tables|xtables)(?:-(?:nft|legacy))?(?:-multi)?(?:-restore|-save)?(?: v[\d.]+(?: \([^)]*\))?)?:\s*/;

/** The informative part of a tool's stderr: no version prefixes, usage hints or line locators. */
export function cleanReason(stderr: string): string {
  const parts: string[] = [];
  for (const raw of stderr.split('\n')) {
    let line = raw.trim();
    if (!line || /^Try `/.test(line) || /^Ignoring deprecated/.test(line) || /^Error occurred at line/.test(line) || line.startsWith('#')) continue;
    for (let prev = ''; prev !== line; ) {
      prev = line;
      line = line.replace(TOOL_PREFIX, '');
    }
    line = line.replace(/^line \d+ failed:?\s*/, '').replace(/^line \d+:?\s*/, '').trim();
    if (line) parts.push(line.replace(/\.$/, ''));
  }
  return parts.join('; ');
}

export interface LocateHints {
  /** nfacct counters that exist on the host (to blame a rule naming one that does not) */
  nfacctCounters?: ReadonlySet<string>;
}

/**
 * The line really refused. iptables reports a table's COMMIT line when the kernel (or, for iptables-nft,
 * the chain lookup at commit) refused the table as a whole; then the rule is found from the reason:
 * the first rule of that table jumping to the missing chain or target, or naming an nfacct counter that
 * does not exist.
 */
export function locateRefusedLine(text: string, reported: number | undefined, reason: string, hints: LocateHints = {}): { line: number; text: string } | undefined {
  const lines = text.split('\n');
  if (reported === undefined || reported < 1 || reported > lines.length) return undefined;
  const reportedText = lines[reported - 1] ?? '';
  const block = restoreBlocks(text).find((b) => b.start <= reported && reported <= (b.commit ?? lines.length));
  const isRule = /^\s*-[AIRD]\s/.test(reportedText);
  if (!block || isRule) return { line: reported, text: reportedText };
  const candidates: number[] = [];
  for (let n = block.start + 1; n < (block.commit ?? lines.length + 1); n++) candidates.push(n);
  const missing = /Chain '([^']+)' does not exist/.exec(reason) ?? /load target `([^']+)'/.exec(reason);
  if (missing) {
    const target = missing[1]!;
    const re = new RegExp(`\\s-[jg]\\s+${escapeRe(target)}(\\s|$)`);
    const hit = candidates.find((n) => re.test(lines[n - 1] ?? ''));
    if (hit) return { line: hit, text: lines[hit - 1]! };
  }
  if (hints.nfacctCounters) {
    const have = hints.nfacctCounters;
    const hit = candidates.find((n) => nfacctNamesInLine(lines[n - 1] ?? '').some((name) => !have.has(name)));
    if (hit) return { line: hit, text: lines[hit - 1]! };
  }
  return { line: reported, text: reportedText };
}

/** nfacct counter names a restore line refers to (`-m nfacct --nfacct-name NAME`). */
export function nfacctNamesInLine(line: string): string[] {
  const names: string[] = [];
  for (const m of line.matchAll(/--nfacct-name\s+(?:"([^"]*)"|(\S+))/g)) names.push(m[1] ?? m[2]!);
  return names;
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
