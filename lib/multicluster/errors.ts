/**
 * Errors of the multi-site layer, one class per condition, each with a stable `code`.
 * @module
 */
import { DedlDaskError } from "../../base/mod.ts";

/** The category of every error the multi-site layer raises. */
export abstract class MultiClusterError extends DedlDaskError {}

/** A site registry (bridges.json) could not be read or has a wrong shape. */
export class InvalidSiteRegistry extends MultiClusterError {
  /** Stable code of the condition. */
  readonly code = "ERR_INVALID_SITE_REGISTRY";
  /** Kind of failure. */
  readonly kind = "usage";
  /** `message` names the registry and what is wrong with it; `cause` is the read or parse error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
  }
}

/** A computation names a site that the registry does not know, or that is not available. */
export class UnknownLocation extends MultiClusterError {
  /** Stable code of the condition. */
  readonly code = "ERR_UNKNOWN_LOCATION";
  /** Kind of failure. */
  readonly kind = "usage";
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
  /** Stable code of the condition. */
  readonly code = "ERR_MISSING_LOCATION";
  /** Kind of failure. */
  readonly kind = "usage";
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
  /** Stable code of the condition. */
  readonly code = "ERR_SITE_UNAVAILABLE";
  /** Kind of failure. */
  readonly kind = "unavailable";
  /**
   * Creates the error.
   * @param site the site asked for.
   * @param reason why it cannot be used.
   */
  constructor(readonly site: string, reason: string, options?: ErrorOptions) {
    super(`site ${JSON.stringify(site)} is not available: ${reason}`, options);
  }
}
