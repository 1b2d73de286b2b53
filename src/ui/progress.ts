// A single self-overwriting progress line on stderr, shown only when stderr is a terminal.
export class Progress {
  private shown = false;
  constructor(private readonly enabled = process.stderr.isTTY === true) {}

  update(text: string): void {
    if (!this.enabled) return;
    process.stderr.write(`\r\x1b[2K${text}`);
    this.shown = true;
  }

  done(): void {
    if (this.shown) process.stderr.write('\r\x1b[2K');
    this.shown = false;
  }
}
