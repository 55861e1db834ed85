/**
 * Where a command's username, password, one-time code and service-account secret come from:
 * the terminal (asked without echo), lines piped to stdin (`--password-stdin`, `--otp-stdin`),
 * or the environment, never the command line. Without a way to ask, the command is
 * {@link NotLoggedIn}.
 * @module
 */
import { readPasswordFromTerminal } from "../../auth/mod.ts";
import { InvalidCommandLine, NotLoggedIn } from "../errors.ts";

/** Environment variable with the default username. */
export const USERNAME_ENV = "DEDL_DASK_USERNAME";

/** Environment variable with a service account's secret (`--client-credentials`). */
export const CLIENT_SECRET_ENV = "DEDL_DASK_CLIENT_SECRET";

/** Environment variable with a service account's client id (`--client-credentials`). */
export const CLIENT_ID_ENV = "DEDL_DASK_CLIENT_ID";

/** Most stdin may hold for passwords, codes and secrets, so that a wrong pipe cannot fill memory. */
const MAX_STDIN_BYTES = 4096;

/** What the command line says about where credentials come from. */
export interface CredentialSources {
  /** DEDL's issuer, for questions and messages. */
  readonly issuer: string;
  /** `--password-stdin`: the password is the first line of stdin. */
  readonly passwordStdin: boolean;
  /** `--otp-stdin`: the one-time code is the line after the password. */
  readonly otpStdin: boolean;
}

/** The credentials of one command, each asked for when the login needs it. */
export class CredentialInput {
  readonly #sources: CredentialSources;
  readonly #stdin = new StdinLines();

  constructor(sources: CredentialSources) {
    this.#sources = sources;
  }

  /** A username typed on the terminal (the question names `issuer`). */
  async username(issuer: string): Promise<string> {
    if (this.#sources.passwordStdin) {
      throw new InvalidCommandLine(`--password-stdin needs --username (or $${USERNAME_ENV})`);
    }
    if (!Deno.stdin.isTerminal()) {
      throw new NotLoggedIn(`no remembered session at ${this.#sources.issuer} and no --username`);
    }
    const name = (await readLine(`Username at ${issuer}: `)).trim();
    if (!name) throw new InvalidCommandLine("a username is needed: pass --username");
    return name;
  }

  /** The password: stdin's first line with `--password-stdin`, else typed without echo. */
  async password(question: string): Promise<string> {
    if (this.#sources.passwordStdin) {
      return await this.#stdin.next("--password-stdin", "the password");
    }
    if (!Deno.stdin.isTerminal()) {
      throw new NotLoggedIn("a password is needed and stdin is not a terminal");
    }
    return await readPasswordFromTerminal(question);
  }

  /** The one-time code: stdin's next line with `--otp-stdin`, else typed without echo. */
  async oneTimeCode(question: string): Promise<string> {
    if (this.#sources.otpStdin) return await this.#stdin.next("--otp-stdin", "the one-time code");
    if (!Deno.stdin.isTerminal()) {
      throw new NotLoggedIn(
        "DESP asks for a one-time code and stdin is not a terminal: pass it with --otp-stdin",
      );
    }
    return await readPasswordFromTerminal(question);
  }

  /** A service account's secret: from the environment, else typed without echo, else stdin. */
  async clientSecret(clientId: string): Promise<string> {
    const fromEnv = Deno.env.get(CLIENT_SECRET_ENV);
    if (fromEnv) return fromEnv;
    if (Deno.stdin.isTerminal()) {
      return await readPasswordFromTerminal(
        `Secret of ${clientId} at ${this.#sources.issuer}: `,
      );
    }
    const secret = await this.#stdin.nextOrNone();
    if (!secret) {
      throw new NotLoggedIn(
        `the secret of service account ${clientId} is needed: set $${CLIENT_SECRET_ENV} or ` +
          `pipe it to stdin`,
      );
    }
    return secret;
  }
}

/**
 * The lines piped to stdin, read once when first needed: the password, then the one-time code,
 * or a service account's secret. The bytes read are wiped.
 */
class StdinLines {
  #lines: string[] | undefined;

  /** The next line; `flag` and `what` name it in errors. */
  async next(flag: string, what: string): Promise<string> {
    const line = await this.nextOrNone();
    if (!line) throw new InvalidCommandLine(`${flag}: stdin has no line with ${what}; pipe it`);
    return line;
  }

  /** The next line, or `undefined` (also for an empty line). */
  async nextOrNone(): Promise<string | undefined> {
    this.#lines ??= await readStdinLines();
    return this.#lines.shift() || undefined;
  }
}

async function readStdinLines(): Promise<string[]> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of Deno.stdin.readable) {
    chunks.push(chunk);
    size += chunk.length;
    if (size > MAX_STDIN_BYTES) {
      throw new InvalidCommandLine(
        `stdin holds more than ${MAX_STDIN_BYTES} bytes; pipe only the password, code or secret`,
      );
    }
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.length;
    c.fill(0);
  }
  const text = new TextDecoder().decode(bytes);
  bytes.fill(0);
  return text.split(/\r?\n/);
}

/** One line from the terminal, the question on stderr (stdout stays for results). */
async function readLine(question: string): Promise<string> {
  await Deno.stderr.write(new TextEncoder().encode(question));
  const buffer = new Uint8Array(1024);
  const bytes: number[] = [];
  for (;;) {
    const n = await Deno.stdin.read(buffer);
    if (n === null) break;
    const chunk = buffer.subarray(0, n);
    const end = chunk.indexOf(0x0a);
    bytes.push(...(end >= 0 ? chunk.subarray(0, end) : chunk));
    if (end >= 0 || bytes.length >= 1024) break;
  }
  return new TextDecoder().decode(new Uint8Array(bytes)).replace(/\r$/, "");
}
