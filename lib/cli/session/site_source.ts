/**
 * Where the CLI's sites and identity provider come from: `--sites <bridges.json file or URL>`,
 * else `$DEDL_DASK_SITES`, else DEDL's five bridges; the identity provider from `--issuer` /
 * `--client-id`, else from a local registry file that names one (the replica's
 * `.replica/endpoints.json` has top-level `issuer` and `client_id`, and `desp.issuer` for DESP
 * logins), else DEDL's.
 * @module
 */
import { DEDL_CLIENT_ID, DEDL_ISSUER } from "../../auth/mod.ts";
import {
  DEDL_SITES,
  loadSiteRegistry,
  type SiteRegistry,
  SITES_ENV,
} from "../../multicluster/mod.ts";
import type { Flags } from "../command_line/command.ts";

/** Flags that choose the sites. */
export const SITE_FLAGS: Flags = {
  sites: {
    type: "string",
    value: "<file|URL>",
    help: `site registry in DEDL's bridges.json format (default $${SITES_ENV}, else DEDL's five ` +
      `bridges); the replica's .replica/endpoints.json works too`,
  },
  only: {
    type: "string",
    value: "<site,…>",
    help: "use only these sites of the registry, e.g. central,lumi",
  },
  "require-https": {
    type: "boolean",
    help: "never send a token to a site's gateway over plain HTTP (default: warn once)",
  },
};

/** The sites to use and the identity provider they suggest. */
export interface SiteSource {
  readonly registry: SiteRegistry;
  /** Where the registry came from, for messages. */
  readonly origin: string;
  /** The identity provider named by a local registry file, if any. */
  readonly identityProvider?: {
    readonly issuer: string;
    readonly clientId?: string;
    /** DESP's issuer, for `--desp` logins. */
    readonly despIssuer?: string;
  };
}

/**
 * Loads the registry named by `--sites` or the environment.
 * @throws {InvalidSiteRegistry} when it cannot be read or has the wrong shape.
 */
export async function loadSiteSource(sitesFlag: string | undefined): Promise<SiteSource> {
  const source = sitesFlag ?? (Deno.env.get(SITES_ENV) || undefined);
  if (!source) return { registry: { ...DEDL_SITES }, origin: "DEDL's bridges (built in)" };
  const registry = await loadSiteRegistry(source);
  // An identity provider is taken only from a local file: a registry fetched from a URL must
  // not be able to send the user's password somewhere else.
  if (/^https?:\/\//.test(source)) return { registry, origin: source };
  const document = JSON.parse(
    await Deno.readTextFile(source.startsWith("file:") ? new URL(source) : source),
  );
  const issuer = typeof document?.issuer === "string" ? document.issuer : undefined;
  const clientId = typeof document?.client_id === "string" ? document.client_id : undefined;
  const despIssuer = typeof document?.desp?.issuer === "string" ? document.desp.issuer : undefined;
  return {
    registry,
    origin: source,
    ...(issuer
      ? {
        identityProvider: {
          issuer,
          ...(clientId ? { clientId } : {}),
          ...(despIssuer ? { despIssuer } : {}),
        },
      }
      : {}),
  };
}

/**
 * The site ids of `--only` (comma-separated), or `undefined` for all.
 */
export function onlySites(onlyFlag: string | undefined): string[] | undefined {
  if (onlyFlag === undefined) return undefined;
  const ids = onlyFlag.split(",").map((s) => s.trim()).filter((s) => s !== "");
  return ids.length > 0 ? ids : undefined;
}

/** The issuer and client id to log in with. */
export function identityProviderOf(
  sites: SiteSource,
  flags: { issuer?: string; clientId?: string },
): { issuer: string; clientId: string } {
  if (flags.issuer) return { issuer: flags.issuer, clientId: flags.clientId ?? DEDL_CLIENT_ID };
  const suggested = sites.identityProvider;
  return {
    issuer: suggested?.issuer ?? DEDL_ISSUER,
    clientId: flags.clientId ?? suggested?.clientId ?? DEDL_CLIENT_ID,
  };
}
