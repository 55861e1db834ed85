/**
 * What a command works with: the site registry, the login and a {@link MultiCluster} over the
 * chosen sites, built from the command line the same way for every command.
 * @module
 */
import type { TokenSource } from "../../auth/mod.ts";
import type { ProgressListener } from "../../../protocol/mod.ts";
import {
  MultiCluster,
  SiteUnavailable,
  stopClustersOnSignal,
  UnknownLocation,
} from "../../multicluster/mod.ts";
import { booleanFlag, type CommandInput, stringFlag } from "../command_line/command.ts";
import { InvalidCommandLine, NoSuchCluster, NotLoggedIn } from "../errors.ts";
import { ClusterNotFound } from "../../gateway/mod.ts";
import { type CommandLogin, logIn, type LoginSettings } from "./command_login.ts";
import { identityProviderOf, loadSiteSource, onlySites, type SiteSource } from "./site_source.ts";
import { StatusLine } from "../output/status_line.ts";

/** The login settings of a command line, given the site source. */
export function loginSettings(input: CommandInput, sites: SiteSource): LoginSettings {
  const desp = booleanFlag(input, "desp");
  const clientCredentials = booleanFlag(input, "client-credentials");
  const clientIdFlag = stringFlag(input, "client-id");
  // With --desp or --client-credentials, --client-id names that login's own client; the
  // public client (and the key of the remembered login) stays the usual one.
  const idp = identityProviderOf(sites, {
    issuer: stringFlag(input, "issuer"),
    clientId: desp || clientCredentials ? undefined : clientIdFlag,
  });
  const despIssuer = stringFlag(input, "desp-issuer") ?? sites.identityProvider?.despIssuer;
  if (booleanFlag(input, "otp-stdin") && !desp) {
    throw new InvalidCommandLine("--otp-stdin goes with --desp");
  }
  return {
    ...idp,
    ...(clientIdFlag !== undefined && (desp || clientCredentials)
      ? { explicitClientId: clientIdFlag }
      : {}),
    username: stringFlag(input, "username"),
    passwordStdin: booleanFlag(input, "password-stdin"),
    device: booleanFlag(input, "device"),
    desp,
    otpStdin: booleanFlag(input, "otp-stdin"),
    ...(despIssuer ? { despIssuer } : {}),
    clientCredentials,
    tokenCachePath: stringFlag(input, "token-cache"),
  };
}

/** A command's sites, login and multi-site client; disposing it ends a one-command login. */
export interface CommandSession extends AsyncDisposable {
  readonly sites: SiteSource;
  readonly login: CommandLogin | undefined;
  readonly mc: MultiCluster;
  /** The sites asked for that did not answer, as failures to report. */
  readonly unavailable: SiteUnavailable[];
}

/** A token source for commands that need none (`sites`): any use is a bug, said plainly. */
const NO_LOGIN: TokenSource = {
  identity: "",
  accessToken: () => Promise.reject(new NotLoggedIn("this command does not log in")),
};

/**
 * Loads the registry, logs in (unless `login: false`) and probes the sites (`sites`: only these;
 * default `--only`, else all).
 * @throws {UnknownLocation} when a site asked for is not in the registry.
 */
export async function openSession(
  input: CommandInput,
  options: {
    login?: boolean;
    sites?: readonly string[];
    onComputeProgress?: ProgressListener;
  } = {},
): Promise<CommandSession> {
  const sites = await loadSiteSource(stringFlag(input, "sites"));
  const only = options.sites ?? onlySites(stringFlag(input, "only"));
  // A misspelt site is a usage error, said before any password is asked for.
  for (const id of only ?? []) {
    if (!sites.registry[id]) throw new UnknownLocation(id, Object.keys(sites.registry));
  }
  const login = options.login === false ? undefined : await logIn(loginSettings(input, sites));
  const status = new StatusLine();
  try {
    const count = only?.length ?? Object.keys(sites.registry).length;
    status.set(`contacting ${count} site${count === 1 ? "" : "s"}…`);
    const mc = await MultiCluster.connect({
      auth: login?.auth ?? NO_LOGIN,
      sites: sites.registry,
      ...(only ? { only } : {}),
      requireHttps: booleanFlag(input, "require-https"),
      // Kept multi-line: the scheduler's version table is unreadable on one line.
      onWarning: (site, warning) =>
        console.error(`dedl-dask: warning: ${site}: ${warning.message}`),
      ...(options.onComputeProgress ? { onComputeProgress: options.onComputeProgress } : {}),
    });
    status.clear();
    const unavailable = mc.status().filter((s) => !s.available).map((s) =>
      new SiteUnavailable(s.site, s.error ?? `its gateway ${s.address} did not answer`, {
        cause: s.failure,
      })
    );
    return {
      sites,
      login,
      mc,
      unavailable,
      [Symbol.asyncDispose]: async () => {
        await login?.auth[Symbol.asyncDispose]();
      },
    };
  } catch (e) {
    status.clear();
    await login?.auth[Symbol.asyncDispose]().catch(() => {});
    throw e;
  }
}

/**
 * Runs a call about one named cluster, turning the gateway's "no such cluster" into the CLI's
 * {@link NoSuchCluster}.
 */
export async function aboutCluster<T>(
  site: string,
  name: string,
  call: () => Promise<T>,
): Promise<T> {
  try {
    return await call();
  } catch (e) {
    if (e instanceof ClusterNotFound) throw new NoSuchCluster(site, name, { cause: e });
    throw e;
  }
}

/**
 * While the result is not disposed, Ctrl-C (or SIGTERM) stops every cluster the session's
 * MultiCluster holds, says so on stderr and ends the command (exit 130, or 143 for SIGTERM).
 */
export function stopClustersOnInterrupt(session: CommandSession): Disposable {
  return stopClustersOnSignal(session.mc, {
    onSignal: (signal) =>
      console.error(`dedl-dask: ${signal}: stopping the clusters at every site…`),
    exit: true,
  });
}
