// kube-proxy's BoundedFrequencyRunner (k8s.io/kubernetes/pkg/util/async): runs `fn` when asked, but never
// twice within minInterval, at least once every maxInterval, and again after a failure when retryAfter
// asks. Runs never overlap: a request during a run is remembered and served after it (no earlier than
// minInterval after the run began). Upstream also lets a burst of runs through; kube-proxy passes a
// burst of 2 to iptables, 1 otherwise; here the burst is 1 (no two runs within minInterval).
import type { Clock, TimerHandle } from './clock.js';

export interface BoundedFrequencyOptions {
  minIntervalMs: number;
  maxIntervalMs: number;
}

export class BoundedFrequencyRunner {
  private timer: TimerHandle | undefined;
  private timerAt = Infinity;
  private running = false;
  private requested = false;
  private lastRun = -Infinity;
  private stopped = true;
  private idle: Promise<void> = Promise.resolve();

  constructor(
    private readonly fn: () => Promise<void>,
    private readonly clock: Clock,
    private readonly opts: BoundedFrequencyOptions,
  ) {}

  /** Starts the loop with a run now. */
  start(): void {
    this.stopped = false;
    this.schedule(this.clock.now());
  }

  /** Stops scheduling; resolves when a run in progress has finished. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.cancel();
    await this.idle;
  }

  /** Asks for a run as soon as minInterval allows. */
  run(): void {
    if (this.stopped) return;
    if (this.running) {
      this.requested = true;
      return;
    }
    this.schedule(Math.max(this.clock.now(), this.lastRun + this.opts.minIntervalMs));
  }

  /** Asks for a run after `ms` (a retry), unless one is due sooner. */
  retryAfter(ms: number): void {
    if (this.stopped) return;
    this.schedule(Math.max(this.clock.now() + ms, this.lastRun + this.opts.minIntervalMs));
  }

  /** When the next run is due (ms since the epoch), Infinity when none is. */
  nextRunAt(): number {
    return this.timerAt;
  }

  private schedule(at: number): void {
    if (this.stopped || at >= this.timerAt) return;
    this.cancel();
    this.timerAt = at;
    this.timer = this.clock.setTimer(at - this.clock.now(), () => {
      this.timer = undefined;
      this.timerAt = Infinity;
      this.fire();
    });
  }

  private cancel(): void {
    if (this.timer) this.clock.clearTimer(this.timer);
    this.timer = undefined;
    this.timerAt = Infinity;
  }

  private fire(): void {
    if (this.stopped) return;
    if (this.running) {
      this.requested = true;
      return;
    }
    this.running = true;
    this.lastRun = this.clock.now();
    this.idle = this.fn()
      .catch(() => {})
      .finally(() => {
        this.running = false;
        this.schedule(this.lastRun + this.opts.maxIntervalMs);
        if (this.requested) {
          this.requested = false;
          this.run();
        }
      });
  }
}
