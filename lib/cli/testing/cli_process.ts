/**
 * Test support: runs `dedl-dask` as a child process (`deno run -A lib/cli/main.ts …`) the way a
 * user's shell does, with a private cache folder so that no token cache ever touches the real
 * home, and with a deadline so that a hanging command fails the test instead of blocking it.
 * @module
 */
import { fileURLToPath } from "node:url";

/** The CLI's entry module. */
export const CLI_MAIN: string = fileURLToPath(new URL("../main.ts", import.meta.url));

/** What one run printed and how it ended. */
export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  /** stderr without deno's own `Download …` lines (a cold cache prints them). */
  readonly stderr: string;
}

/** Settings of one run. */
export interface CliRunOptions {
  /** Text piped to stdin (e.g. a password for `--password-stdin`); default: no stdin. */
  readonly stdin?: string;
  /**
   * The cache folder (`XDG_CACHE_HOME`) of the child, where a token cache would go. Default for
   * {@link runCli}: a temporary one, removed afterwards.
   */
  readonly cacheHome?: string;
  /** More environment variables. */
  readonly env?: Record<string, string>;
  /** Deadline; the child is killed after it. Default 180 s. */
  readonly timeoutMs?: number;
  /** Runs this module instead of the CLI's source entry (e.g. a bundle). */
  readonly entry?: string;
  /**
   * Gives the child a terminal as stderr (a pseudo-terminal, through `tty_stderr.py` and the
   * machine's `python3`), as when a user runs it in a shell; its stderr is what that terminal
   * received, control sequences included.
   */
  readonly stderrTerminal?: boolean;
}

const TTY_STDERR = fileURLToPath(new URL("./tty_stderr.py", import.meta.url));

let denoDir: string | undefined;

/** The deno cache the tests use, kept for the child so that it needs no downloads. */
async function currentDenoDir(): Promise<string> {
  if (denoDir) return denoDir;
  const info = await new Deno.Command(Deno.execPath(), { args: ["info", "--json"] }).output();
  denoDir = JSON.parse(new TextDecoder().decode(info.stdout)).denoDir as string;
  return denoDir;
}

/** The child's environment: ours without dedl-dask's variables, plus a private cache home. */
async function childEnv(
  options: CliRunOptions & { cacheHome: string },
): Promise<Record<string, string>> {
  const env = Deno.env.toObject();
  for (const name of Object.keys(env)) if (name.startsWith("DEDL_DASK_")) delete env[name];
  return {
    ...env,
    DENO_DIR: await currentDenoDir(),
    XDG_CACHE_HOME: options.cacheHome,
    NO_COLOR: "1",
    ...options.env,
  };
}

// The child runs with NO_COLOR, so these lines carry no colour codes.
const DOWNLOAD_LINE = /^(Download|Initialize)\b.*\n?/gm;

/**
 * Starts `dedl-dask <args>` with stdout and stderr piped; `options.stdin` is written and closed.
 */
export async function spawnCli(
  args: readonly string[],
  options: CliRunOptions & { cacheHome: string },
): Promise<Deno.ChildProcess> {
  const command = [Deno.execPath(), "run", "-A", options.entry ?? CLI_MAIN, ...args];
  if (options.stderrTerminal) command.unshift("python3", TTY_STDERR);
  const child = new Deno.Command(command[0], {
    args: command.slice(1),
    env: await childEnv(options),
    clearEnv: true,
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (options.stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(options.stdin));
    await writer.close();
  }
  return child;
}

/** Runs `dedl-dask <args>` and collects its output. */
export async function runCli(
  args: readonly string[],
  options: CliRunOptions = {},
): Promise<CliResult> {
  const ownCache = options.cacheHome === undefined
    ? await Deno.makeTempDir({ prefix: "dedl-cli-cache-" })
    : undefined;
  const child = await spawnCli(args, { ...options, cacheHome: options.cacheHome ?? ownCache! });
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch {
      // already gone
    }
  }, options.timeoutMs ?? 180_000);
  try {
    const { code, stdout, stderr } = await child.output();
    const text = new TextDecoder();
    return {
      code,
      stdout: text.decode(stdout),
      stderr: withoutDownloads(text.decode(stderr)),
    };
  } finally {
    clearTimeout(timer);
    if (ownCache) await Deno.remove(ownCache, { recursive: true });
  }
}

/** `text` without deno's `Download …` lines. */
export function withoutDownloads(text: string): string {
  return text.replace(DOWNLOAD_LINE, "");
}

/**
 * Checks that a failed run said why in exactly one line `dedl-dask: …` on stderr and returns
 * that line.
 */
export function oneErrorLine(result: CliResult): string {
  const lines = result.stderr.trimEnd().split("\n");
  if (lines.length !== 1 || !lines[0].startsWith("dedl-dask: ")) {
    throw new Error(`expected one 'dedl-dask: …' line on stderr, got:\n${result.stderr}`);
  }
  return lines[0];
}

/** Something shaped like a JWT (an access or refresh token). */
export const JWT_SHAPE = /eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}/;
