// Which iptables the iptables-mode bench cases run. By default the iptables-nft-* programs on PATH, as the
// product runs them; with PM_BENCH_IPTABLES=/path/to/sbin (a directory holding iptables-nft-restore,
// iptables-nft, iptables-nft-save … as one build installs them, e.g. a newer iptables kept outside the
// repository) that directory goes first on this bench process's PATH, so every iptables command the case
// spawns — through `ip netns exec`, which keeps the environment, and through the product's own runner — is
// that build's. Each case runs in its own process (bench/run.ts), so the change ends with the case.
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';
import { type BenchTool, versionLabel } from './nft.js';

let chosen: BenchTool | undefined;

/** Puts PM_BENCH_IPTABLES's directory first on PATH (once) and says which iptables the case runs. */
export function benchIptables(): BenchTool {
  if (chosen) return chosen;
  const asked = process.env.PM_BENCH_IPTABLES;
  let from = 'iptables-nft from PATH';
  if (asked) {
    let dir = resolve(asked);
    try {
      // a program in the directory (…/sbin/iptables-nft-restore) stands for its directory
      if (!statSync(dir).isDirectory()) dir = dirname(dir);
      accessSync(join(dir, 'iptables-nft-restore'), constants.X_OK);
    } catch {
      return (chosen = { label: `PM_BENCH_IPTABLES=${asked}`, error: `not measured: PM_BENCH_IPTABLES=${asked} holds no executable iptables-nft-restore` });
    }
    process.env.PATH = `${dir}${delimiter}${process.env.PATH ?? ''}`;
    from = `PM_BENCH_IPTABLES=${asked}`;
  }
  return (chosen = versionLabel('iptables-nft', from));
}
