/**
 * The exit codes of `dedl-dask`, documented in `dedl-dask --help`: scripts can tell a mistake on
 * the command line from a login problem, an unreachable site or a failure at the site.
 * @module
 */
import {
  AuthenticationError,
  ClusterAccessDenied,
  GatewayUnavailable,
  InvalidGatewayAddress,
  InvalidOptions,
  InvalidWorkerCount,
} from "../gateway/errors.ts";
import { AuthError, IdentityProviderUnreachable } from "../auth/errors.ts";
import { InvalidSiteRegistry, SiteUnavailable, UnknownLocation } from "../multicluster/errors.ts";
import { InvalidScript, NotLoggedIn, SiteFailure, UsageError } from "./errors.ts";

/** Exit codes by meaning. */
export const ExitCode = {
  /** Done as asked. */
  ok: 0,
  /** The operation failed at the site or in the script (cluster failed, task error, …). */
  failure: 1,
  /** The command line is wrong: unknown command, flag, site or option value, bad registry. */
  usage: 2,
  /** Logging in failed or the login was refused (wrong password, session ended, access denied). */
  auth: 3,
  /** A site's gateway or the identity provider could not be reached. */
  unavailable: 4,
  /** Interrupted by Ctrl-C (SIGINT); clusters the command started were stopped. */
  interrupted: 130,
} as const;

/** The text of `--help` that documents the exit codes. */
export const EXIT_CODES_HELP = `Exit codes:
  0    done as asked
  1    the operation failed at a site or in the script (cluster failed, task error, …)
  2    usage error: unknown command, flag, site or option value, bad site registry
  3    authentication failed or was refused (wrong password, session ended, access denied)
  4    a site's gateway or the identity provider could not be reached
  130  interrupted (Ctrl-C); clusters the command was starting were stopped`;

/** The exit code an error stands for. */
export function exitCodeOf(error: unknown): number {
  if (error instanceof SiteFailure) return exitCodeOf(error.cause);
  if (
    error instanceof UsageError || error instanceof InvalidScript ||
    error instanceof UnknownLocation || error instanceof InvalidSiteRegistry ||
    error instanceof InvalidOptions || error instanceof InvalidWorkerCount ||
    error instanceof InvalidGatewayAddress
  ) {
    return ExitCode.usage;
  }
  if (
    error instanceof GatewayUnavailable || error instanceof SiteUnavailable ||
    error instanceof IdentityProviderUnreachable
  ) {
    return ExitCode.unavailable;
  }
  if (
    error instanceof AuthError || error instanceof NotLoggedIn ||
    error instanceof AuthenticationError || error instanceof ClusterAccessDenied
  ) {
    return ExitCode.auth;
  }
  return ExitCode.failure;
}

/** The most telling code of several failures: the first one, or `ok` for none. */
export function firstExitCode(errors: readonly unknown[]): number {
  return errors.length === 0 ? ExitCode.ok : exitCodeOf(errors[0]);
}
