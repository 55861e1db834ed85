/**
 * Errors of the command-line interface itself, one class per condition. Library errors pass
 * through unchanged; `exit_codes.ts` maps every error to the exit code it stands for.
 * @module
 */

/** Base class of the errors the CLI raises itself. */
export class CliError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The command line is wrong: unknown command or flag, missing or malformed argument. */
export class UsageError extends CliError {
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
  constructor(reason: string) {
    super(
      `not logged in (${reason}): run 'dedl-dask login --remember' once, or pass ` +
        `--password-stdin (scripts), --device, or --desp with --otp-stdin to this command`,
    );
  }
}

/** The user script of `dedl-dask run` cannot be loaded or has no default-exported function. */
export class InvalidScript extends CliError {
  constructor(readonly script: string, reason: string, options?: ErrorOptions) {
    super(
      `cannot run ${script}: ${reason.replace(/\.$/, "")}; the script must default-export ` +
        `'async function (mc, { auth, args }) { … }'`,
      options,
    );
  }
}

/** One site's part of a command failed; the exit code is that of the cause. */
export class SiteFailure extends CliError {
  constructor(readonly site: string, override readonly cause: Error) {
    super(`${site}: ${cause.message}`, { cause });
  }
}

/** The site has no cluster of that name for this user. */
export class NoSuchCluster extends CliError {
  constructor(readonly site: string, readonly clusterName: string, options?: ErrorOptions) {
    super(
      `${site} has no cluster named "${clusterName}" of yours; 'dedl-dask clusters' lists them`,
      options,
    );
  }
}
