/**
 * `dedl-dask`: the command line of dedl-dask — log in at DEDL, see the sites, start, scale and
 * stop Dask clusters at several sites, and run scripts against them. A thin shell over the
 * library: every command is a few calls of `OidcAuth`, `MultiCluster` and `Gateway`.
 *
 *   deno run -A lib/cli/main.ts --help        (or: deno task cli --help)
 *
 * @module
 */
import { SITES_ENV } from "../multicluster/mod.ts";
import { adaptCommand, scaleCommand } from "./commands/scale.ts";
import { clustersCommand, dashboardCommand } from "./commands/clusters.ts";
import { type Command, commandHelp, parseCommandLine } from "./command_line/command.ts";
import { InvalidCommandLine } from "./errors.ts";
import { EXIT_CODES_HELP, ExitCode, exitCodeOf } from "./output/exit_codes.ts";
import { loginCommand, logoutCommand, whoamiCommand } from "./commands/login.ts";
import { CLIENT_SECRET_ENV, USERNAME_ENV } from "./session/credential_input.ts";
import { newCommand } from "./commands/new.ts";
import { Output } from "./output/output.ts";
import { runCommand } from "./commands/run.ts";
import { optionsCommand, sitesCommand } from "./commands/sites.ts";
import { stopCommand } from "./commands/stop.ts";
import denoJson from "../../deno.json" with { type: "json" };

export type { Command, CommandInput, Flag, Flags } from "./command_line/command.ts";

/** Every command, in the order of the help. */
export const COMMANDS: readonly Command[] = [
  loginCommand,
  logoutCommand,
  whoamiCommand,
  sitesCommand,
  optionsCommand,
  clustersCommand,
  newCommand,
  scaleCommand,
  adaptCommand,
  dashboardCommand,
  stopCommand,
  runCommand,
];

/** The version of dedl-dask. */
export const VERSION: string = denoJson.version;

/** The text of `dedl-dask --help`. */
export function mainHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    `dedl-dask ${VERSION}: Dask clusters at the DestinE Data Lake sites, from the terminal`,
    "",
    "Usage: dedl-dask <command> [options]      'dedl-dask <command> --help' for its options",
    "",
    "Commands:",
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    "",
    "Sites: --sites <bridges.json file or URL>, else $" + SITES_ENV +
    ", else DEDL's five bridges",
    "(central, lumi, leonardo, eumetsat, marenostrum). A local file with top-level 'issuer' and",
    "'client_id' (the replica's .replica/endpoints.json) also sets the identity provider.",
    "",
    "Login: 'dedl-dask login --remember' keeps the session (refresh token only, file mode 0600)",
    "for later commands; without it every command logs in by itself: a DEDL password asked",
    "without echo, --password-stdin, --device (browser), --desp (DESP account, one-time code",
    "asked or --otp-stdin), or --client-credentials (service account; secret from $" +
    CLIENT_SECRET_ENV + ").",
    "$" + USERNAME_ENV + " sets the default username.",
    "",
    "Every command takes --json (results as JSON on stdout), --debug (stack traces) and --help.",
    "Results go to stdout; progress and errors to stderr, errors as one line each.",
    "",
    EXIT_CODES_HELP,
  ].join("\n");
}

/**
 * Runs the command line `args` and resolves to the exit code. Output goes to stdout/stderr.
 */
export async function runCli(args: readonly string[]): Promise<number> {
  const out = new Output(false, args.includes("--debug"));
  const [name, ...rest] = args;
  try {
    if (name === undefined || name === "--help" || name === "-h" || name === "help") {
      const topic = name === "help" ? COMMANDS.find((c) => c.name === rest[0]) : undefined;
      console.log(topic ? commandHelp(topic) : mainHelp());
      return name === undefined ? ExitCode.usage : ExitCode.ok;
    }
    if (name === "--version" || name === "-V") {
      console.log(VERSION);
      return ExitCode.ok;
    }
    const command = COMMANDS.find((c) => c.name === name);
    if (!command) {
      throw new InvalidCommandLine(
        name.startsWith("-")
          ? `the command comes first, then its options: got ${name}`
          : `unknown command '${name}'; commands: ${COMMANDS.map((c) => c.name).join(", ")}`,
      );
    }
    const input = parseCommandLine(command, rest);
    if (input.flags.help) {
      console.log(commandHelp(command));
      return ExitCode.ok;
    }
    return await command.run(input);
  } catch (e) {
    out.error(e);
    return exitCodeOf(e);
  }
}

if (import.meta.main) {
  // Exit explicitly: scheduler connections and signal listeners must not keep the process up.
  Deno.exit(await runCli(Deno.args));
}
