/**
 * Test helper: runs an example as a program of its own, the way its users run it
 * (`deno run -A examples/<name>.ts …`), and returns what it printed, whatever its exit.
 * @module
 */
import { fileURLToPath } from "node:url";

/** What an example run printed, and how it ended. */
export interface ExampleRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `examples/<file>` with `args`; killed after `timeoutMs` (default 240 s). */
export async function runExample(
  file: string,
  args: readonly string[],
  timeoutMs = 240_000,
): Promise<ExampleRun> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", fileURLToPath(new URL(`../${file}`, import.meta.url)), ...args],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(timeoutMs),
  }).output();
  const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return { code: out.code, stdout: text(out.stdout), stderr: text(out.stderr) };
}

/** The assertion message of a run that should have succeeded: its output's tail. */
export function failedRun(run: ExampleRun): string {
  return `exit ${run.code}\n${run.stdout.slice(-3000)}\n${run.stderr.slice(-3000)}`;
}
