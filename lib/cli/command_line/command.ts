/**
 * What every command is made of: its flags (with their help), its positional arguments and its
 * action, and the parsing of a command line into them (`node:util` parseArgs).
 * @module
 */
import { parseArgs } from "node:util";
import { InvalidCommandLine } from "../errors.ts";

/** One flag: its parseArgs type and its line of help. */
export interface Flag {
  readonly type: "string" | "boolean";
  readonly short?: string;
  /** Placeholder of the value in help, e.g. `<file|URL>`. */
  readonly value?: string;
  readonly help: string;
}

/** Flags by long name. */
export type Flags = Readonly<Record<string, Flag>>;

/** A command line parsed for one command. */
export interface CommandInput {
  /** The command's flags; booleans are `true` or absent, strings are strings or absent. */
  readonly flags: Readonly<Record<string, string | boolean | undefined>>;
  readonly positionals: readonly string[];
  /**
   * Flags the command does not declare, for commands that take free-form ones (`new`'s cluster
   * options): name as typed (without `--`) → value, or `true` when no value followed.
   */
  readonly extraFlags: ReadonlyMap<string, string | true>;
  /** Arguments after `--`, for commands that pass them on (`run`). */
  readonly passThrough: readonly string[];
}

/** One `dedl-dask` command. */
export interface Command {
  readonly name: string;
  /** One line for the command list. */
  readonly summary: string;
  /** Usage lines after `dedl-dask `, e.g. `scale <site> <name> <n>`. */
  readonly usage: readonly string[];
  /** What it does, in a few lines. */
  readonly description: string;
  readonly flags: Flags;
  /** How many positional arguments it takes. */
  readonly positionals: { readonly min: number; readonly max: number };
  /** Undeclared `--name value` flags are collected in {@link CommandInput.extraFlags}. */
  readonly extraFlags?: { readonly help: string };
  /** Arguments after `--` are collected in {@link CommandInput.passThrough}. */
  readonly passThrough?: { readonly help: string };
  /** Runs the command; resolves to the exit code. */
  run(input: CommandInput): Promise<number>;
}

/** Flags every command has. */
export const COMMON_FLAGS: Flags = {
  json: { type: "boolean", help: "print machine-readable JSON on stdout instead of tables" },
  debug: { type: "boolean", help: "on failure, print the stack trace and causes" },
  help: { type: "boolean", short: "h", help: "show this help" },
};

/**
 * Parses `args` (the words after the command name) for `command`.
 * @throws {InvalidCommandLine} for unknown flags, missing values and wrong numbers of arguments.
 */
export function parseCommandLine(command: Command, args: readonly string[]): CommandInput {
  const dashDash = args.indexOf("--");
  const own = dashDash >= 0 ? args.slice(0, dashDash) : [...args];
  const passThrough = dashDash >= 0 ? args.slice(dashDash + 1) : [];
  if (passThrough.length > 0 && !command.passThrough) {
    throw new InvalidCommandLine(`'${command.name}' takes no arguments after --`, command.name);
  }
  const flags = { ...COMMON_FLAGS, ...command.flags };
  const options = Object.fromEntries(
    Object.entries(flags).map(([name, f]) => [
      name,
      { type: f.type, ...(f.short ? { short: f.short } : {}) },
    ]),
  );
  let parsed;
  try {
    parsed = parseArgs({
      args: own,
      options,
      allowPositionals: true,
      strict: !command.extraFlags,
      tokens: true,
    });
  } catch (e) {
    // parseArgs explains unknown options at length; the name of the option is what helps.
    const unknown = /^Unknown option '([^']+)'/.exec((e as Error).message);
    const message = unknown ? `unknown option ${unknown[1]}` : (e as Error).message;
    throw new InvalidCommandLine(message.replace(/\.$/, ""), command.name);
  }
  const values: Record<string, string | boolean | undefined> = {};
  const extraFlags = new Map<string, string | true>();
  const positionals: string[] = [];
  const tokens = parsed.tokens ?? [];
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i];
    if (token.kind === "positional") {
      positionals.push(token.value);
      continue;
    }
    if (token.kind !== "option") continue;
    const flag = flags[token.name];
    if (flag) {
      if (flag.type === "string" && typeof token.value !== "string") {
        throw new InvalidCommandLine(
          `${token.rawName} needs a value ${flag.value ?? ""}`.trim(),
          command.name,
        );
      }
      values[token.name] = flag.type === "string" ? token.value : true;
      continue;
    }
    // Only commands with free-form flags get here (strict parsing rejects unknown ones).
    if (!token.rawName.startsWith("--")) {
      throw new InvalidCommandLine(`unknown option ${token.rawName}`, command.name);
    }
    let value: string | true = token.value ?? true;
    const next = tokens[i + 1];
    if (value === true && next?.kind === "positional" && next.index === token.index + 1) {
      value = next.value;
      i++;
    }
    extraFlags.set(token.name, value);
  }
  if (values.help) return { flags: values, positionals, extraFlags, passThrough };
  if (positionals.length < command.positionals.min) {
    throw new InvalidCommandLine(
      `'${command.name}' needs ${command.usage.map((u) => `'${u}'`).join(" or ")}`,
      command.name,
    );
  }
  if (positionals.length > command.positionals.max) {
    throw new InvalidCommandLine(
      `'${command.name}' got an unexpected argument '${positionals[command.positionals.max]}'`,
      command.name,
    );
  }
  return { flags: values, positionals, extraFlags, passThrough };
}

/** The help text of one command. */
export function commandHelp(command: Command): string {
  const flags = { ...command.flags, ...COMMON_FLAGS };
  const rows = Object.entries(flags).map(([name, f]) => {
    const names = `${f.short ? `-${f.short}, ` : ""}--${name}${f.value ? ` ${f.value}` : ""}`;
    return [names, f.help] as const;
  });
  if (command.extraFlags) rows.push(["--<option> <value>", command.extraFlags.help]);
  if (command.passThrough) rows.push(["-- <args…>", command.passThrough.help]);
  const width = Math.max(...rows.map(([names]) => names.length));
  return [
    `dedl-dask ${command.name}: ${command.summary}`,
    "",
    "Usage:",
    ...command.usage.map((u) => `  dedl-dask ${u}`),
    "",
    command.description,
    "",
    "Options:",
    ...rows.map(([names, help]) => `  ${names.padEnd(width)}  ${help}`),
    "",
    "Exit codes: see 'dedl-dask --help'.",
  ].join("\n");
}

/** A string flag's value, or `undefined`. */
export function stringFlag(input: CommandInput, name: string): string | undefined {
  const v = input.flags[name];
  return typeof v === "string" ? v : undefined;
}

/** Whether a boolean flag was given. */
export function booleanFlag(input: CommandInput, name: string): boolean {
  return input.flags[name] === true;
}

/**
 * A whole number ≥ 0 from the command line.
 * @throws {InvalidCommandLine} naming the argument when it is not one.
 */
export function parseCount(text: string, what: string, command: string): number {
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(Number(text))) {
    throw new InvalidCommandLine(
      `${what} must be a whole number ≥ 0, got ${JSON.stringify(text)}`,
      command,
    );
  }
  return Number(text);
}
