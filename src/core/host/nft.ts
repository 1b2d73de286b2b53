// nft on a host, through a CommandRunner: apply a kube-proxy transaction with `nft -f -` (nft commits
// the whole script as one kernel transaction or nothing of it), check one without applying it
// (`nft -c -f -`), read kube-proxy's table back (`nft -j list table`), and probe support the way
// kube-proxy does: nft >= 1.0.1 (knftables.New) and kernel >= 5.13 (the proxier's check).
//
// nft names a refused line as "/dev/stdin:LINE:COL: Error: REASON" followed by the line and a caret.
import { parseJsonListing } from '../nftables/parse-json.js';
import { KUBE_PROXY_TABLE, type NftTable, nftFamily } from '../nftables/types.js';
import type { IPFamily } from '../objects/types.js';
import type { CommandResult, CommandRunner } from './backend.js';
import { HostCommandError, commandFailure } from './errors.js';

export const NFT_MIN_VERSION = '1.0.1';
export const NFT_MIN_KERNEL = '5.13';

/** nft refused a transaction; nothing of it was applied. */
export class NftTransactionError extends HostCommandError {
  constructor(
    message: string,
    argv: readonly string[],
    status: number,
    stderr: string,
    /** 1-based line of the script nft refused, when it said. */
    readonly line: number | undefined,
    readonly lineText: string | undefined,
  ) {
    super(message, argv, status, stderr);
  }
}

export interface NftSupport {
  ok: boolean;
  nftVersion: string | null;
  kernel: string | null;
  /** One sentence when not ok. */
  reason?: string;
}

/** Compares dotted versions numerically ("1.0.10" > "1.0.9"). */
export function versionAtLeast(have: string, want: string): boolean {
  const a = have.split(/[.-]/).map((x) => parseInt(x, 10) || 0);
  const b = want.split('.').map((x) => parseInt(x, 10) || 0);
  for (let i = 0; i < b.length; i++) {
    if ((a[i] ?? 0) !== b[i]) return (a[i] ?? 0) > b[i]!;
  }
  return true;
}

/** The first "/dev/stdin:LINE:…: Error: …" of nft's stderr. */
export function refusedLine(stderr: string): { line: number; reason: string } | undefined {
  const m = /(?:\/dev\/stdin|-):(\d+):[\d-]+: Error: (.*)/.exec(stderr);
  return m ? { line: Number(m[1]), reason: m[2]!.trim() } : undefined;
}

/**
 * nft's failure as one sentence. nft 1.0.6 and older crash (SIGSEGV) listing or changing anything once
 * any table on the host holds a set that a newer nft wrote (kubernetes#136786; kube-proxy's image moved
 * to nft 1.0.6.1 for it): said with that cause, since the crash itself prints nothing.
 */
function nftFailure(argv: string[], r: CommandResult, what: string): HostCommandError {
  const e = commandFailure(argv, r.code, r.stderr, what);
  if (!/killed by SIGSEGV/.test(r.stderr)) return e;
  const why = 'nft 1.0.6 and older crash so when a newer nft wrote a set in any table on this host (kubernetes#136786): use nft 1.0.6.1 or newer here.';
  return new HostCommandError(e.message.replace(/\.$/, `; ${why}`), argv, r.code, r.stderr);
}

export class NftCommandBackend {
  constructor(private readonly run: CommandRunner) {}

  async version(): Promise<string | null> {
    const r = await this.run(['nft', '--version']);
    const m = /v(\d+\.\d+(?:\.\d+)?)/.exec(r.stdout + r.stderr);
    return r.code === 0 && m ? m[1]! : null;
  }

  async probe(): Promise<NftSupport> {
    const nftVersion = await this.version();
    const u = await this.run(['uname', '-r']);
    const kernel = u.code === 0 ? (/^(\d+\.\d+(?:\.\d+)?)/.exec(u.stdout.trim())?.[1] ?? null) : null;
    if (nftVersion === null) return { ok: false, nftVersion, kernel, reason: 'nft is not installed (or does not run), and kube-proxy in nftables mode needs it.' };
    if (!versionAtLeast(nftVersion, NFT_MIN_VERSION)) return { ok: false, nftVersion, kernel, reason: `nft ${nftVersion} is older than ${NFT_MIN_VERSION}, the oldest kube-proxy's knftables accepts.` };
    if (kernel !== null && !versionAtLeast(kernel, NFT_MIN_KERNEL)) return { ok: false, nftVersion, kernel, reason: `kernel ${kernel} is older than ${NFT_MIN_KERNEL}, the oldest kube-proxy's nftables mode accepts.` };
    return { ok: true, nftVersion, kernel };
  }

  private async script(argv: string[], text: string, what: string): Promise<void> {
    const r = await this.run(argv, text);
    if (r.code === 0) return;
    const at = refusedLine(r.stderr);
    if (!at) throw nftFailure(argv, r, what);
    const lineText = text.split('\n')[at.line - 1];
    throw new NftTransactionError(
      `nft refused line ${at.line} of the transaction (\`${(lineText ?? '').slice(0, 160)}\`): ${at.reason}; nothing was applied.`,
      argv,
      r.code,
      r.stderr,
      at.line,
      lineText,
    );
  }

  /** Runs the transaction; all of it or (throwing NftTransactionError) none of it. */
  async apply(text: string): Promise<void> {
    await this.script(['nft', '-f', '-'], text, 'the transaction could not be applied');
  }

  /** Checks the transaction as the kernel would take it, applying nothing. */
  async check(text: string): Promise<void> {
    await this.script(['nft', '-c', '-f', '-'], text, 'the transaction could not be checked');
  }

  /** kube-proxy's table of the family, or undefined when the host has none. */
  async readTable(family: IPFamily): Promise<NftTable | undefined> {
    const argv = ['nft', '-j', 'list', 'table', nftFamily(family), KUBE_PROXY_TABLE];
    const r = await this.run(argv);
    if (r.code !== 0) {
      if (/No such file or directory/.test(r.stderr)) return undefined;
      throw nftFailure(argv, r, 'the table could not be read');
    }
    return parseJsonListing(r.stdout).find((t) => t.table.name === KUBE_PROXY_TABLE)?.table;
  }

  /** `nft list ruleset` text: every table on the host. */
  async listRuleset(): Promise<string> {
    const argv = ['nft', 'list', 'ruleset'];
    const r = await this.run(argv);
    if (r.code !== 0) throw nftFailure(argv, r, 'the ruleset could not be read');
    return r.stdout;
  }

  /** Deletes kube-proxy's table of the family if present (CleanupLeftovers). */
  async deleteTable(family: IPFamily): Promise<void> {
    await this.run(['nft', 'delete', 'table', nftFamily(family), KUBE_PROXY_TABLE]);
  }
}
