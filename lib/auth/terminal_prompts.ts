/**
 * The terminal side of interactive logins, for programs that choose it: reading a password (or
 * a one-time code) without echo, and showing a device login's URL and code. They are the
 * defaults of `OidcAuth.password`, `OidcAuth.desp` and `OidcAuth.deviceCode` when no `password`,
 * `prompt`, `otp` or `onPrompt` is given; nothing else in the library writes to the terminal.
 * @module
 */
import { PasswordEntryCancelled, PasswordUnavailable } from "./errors.ts";
import type { DevicePrompt } from "./identity_provider.ts";

const ENTER_CR = 0x0d;
const ENTER_LF = 0x0a;
const CTRL_C = 0x03;
const CTRL_D = 0x04;
const CTRL_U = 0x15;
const BACKSPACE = 0x08;
const DELETE = 0x7f;

/** Key presses of a password being typed, as raw terminal bytes. */
export class PasswordLine {
  #bytes: number[] = [];
  #done = false;

  /** True once Enter was pressed. */
  get done(): boolean {
    return this.#done;
  }

  /**
   * Applies raw terminal bytes: Enter ends the line, Backspace/Delete removes one character,
   * Ctrl-U clears the line, Ctrl-C (or Ctrl-D on an empty line) throws
   * {@linkcode PasswordEntryCancelled}. Bytes after Enter are ignored.
   */
  feed(chunk: Uint8Array): void {
    for (const byte of chunk) {
      if (this.#done) return;
      switch (byte) {
        case ENTER_CR:
        case ENTER_LF:
          this.#done = true;
          break;
        case CTRL_C:
          this.#clear();
          throw new PasswordEntryCancelled();
        case CTRL_D:
          if (this.#bytes.length === 0) throw new PasswordEntryCancelled();
          break;
        case CTRL_U:
          this.#clear();
          break;
        case BACKSPACE:
        case DELETE:
          // Drop one UTF-8 character: its continuation bytes (10xxxxxx), then its lead byte.
          while (this.#bytes.length > 0 && (this.#bytes[this.#bytes.length - 1] & 0xc0) === 0x80) {
            this.#bytes.pop();
          }
          this.#bytes.pop();
          break;
        default:
          this.#bytes.push(byte);
      }
    }
  }

  /** The password typed so far; the buffer is wiped. */
  take(): string {
    const text = new TextDecoder().decode(new Uint8Array(this.#bytes));
    this.#clear();
    return text;
  }

  #clear(): void {
    this.#bytes.fill(0);
    this.#bytes = [];
  }
}

/**
 * Asks `question` on stderr and reads a password from the terminal with echo off (raw mode),
 * until Enter. Throws {@linkcode PasswordUnavailable} when stdin is not a terminal and
 * {@linkcode PasswordEntryCancelled} on Ctrl-C.
 */
export async function readPasswordFromTerminal(question: string): Promise<string> {
  if (!Deno.stdin.isTerminal()) throw new PasswordUnavailable();
  const encoder = new TextEncoder();
  const line = new PasswordLine();
  const buffer = new Uint8Array(64);
  // Echo goes off before the question appears, so that nothing typed after it is shown.
  Deno.stdin.setRaw(true);
  try {
    await Deno.stderr.write(encoder.encode(question));
    while (!line.done) {
      const n = await Deno.stdin.read(buffer);
      if (n === null) throw new PasswordEntryCancelled();
      line.feed(buffer.subarray(0, n));
    }
    return line.take();
  } finally {
    buffer.fill(0);
    Deno.stdin.setRaw(false);
    await Deno.stderr.write(encoder.encode("\n"));
  }
}

/**
 * Shows a device login's verification URL and code as one line on stderr, e.g. `To log in, open
 * https://…/device?user_code=ABCD-EFGH and confirm the code ABCD-EFGH (valid for 10 min).`
 */
export function showDevicePromptOnTerminal(prompt: DevicePrompt): void {
  const url = prompt.verificationUriComplete ?? prompt.verificationUri;
  Deno.stderr.writeSync(
    new TextEncoder().encode(
      `To log in, open ${url} and confirm the code ${prompt.userCode} ` +
        `(valid for ${Math.round(prompt.expiresIn / 60)} min).\n`,
    ),
  );
}
