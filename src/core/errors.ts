// Errors that end a command. Each carries its documented exit code and a message that is
// one plain sentence saying what failed and what to do; the command layer prints only that sentence.

export const ExitCode = {
  OK: 0,
  /** The command ran and found what it was asked to look for (drift, a mismatch, a dropped packet). */
  PROBLEM: 1,
  /** Bad usage or bad input: flags, files, names. */
  USAGE: 2,
  /** The cluster or host could not be reached, or refused (auth, RBAC, timeout). */
  UNREACHABLE: 3,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export class ProxymodeError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Bad flags, a malformed file, an unknown name: exit 2. */
export class InputError extends ProxymodeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, ExitCode.USAGE, options);
  }
}

/** Cluster or host unreachable, refused, or timed out: exit 3. */
export class ClusterError extends ProxymodeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, ExitCode.UNREACHABLE, options);
  }
}

/** A feature whose engine is not built yet: exit 2, said plainly. */
export class NotImplementedError extends ProxymodeError {
  constructor(what: string) {
    super(`${what} is not implemented yet in this version of kubectl proxymode.`, ExitCode.USAGE);
  }
}
