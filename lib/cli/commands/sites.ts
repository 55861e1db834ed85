/**
 * `dedl-dask sites` and `dedl-dask options <site>`.
 * @module
 */
import { booleanFlag, type Command, type CommandInput } from "../command_line/command.ts";
import { openSession } from "../session/command_session.ts";
import { ExitCode, firstExitCode } from "../output/exit_codes.ts";
import { LOGIN_FLAGS } from "../session/command_login.ts";
import { Output } from "../output/output.ts";
import { SITE_FLAGS } from "../session/site_source.ts";

/** `dedl-dask sites`. */
export const sitesCommand: Command = {
  name: "sites",
  summary: "list the sites with their availability and gateway versions",
  usage: ["sites [--sites <file|URL>] [--only <site,…>]"],
  description:
    "Asks every site's dask-gateway for its version (no login needed) and shows which answered.\n" +
    "Exits with 4 when a site did not answer (the table still lists every site).",
  flags: SITE_FLAGS,
  positionals: { min: 0, max: 0 },
  async run(input: CommandInput): Promise<number> {
    const out = new Output(booleanFlag(input, "json"), booleanFlag(input, "debug"));
    await using session = await openSession(input, { login: false });
    const status = session.mc.status();
    out.result(
      status.map((s) => ({
        site: s.site,
        name: s.name,
        address: s.address,
        available: s.available,
        version: s.version ?? null,
        error: s.error ?? null,
      })),
      ["SITE", "NAME", "ADDRESS", "STATUS", "VERSION"],
      status.map((s) => [
        s.site,
        s.name,
        s.address,
        s.available ? "up" : "DOWN",
        s.version ?? "-",
      ]),
    );
    for (const failure of session.unavailable) out.error(failure);
    return firstExitCode(session.unavailable);
  },
};

/** `dedl-dask options <site>`. */
export const optionsCommand: Command = {
  name: "options",
  summary: "show the cluster options a site offers (for 'new')",
  usage: ["options <site>"],
  description:
    "Shows the cluster options the site's gateway offers to you, with their types, allowed\n" +
    "values and defaults, and the flag that sets each with 'dedl-dask new'.",
  flags: { ...SITE_FLAGS, ...LOGIN_FLAGS },
  positionals: { min: 1, max: 1 },
  async run(input: CommandInput): Promise<number> {
    const out = new Output(booleanFlag(input, "json"), booleanFlag(input, "debug"));
    const site = input.positionals[0];
    await using session = await openSession(input, { sites: [site] });
    if (session.unavailable.length > 0) throw session.unavailable[0];
    const spec = await session.mc.gateway(site).clusterOptions();
    out.result(
      spec.fields.map((f) => ({
        field: f.field,
        flag: optionFlag(f.field),
        label: f.label,
        spec: f.spec,
        allowed: spec.allowed(f.field),
        default: f.default,
      })),
      ["FLAG", "LABEL", "ALLOWED", "DEFAULT"],
      spec.fields.map((f) => [
        optionFlag(f.field),
        f.label,
        spec.allowed(f.field),
        JSON.stringify(f.default),
      ]),
    );
    return ExitCode.ok;
  },
};

/** The `new` flag that sets a cluster option: `worker_cores` → `--worker-cores`. */
export function optionFlag(field: string): string {
  return `--${field.replaceAll("_", "-")}`;
}
