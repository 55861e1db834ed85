/**
 * Warnings a {@link Client} reports through `ClientOptions.onWarning` (and keeps in
 * `client.warnings`): conditions that do not stop the work but may change its results. The
 * library prints nothing itself; applications show them.
 * @module
 */

/**
 * The scheduler found that its workers run other package versions than it does (e.g. a custom
 * `image` for the workers, or a cluster mixing software releases), as Python's client warns with
 * `VersionMismatchWarning`. Tasks may behave differently on different workers, or fail.
 */
export class VersionMismatchWarning {
  /** Stable identifier of this warning kind. */
  readonly code = "VERSION_MISMATCH";
  /** What to show: the scheduler, and the scheduler's own table of the differing packages. */
  readonly message: string;

  /** Creates the warning from the scheduler's text (a table of packages by side). */
  constructor(
    /** The scheduler's address. */
    readonly scheduler: string,
    /** The scheduler's text, e.g. `| toolz | 0.12.0 | 0.12.0 | 0.12.1 |` rows. */
    readonly details: string,
  ) {
    this.message = `the workers of scheduler ${scheduler} run other package versions than the ` +
      `scheduler; tasks may fail or differ by worker:\n${details.trim()}`;
  }
}

/** Every warning a client reports. */
export type ClientWarning = VersionMismatchWarning;
