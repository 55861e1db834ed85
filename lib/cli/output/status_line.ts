/**
 * A one-line spinner on stderr for waits (cluster start, stopping), drawn only when stderr is a
 * terminal, so that pipes, logs and `--json` consumers never see control characters.
 * @module
 */

const FRAMES = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
const FRAME_MS = 100;

/** A spinner line; `text` may be a function, re-read at every frame (e.g. elapsed times). */
export class StatusLine {
  readonly #enabled: boolean;
  readonly #encoder = new TextEncoder();
  #text: () => string = () => "";
  #timer: ReturnType<typeof setInterval> | undefined;
  #frame = 0;

  /** `enabled` defaults to whether stderr is a terminal. */
  constructor(enabled: boolean = Deno.stderr.isTerminal()) {
    this.#enabled = enabled;
  }

  /** Shows `text` (starting the spinner on first use). */
  set(text: string | (() => string)): void {
    this.#text = typeof text === "string" ? () => text : text;
    if (!this.#enabled) return;
    if (this.#timer === undefined) {
      const timer = setInterval(() => this.#draw(), FRAME_MS);
      // The spinner must never keep the process alive on its own.
      Deno.unrefTimer(timer);
      this.#timer = timer;
    }
    this.#draw();
  }

  /** Removes the line; the cursor is back at the start of an empty line. */
  clear(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    if (this.#enabled) this.#write("\r\x1b[K");
  }

  #draw(): void {
    const frame = FRAMES[this.#frame++ % FRAMES.length];
    let line = `${frame} ${this.#text()}`;
    const columns = terminalColumns();
    if ([...line].length >= columns) line = [...line].slice(0, columns - 2).join("") + "…";
    this.#write(`\r${line}\x1b[K`);
  }

  #write(text: string): void {
    try {
      Deno.stderr.writeSync(this.#encoder.encode(text));
    } catch {
      // A closed terminal must not turn a progress display into a failure.
    }
  }
}

function terminalColumns(): number {
  try {
    return Deno.consoleSize().columns || 80;
  } catch {
    return 80;
  }
}
