/**
 * `dedl-dask run script.ts`: runs a user script (see `run_script.ts` for its contract) with a
 * logged-in MultiCluster and stops every cluster it started through it, whatever happens.
 * @module
 */
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { booleanFlag, type Command, type CommandInput } from "../command_line/command.ts";
import { openSession, stopClustersOnInterrupt } from "../session/command_session.ts";
import { InvalidScript, SiteFailure } from "../errors.ts";
import { ExitCode, firstExitCode } from "../output/exit_codes.ts";
import { LOGIN_FLAGS } from "../session/command_login.ts";
import { Output } from "../output/output.ts";
import { TerminalProgress } from "../output/progress_bars.ts";
import type { CliScript } from "./run_script.ts";
import { SITE_FLAGS } from "../session/site_source.ts";

/** `dedl-dask run`. */
export const runCommand: Command = {
  name: "run",
  summary: "run a script with a logged-in MultiCluster; stop its clusters afterwards",
  usage: ["run <script.ts> [-- <script args…>]"],
  description:
    "Loads the script, logs in, connects to the sites and calls the script's default export,\n" +
    "'async function (mc, { auth, args }) { … }', with the MultiCluster. Its return value is\n" +
    "printed (JSON with --json). Its computations show a progress bar per site on stderr\n" +
    "(plain lines when stderr is not a terminal). Every cluster started through mc is stopped\n" +
    "when the script returns, throws, or on Ctrl-C. A failure of the script exits with 1 (or\n" +
    "the code of the error it threw, e.g. 4 for an unavailable site).",
  flags: { ...SITE_FLAGS, ...LOGIN_FLAGS },
  passThrough: { help: "arguments passed to the script as args" },
  positionals: { min: 1, max: 1 },
  async run(input: CommandInput): Promise<number> {
    const out = new Output(booleanFlag(input, "json"), booleanFlag(input, "debug"));
    const script = input.positionals[0];
    const main = await loadScript(script);
    // Every compute of the script shows a bar per site on stderr (plain lines when stderr is
    // not a terminal); stdout keeps only the result.
    const bars = new TerminalProgress();
    await using session = await openSession(input, { onComputeProgress: bars.onProgress });
    for (const failure of session.unavailable) out.error(failure);
    let result: unknown;
    let failure: unknown;
    using _interrupt = stopClustersOnInterrupt(session);
    try {
      result = await main(session.mc, { auth: session.login!.auth, args: input.passThrough });
    } catch (e) {
      failure = e;
    }
    const stops = await session.mc.shutdown();
    const stopFailures = stops.flatMap((o) => o.ok ? [] : [new SiteFailure(o.site, o.error)]);
    if (failure !== undefined) {
      out.error(failure);
    } else if (result !== undefined) {
      if (out.json) out.data(result);
      else console.log(typeof result === "string" ? result : Deno.inspect(result, { depth: 8 }));
    }
    for (const f of stopFailures) out.error(f);
    if (failure !== undefined) return firstExitCode([failure]);
    return stopFailures.length > 0 ? firstExitCode(stopFailures) : ExitCode.ok;
  },
};

async function loadScript(script: string): Promise<CliScript> {
  const url = /^(https?|file):/.test(script) ? script : pathToFileURL(resolve(script)).href;
  let module: { default?: unknown };
  try {
    module = await import(url);
  } catch (e) {
    throw new InvalidScript(script, (e as Error).message, { cause: e });
  }
  if (typeof module.default !== "function") {
    throw new InvalidScript(script, "it has no default-exported function");
  }
  return module.default as CliScript;
}
