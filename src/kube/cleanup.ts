// Everything a command creates in the cluster (today: --probe's hostNetwork probe pods) is registered here
// from the moment its create request is sent until it is deleted, so that an interrupt deletes it too.
// SIGINT or SIGTERM: stop, wait briefly for creates still in flight, delete what is registered, say so,
// and exit (130 after SIGINT, 143 after SIGTERM, as shells report a command ended by the signal). A
// second signal while that runs stops waiting: it names what is still left and the command that removes it.
export interface Created {
  /** "probe pod kube-system/proxymode-probe-x7k2p on node worker-1" */
  description: string;
  /** The command a person runs to remove it by hand. */
  removeWith: string;
  /** Deletes it; safe to call more than once. */
  remove: () => Promise<unknown>;
}

/** How long an interrupt waits for creates in flight and for the deletes, before it gives up and says what is left. */
export const INTERRUPT_CLEANUP_MS = 15_000;

class CleanupRegistry {
  private readonly created = new Map<number, Created>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private serial = 0;
  /** Set once a signal arrived: loops stop starting new work. */
  interrupted = false;

  /** Registers something created; the returned function unregisters it once it is deleted. */
  add(item: Created): () => void {
    const id = this.serial++;
    this.created.set(id, item);
    return () => this.created.delete(id);
  }

  /** A create request in flight: an interrupt waits for it, so the object it makes is registered and deleted too. */
  creating<T>(request: Promise<T>): Promise<T> {
    this.inFlight.add(request);
    const done = () => this.inFlight.delete(request);
    request.then(done, done);
    return request;
  }

  get pending(): Created[] {
    return [...this.created.values()];
  }

  get busy(): boolean {
    return this.created.size > 0 || this.inFlight.size > 0;
  }

  /** Deletes everything registered (after the creates in flight settle); returns what could not be deleted in time. */
  async removeAll(timeoutMs = INTERRUPT_CLEANUP_MS): Promise<Created[]> {
    const until = Date.now() + timeoutMs;
    const left = () => Math.max(0, until - Date.now());
    await withTimeout(Promise.allSettled([...this.inFlight]), left());
    const items = [...this.created.entries()];
    await withTimeout(
      Promise.allSettled(items.map(async ([id, item]) => {
        await item.remove();
        this.created.delete(id);
      })),
      left(),
    );
    return this.pending;
  }
}

export const cleanup = new CleanupRegistry();

/** The exit code after a signal: 128 + its number. */
export const SIGNAL_EXIT: Record<'SIGINT' | 'SIGTERM', number> = { SIGINT: 128 + 2, SIGTERM: 128 + 15 };

let installed = false;

/** Installs the SIGINT/SIGTERM handlers once per process. */
export function installInterruptHandlers(opts: { write?: (text: string) => void; exit?: (code: number) => void } = {}): void {
  if (installed) return;
  installed = true;
  const write = opts.write ?? ((t: string) => process.stderr.write(t));
  const exit = opts.exit ?? ((code: number) => process.exit(code));
  let cleaning = false;
  const onSignal = (signal: 'SIGINT' | 'SIGTERM') => {
    const code = SIGNAL_EXIT[signal];
    if (cleaning) {
      write(`\n${leftoverText(cleanup.pending)}\n`);
      exit(code);
      return;
    }
    cleanup.interrupted = true;
    if (!cleanup.busy) {
      exit(code);
      return;
    }
    cleaning = true;
    const n = cleanup.pending.length;
    write(`${process.stderr.isTTY ? '\r\x1b[2K' : ''}${signal === 'SIGINT' ? 'interrupted' : 'terminated'}: deleting what this command created${n ? ` (${n} object${n === 1 ? '' : 's'})` : ''} before exiting; press Ctrl-C again to stop waiting …\n`);
    cleanup.removeAll().then(
      (left) => {
        write(left.length ? `${leftoverText(left)}\n` : 'deleted everything this command created.\n');
        exit(code);
      },
      () => exit(code),
    );
  };
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));
}

/** What is still in the cluster and how to remove it, one sentence. */
export function leftoverText(left: Created[]): string {
  if (left.length === 0) return 'nothing this command created is left.';
  return `still left: ${left.map((c) => c.description).join(', ')}; remove ${left.length === 1 ? 'it' : 'them'} with: ${left.map((c) => c.removeWith).join(' && ')}`;
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(undefined), ms);
    p.then((v) => {
      clearTimeout(timer);
      resolve(v);
    }, () => {
      clearTimeout(timer);
      resolve(undefined);
    });
  });
}
