/**
 * `dedl-dask scale` and `dedl-dask adapt`: the worker count of one cluster.
 * @module
 */
import type { ScaleResult } from "../../gateway/mod.ts";
import {
  booleanFlag,
  type Command,
  type CommandInput,
  parseCount,
  stringFlag,
} from "../command_line/command.ts";
import { aboutCluster, openSession } from "../session/command_session.ts";
import { InvalidCommandLine } from "../errors.ts";
import { ExitCode } from "../output/exit_codes.ts";
import { LOGIN_FLAGS } from "../session/command_login.ts";
import { Output } from "../output/output.ts";
import { SITE_FLAGS } from "../session/site_source.ts";

const FLAGS = { sites: SITE_FLAGS.sites, ...LOGIN_FLAGS };

/** Prints what the gateway did; a capped request is a notice, not a failure. */
function report(out: Output, data: Record<string, unknown>, result: ScaleResult, done: string) {
  if (out.json) out.data({ ...data, ok: result.ok, message: result.message });
  else out.line(done);
  if (!result.ok && result.message) out.note(`the gateway changed the request: ${result.message}`);
}

/** `dedl-dask scale`. */
export const scaleCommand: Command = {
  name: "scale",
  summary: "ask a cluster for a fixed number of workers",
  usage: ["scale <site> <name> <n>"],
  description:
    "Asks the cluster for n workers (adaptive scaling stops). The gateway may cap the number at\n" +
    "its limit; it then says so on stderr and the command still succeeds.",
  flags: FLAGS,
  positionals: { min: 3, max: 3 },
  async run(input: CommandInput): Promise<number> {
    const out = new Output(booleanFlag(input, "json"), booleanFlag(input, "debug"));
    const [site, name, text] = input.positionals;
    const count = parseCount(text, "<n>", "scale");
    await using session = await openSession(input, { sites: [site] });
    if (session.unavailable.length > 0) throw session.unavailable[0];
    const result = await aboutCluster(
      site,
      name,
      () => session.mc.gateway(site).scaleCluster(name, count),
    );
    report(
      out,
      { site, name, workers: count },
      result,
      `Asked cluster ${name} at ${site} for ${count} workers.`,
    );
    return ExitCode.ok;
  },
};

/** `dedl-dask adapt`. */
export const adaptCommand: Command = {
  name: "adapt",
  summary: "let a cluster scale itself between bounds",
  usage: ["adapt <site> <name> [--min <n>] [--max <n>]", "adapt <site> <name> --off"],
  description:
    "Lets the cluster's scheduler choose its number of workers between --min (default 0) and\n" +
    "--max (default: the gateway's limit), or turns that off (--off; the workers stay).",
  flags: {
    min: { type: "string", value: "<n>", help: "fewest workers (default 0)" },
    max: { type: "string", value: "<n>", help: "most workers (default: the gateway's limit)" },
    off: { type: "boolean", help: "stop adaptive scaling" },
    ...FLAGS,
  },
  positionals: { min: 2, max: 2 },
  async run(input: CommandInput): Promise<number> {
    const out = new Output(booleanFlag(input, "json"), booleanFlag(input, "debug"));
    const [site, name] = input.positionals;
    const bound = (flag: string) => {
      const text = stringFlag(input, flag);
      return text === undefined ? undefined : parseCount(text, `--${flag}`, "adapt");
    };
    const minimum = bound("min");
    const maximum = bound("max");
    const off = booleanFlag(input, "off");
    if (off && (minimum !== undefined || maximum !== undefined)) {
      throw new InvalidCommandLine("--off takes no --min/--max", "adapt");
    }
    if (minimum !== undefined && maximum !== undefined && minimum > maximum) {
      throw new InvalidCommandLine(`--min ${minimum} is above --max ${maximum}`, "adapt");
    }
    await using session = await openSession(input, { sites: [site] });
    if (session.unavailable.length > 0) throw session.unavailable[0];
    const result = await aboutCluster(
      site,
      name,
      () =>
        session.mc.gateway(site).adaptCluster(name, {
          ...(minimum !== undefined ? { minimum } : {}),
          ...(maximum !== undefined ? { maximum } : {}),
          active: !off,
        }),
    );
    const bounds = `${minimum ?? 0}..${maximum ?? "the gateway's limit"}`;
    report(
      out,
      { site, name, minimum: minimum ?? null, maximum: maximum ?? null, active: !off },
      result,
      off
        ? `Adaptive scaling of cluster ${name} at ${site} is off.`
        : `Cluster ${name} at ${site} scales itself between ${bounds} workers.`,
    );
    return ExitCode.ok;
  },
};
