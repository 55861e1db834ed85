/**
 * Errors of the command-line interface itself, one class per condition, each with a stable
 * `code`. Library errors pass through unchanged; `output/exit_codes.ts` turns any error's `kind`
 * into the exit code.
 * @module
 */
import { DedlDaskError, type ErrorKind } from "../../base/mod.ts";

/** The category of the errors the CLI raises itself. */
export abstract class CliError extends DedlDaskError {}

/**
 * The command line is wrong: unknown command or flag, missing or malformed argument. (Named
 * `InvalidCommandLine` before 0.2.)
 */
export class InvalidCommandLine extends CliError {
  /** Stable code of the condition. */
  readonly code = "ERR_INVALID_COMMAND_LINE";
  /** Kind of failure. */
  readonly kind = "usage";
  /** `message` says what is wrong; the help of `command` is pointed to. */
  constructor(
    message: string,
    /** The command whose `--help` explains the usage, if known. */
    readonly command?: string,
  ) {
    super(`${message}; see 'dedl-dask ${command ? `${command} ` : ""}--help'`);
  }
}

/** The command needs a login and none can be made: no remembered session, no way to ask. */
export class NotLoggedIn extends CliError {
  /** Stable code of the condition. */
  readonly code = "ERR_NOT_LOGGED_IN";
  /** Kind of failure. */
  readonly kind = "auth";
  /** `reason` says what was missing. */
  constructor(reason: string) {
    super(
      `not logged in (${reason}): run 'dedl-dask login --remember' once, or pass ` +
        `--password-stdin (scripts), --device, or --desp with --otp-stdin to this command`,
    );
  }
}

/** The user script of `dedl-dask run` cannot be loaded or has no default-exported function. */
export class InvalidScript extends CliError {
  /** Stable code of the condition. */
  readonly code = "ERR_INVALID_SCRIPT";
  /** Kind of failure. */
  readonly kind = "usage";
  /** `reason` says why the script cannot run; `cause` is the import's error. */
  constructor(readonly script: string, reason: string, options?: ErrorOptions) {
    super(
      `cannot run ${script}: ${reason.replace(/\.$/, "")}; the script must default-export ` +
        `'async function (mc, { auth, args }) { … }'`,
      options,
    );
  }
}

/** One site's part of a command failed; its kind (and so the exit code) is that of the cause. */
export class SiteFailure extends CliError {
  /** Stable code of the condition. */
  readonly code = "ERR_SITE_FAILURE";
  /** `cause` is what failed at `site`. */
  constructor(readonly site: string, override readonly cause: Error) {
    super(`${site}: ${cause.message}`, { cause });
  }

  /** The kind of the cause; an error from outside dedl-dask counts as a failure at the site. */
  get kind(): ErrorKind {
    return this.cause instanceof DedlDaskError ? this.cause.kind : "remote";
  }
}

/** The site has no cluster of that name for this user. */
export class NoSuchCluster extends CliError {
  /** Stable code of the condition. */
  readonly code = "ERR_NO_SUCH_CLUSTER";
  /** Kind of failure. */
  readonly kind = "usage";
  /** `cause` is the gateway's `ClusterNotFound`. */
  constructor(readonly site: string, readonly clusterName: string, options?: ErrorOptions) {
    super(
      `${site} has no cluster named "${clusterName}" of yours; 'dedl-dask clusters' lists them`,
      options,
    );
  }
}

/** The CLI's notes of remembered logins (`cli-logins.json`) cannot be read or written. */
export class LoginRecordsUnusable extends CliError {
  /** Stable code of the condition. */
  readonly code = "ERR_LOGIN_RECORDS_UNUSABLE";
  /** Kind of failure. */
  readonly kind = "usage";
  /** `cause` is the file system's error. */
  constructor(readonly path: string, operation: "read" | "write", cause: Error) {
    super(
      `cannot ${operation} ${path} (${cause.message}): fix its permissions, or pass ` +
        `--token-cache <file> in a folder of yours`,
      { cause },
    );
  }
}
