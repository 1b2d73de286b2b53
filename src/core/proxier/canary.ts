// kube-proxy's iptables monitor (pkg/util/iptables Monitor, started by the iptables proxier with
// KUBE-PROXY-CANARY in mangle, nat and filter, checked every syncPeriod): something that flushes the
// tables (a firewall reload, `iptables -F`) takes kube-proxy's rules with it, and nothing else would tell
// the proxier. The canary chains are created; every interval the first table's canary is looked up; when
// it is gone, the others are polled (every 100 ms, up to 5 s) until they are gone too, so the reload does
// not start half-way through a flush; then a full sync is forced and the canaries made again. The
// nftables and ipvs proxiers start no such monitor (the nftables proxier rewrites its own table in full
// every syncPeriod). The clock and the host are injected: tested without sleeping.
import type { IPFamily } from '../modes/types.js';
import type { Clock, TimerHandle } from './clock.js';

export const CANARY_CHAIN = 'KUBE-PROXY-CANARY';
/** mangle first: the table whose canary is watched. */
export const CANARY_TABLES = ['mangle', 'nat', 'filter'] as const;
const FLUSH_POLL_MS = 100;
const FLUSH_TIMEOUT_MS = 5_000;

/** The host side of the canaries (apply.ts gives one for the iptables mode). */
export interface CanaryHost {
  exists(family: IPFamily, table: string): Promise<boolean>;
  ensure(family: IPFamily, table: string): Promise<void>;
  remove(family: IPFamily, table: string): Promise<void>;
}

export class CanaryMonitor {
  private timer: TimerHandle | undefined;
  private stopped = true;
  private running: Promise<void> = Promise.resolve();

  constructor(
    private readonly host: CanaryHost,
    private readonly clock: Clock,
    private readonly intervalMs: number,
    private readonly families: () => IPFamily[],
    /** Called once per detected flush (the proxier forces a full sync). */
    private readonly onFlushed: (family: IPFamily) => void,
    private readonly log: (m: string) => void,
  ) {}

  start(): void {
    this.stopped = false;
    this.running = this.ensureAll().then(() => this.schedule(this.intervalMs));
  }

  /** Stops watching and removes the canaries (as kube-proxy does when its monitor stops). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) this.clock.clearTimer(this.timer);
    this.timer = undefined;
    await this.running;
    for (const f of this.families()) for (const t of CANARY_TABLES) await this.host.remove(f, t).catch(() => undefined);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = this.clock.setTimer(ms, () => {
      this.timer = undefined;
      this.running = this.check().then(() => this.schedule(this.intervalMs));
    });
  }

  private async ensureAll(): Promise<void> {
    for (const f of this.families()) {
      for (const t of CANARY_TABLES) {
        try {
          await this.host.ensure(f, t);
        } catch (e) {
          this.log(`could not create the canary chain ${CANARY_CHAIN} in ${f} ${t}: ${(e as Error).message}`);
        }
      }
    }
  }

  /** One look at the watched canary of every family; a flush found forces a full sync. */
  async check(): Promise<void> {
    for (const f of this.families()) {
      if (this.stopped) return;
      let present: boolean;
      try {
        present = await this.host.exists(f, CANARY_TABLES[0]);
      } catch {
        continue; // the tool failed (a held lock): look again next interval
      }
      if (present) continue;
      if (!(await this.othersGone(f))) this.log(`the ${f} iptables tables were flushed only in part (the ${CANARY_CHAIN} chains are not all gone); reloading anyway.`);
      this.log(`the ${f} iptables tables were flushed (${CANARY_CHAIN} is gone from ${CANARY_TABLES[0]}); forcing a full sync.`);
      this.onFlushed(f);
    }
    await this.ensureAll();
  }

  private async othersGone(f: IPFamily): Promise<boolean> {
    const deadline = this.clock.now() + FLUSH_TIMEOUT_MS;
    for (;;) {
      let gone = true;
      for (const t of CANARY_TABLES.slice(1)) if (await this.host.exists(f, t).catch(() => true)) gone = false;
      if (gone) return true;
      if (this.clock.now() >= deadline || this.stopped) return false;
      await new Promise<void>((r) => this.clock.setTimer(FLUSH_POLL_MS, r));
    }
  }
}
