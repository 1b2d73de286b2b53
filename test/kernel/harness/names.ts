// Every namespace this harness makes is named `<prefix><pid>-<counter>-<role>`, e.g. `pm-4242-1-node`.
// The pid keeps parallel test files (one process each) apart; the counter keeps several topologies of
// one file apart; the owner pid also lets sweepStale tell a crashed run's leftovers from a live run's.

export const HARNESS_PREFIX = 'pm-';

let counter = 0;

/** A fresh `pm-<pid>-<n>` for one topology of this process. */
export function newRunPrefix(prefix: string = HARNESS_PREFIX): string {
  counter += 1;
  return `${prefix}${process.pid}-${counter}`;
}

/** The pid that made a namespace called `<prefix><pid>-…`, or undefined when the name is not of that form. */
export function ownerPid(name: string, prefix: string = HARNESS_PREFIX): number | undefined {
  if (!name.startsWith(prefix)) return undefined;
  const m = /^(\d+)-/.exec(name.slice(prefix.length));
  return m ? Number(m[1]) : undefined;
}
