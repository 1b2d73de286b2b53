// conntrack.ClearEntriesForIP as the userspace proxier calls it when a UDP service port goes away: the
// kernel's UDP flows to its cluster IP are deleted, so a client still sending to it is not held on a
// stale entry (a UDP "connection" never ends by itself while traffic flows).
import type { CommandRunner } from '../backend.js';

/** conntrack's message when nothing matched; upstream treats it as success. */
const NOTHING_TO_DELETE = '0 flow entries have been deleted';

/** The conntrack argv deleting UDP flows whose original destination is `ip` (IPv6 names its family). */
export function clearUDPEntriesArgv(ip: string): string[] {
  return ['conntrack', ...(ip.includes(':') ? ['-f', 'ipv6'] : []), '-D', '--orig-dst', ip, '-p', 'udp'];
}

/** Resolves the number of flows deleted; throws one sentence when conntrack is missing or fails. */
export async function clearUDPEntriesForIP(run: CommandRunner, ip: string): Promise<number> {
  const argv = clearUDPEntriesArgv(ip);
  const r = await run(argv);
  const said = `${r.stdout}\n${r.stderr}`;
  const n = /(\d+) flow entr(?:y|ies) ha(?:s|ve) been deleted/.exec(said);
  if (r.code === 0 || said.includes(NOTHING_TO_DELETE)) return n ? Number(n[1]) : 0;
  if (r.code === 127) throw new Error(`conntrack is not installed, so the UDP flows to ${ip} were not cleared`);
  throw new Error(`\`${argv.join(' ')}\` failed (exit ${r.code}): ${r.stderr.trim().split('\n')[0] ?? ''}`);
}
