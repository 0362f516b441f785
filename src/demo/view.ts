// Where the demo writes. On a terminal, a block of lines (the table) is redrawn in place — the
// cursor goes back up over the previous block and clears to the end of the screen — and log lines
// appear above it, like `kubectl get -w` without the scrolling. Elsewhere (a pipe, CI), log lines
// and each changed block are appended as plain text.

export type Out = { write(s: string): unknown };

const ESC = "\x1b[";
/** Cursor up `n` lines to column 1, then clear to the end of the screen. */
export const eraseUp = (n: number): string => `${n > 0 ? `${ESC}${n}A` : ""}\r${ESC}J`;

/** Cuts a line to `width` display columns (ASCII and the ellipsis count as one each). */
export const cutToWidth = (line: string, width: number): string =>
  [...line].length > width ? `${[...line].slice(0, Math.max(0, width - 1)).join("")}…` : line;

export class LiveView {
  private drawn = 0;
  private block: string[] = [];
  private lastPlain = "";

  private readonly out: Out;
  private readonly tty: boolean;
  /** Terminal width; lines are cut to it so that each takes exactly one row. */
  private readonly columns: () => number;

  constructor(out: Out, tty: boolean, columns: () => number = () => 120) {
    this.out = out;
    this.tty = tty;
    this.columns = columns;
  }

  /** A line that stays (announcements, progress). */
  log(line: string): void {
    if (!this.tty) {
      this.out.write(`${line}\n`);
      return;
    }
    this.out.write(`${eraseUp(this.drawn)}${cutToWidth(line, this.columns())}\n${this.render()}`);
  }

  /**
   * The block shown below the log. On a terminal it replaces the previous one; otherwise it is
   * appended, after `header`, only when `key` (the part worth comparing, without timestamps) changed.
   */
  show(block: string[], opts: { header?: string; key?: string } = {}): void {
    this.block = block;
    if (this.tty) {
      this.out.write(`${eraseUp(this.drawn)}${this.render()}`);
      return;
    }
    const key = opts.key ?? block.join("\n");
    if (key === this.lastPlain) return;
    this.lastPlain = key;
    this.out.write(`${opts.header ? `${opts.header}\n` : ""}${block.join("\n")}\n`);
  }

  /** Leaves the last block on screen; later output starts below it. */
  close(): void {
    this.drawn = 0;
    this.block = [];
  }

  private render(): string {
    const width = this.columns();
    this.drawn = this.block.length;
    return this.block.map((l) => `${cutToWidth(l, width)}\n`).join("");
  }
}
