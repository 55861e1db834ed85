/**
 * Errors of the multi-site layer, one class per condition.
 * @module
 */

/** Base class of every error the multi-site layer raises. */
export class MultiClusterError extends Error {
  /** Creates the error; `message` says what went wrong and what to do. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A site registry (bridges.json) could not be read or has a wrong shape. */
export class InvalidSiteRegistry extends MultiClusterError {}

/** A computation names a site that the registry does not know, or that is not available. */
export class UnknownLocation extends MultiClusterError {
  /** Creates the error; `detail` says what is wrong with the location. */
  constructor(
    /** The location asked for. */
    readonly location: string,
    /** The sites that could have been used. */
    readonly knownSites: string[],
    detail = "is not a known site",
  ) {
    super(
      `location ${JSON.stringify(location)} ${detail}; known sites: ${
        knownSites.join(", ") || "(none)"
      }`,
    );
  }
}

/** A computation has no location attribute to route it by. */
export class MissingLocation extends MultiClusterError {
  /**
   * Creates the error.
   * @param locationKey the attribute that was looked for.
   * @param knownSites the sites that could have been named.
   * @param subject what lacks it, e.g. `flood of https://…/flood.zarr` (default: the node).
   */
  constructor(readonly locationKey: string, readonly knownSites: string[], subject?: string) {
    super(
      `${subject ?? "the node"} has no ${JSON.stringify(locationKey)} attribute: tag it with ` +
        `.withAttrs({ ${locationKey}: "<site>" }) or pass { site } explicitly; known sites: ${
          knownSites.join(", ") || "(none)"
        }`,
    );
  }
}

/** A site is down or has no running cluster for the operation asked. */
export class SiteUnavailable extends MultiClusterError {
  /**
   * Creates the error.
   * @param site the site asked for.
   * @param reason why it cannot be used.
   */
  constructor(readonly site: string, reason: string, options?: ErrorOptions) {
    super(`site ${JSON.stringify(site)} is not available: ${reason}`, options);
  }
}
