/**
 * The exit codes of `dedl-dask`, documented in `dedl-dask --help`: scripts can tell a mistake on
 * the command line from a login problem, an unreachable site or a failure at the site. Both the
 * code of an error and the help text come from the error's `kind`, so every error of every layer
 * has its code without a list of classes here.
 * @module
 */
import { DedlDaskError, type ErrorKind } from "../../../base/mod.ts";

/** Exit codes by meaning. */
export const ExitCode = {
  /** Done as asked. */
  ok: 0,
  /** The operation failed at the site or in the script (cluster failed, task error, …). */
  failure: 1,
  /** The command line is wrong: unknown command, flag, site, cluster or option value. */
  usage: 2,
  /** Logging in failed or the login was refused (wrong password, session ended, access denied). */
  auth: 3,
  /** A site's gateway or the identity provider could not be reached. */
  unavailable: 4,
  /** Interrupted by Ctrl-C (SIGINT); clusters the command started were stopped. */
  interrupted: 130,
} as const;

/** The exit code of each kind of error, and what that kind means to the user. */
const KINDS: Record<ErrorKind, { readonly code: number; readonly help: string }> = {
  usage: {
    code: ExitCode.usage,
    help: "usage error: unknown command, flag, site, cluster or option value, bad site registry",
  },
  auth: {
    code: ExitCode.auth,
    help: "authentication failed or was refused (wrong password, session ended, access denied)",
  },
  unavailable: {
    code: ExitCode.unavailable,
    help: "a site's gateway or the identity provider could not be reached",
  },
  remote: { code: ExitCode.failure, help: "a task or a cluster failed at its site" },
  timeout: { code: ExitCode.failure, help: "a wait ran out (cluster start, workers)" },
  cancelled: { code: ExitCode.failure, help: "the work was cancelled" },
  protocol: { code: ExitCode.failure, help: "a server's answer was not understood" },
};

/** The text of `--help` that documents the exit codes: one line per code. */
export const EXIT_CODES_HELP: string = (() => {
  const kinds = Object.entries(KINDS) as [ErrorKind, (typeof KINDS)[ErrorKind]][];
  const line = (code: number, text: string) => `  ${String(code).padEnd(5)}${text}`;
  const failures = kinds.filter(([, k]) => k.code === ExitCode.failure).map(([, k]) => k.help);
  return [
    "Exit codes:",
    line(ExitCode.ok, "done as asked"),
    line(ExitCode.failure, `failed: ${failures.join("; ")}; or the script of 'run' failed`),
    ...kinds.filter(([, k]) => k.code !== ExitCode.failure).sort(([, a], [, b]) => a.code - b.code)
      .map(([, k]) => line(k.code, k.help)),
    line(
      ExitCode.interrupted,
      "interrupted (Ctrl-C); clusters the command was starting were stopped",
    ),
  ].join("\n");
})();

/** The exit code an error stands for: by its `kind`; an error from outside dedl-dask is 1. */
export function exitCodeOf(error: unknown): number {
  return error instanceof DedlDaskError
    ? KINDS[error.kind]?.code ?? ExitCode.failure
    : ExitCode.failure;
}

/** The most telling code of several failures: the first one, or `ok` for none. */
export function firstExitCode(errors: readonly unknown[]): number {
  return errors.length === 0 ? ExitCode.ok : exitCodeOf(errors[0]);
}
