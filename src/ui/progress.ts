// Progress on stderr. On a terminal: a single self-overwriting line. Elsewhere (a pipe, a CI log) `update`
// stays silent, and `say` — for waits long enough that silence looks like a hang, such as --probe's pods
// starting — writes whole lines, at most one every `everyMs` unless the phase changes.
export class Progress {
  private shown = false;
  private lastLineAt = 0;
  private lastPhase = '';

  constructor(
    private readonly enabled = process.stderr.isTTY === true,
    private readonly tty = process.stderr.isTTY === true,
    private readonly everyMs = 5000,
    private readonly now: () => number = Date.now,
  ) {}

  update(text: string): void {
    if (!this.enabled) return;
    process.stderr.write(`\r\x1b[2K${text}`);
    this.shown = true;
  }

  /** A progress line worth seeing even without a terminal. */
  say(text: string): void {
    if (this.tty) {
      this.update(text);
      return;
    }
    const phase = text.replace(/\d+/g, '#').slice(0, 20);
    const t = this.now();
    if (phase === this.lastPhase && t - this.lastLineAt < this.everyMs) return;
    this.lastPhase = phase;
    this.lastLineAt = t;
    process.stderr.write(`${text}\n`);
  }

  done(): void {
    if (this.shown) process.stderr.write('\r\x1b[2K');
    this.shown = false;
  }
}
