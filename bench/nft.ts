// Which nft the nftables bench cases run. By default `nft` from PATH, as the product runs it; with
// PM_BENCH_NFT=/path/to/nft (e.g. a newer nft built outside the repository) that binary's directory goes
// first on this bench process's PATH, so every `nft` the case spawns — through `ip netns exec`, which
// keeps the environment, and through the product's own runner — is that one. Each case runs in its own
// process (bench/run.ts), so the change ends with the case.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, delimiter, dirname, join, resolve } from 'node:path';

/** The tool a case runs: its `--version` line and where it came from. */
export interface BenchTool {
  /** e.g. "nftables v1.1.3 (Commodore Bullmoose #4), PM_BENCH_NFT=…" */
  label: string;
  /** Why the case cannot measure with it, when it cannot. */
  error?: string;
}

let chosen: BenchTool | undefined;

/** Puts PM_BENCH_NFT's nft first on PATH (once) and says which nft the case runs. */
export function benchNft(): BenchTool {
  if (chosen) return chosen;
  const asked = process.env.PM_BENCH_NFT;
  let from = 'nft from PATH';
  if (asked) {
    const path = resolve(asked);
    try {
      if (!statSync(path).isFile()) throw new Error('not a file');
      accessSync(path, constants.X_OK);
    } catch {
      return (chosen = { label: `PM_BENCH_NFT=${asked}`, error: `not measured: PM_BENCH_NFT=${asked} is not an executable file` });
    }
    let dir = dirname(path);
    if (basename(path) !== 'nft') {
      // PATH finds programs by name: a link named nft in a directory of its own
      dir = mkdtempSync(join(tmpdir(), 'pm-bench-nft-'));
      symlinkSync(path, join(dir, 'nft'));
      const made = dir;
      process.on('exit', () => rmSync(made, { recursive: true, force: true }));
    }
    process.env.PATH = `${dir}${delimiter}${process.env.PATH ?? ''}`;
    from = `PM_BENCH_NFT=${asked}`;
  }
  return (chosen = versionLabel('nft', from));
}

/** `program --version`'s first line and where the program came from; why not, when it does not run. */
export function versionLabel(program: string, from: string): BenchTool {
  const v = spawnSync(program, ['--version'], { encoding: 'utf8' });
  const line = `${v.stdout ?? ''}`.split('\n')[0]!.trim();
  if (v.status !== 0 || !line) return { label: from, error: `not measured: ${from} does not run (${program} --version failed)` };
  return { label: `${line}, ${from}` };
}
