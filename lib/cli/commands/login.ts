/**
 * `dedl-dask login`, `logout` and `whoami`.
 * @module
 */
import {
  booleanFlag,
  type Command,
  type CommandInput,
  stringFlag,
} from "../command_line/command.ts";
import { loginSettings } from "../session/command_session.ts";
import { ExitCode } from "../output/exit_codes.ts";
import { CLIENT_SECRET_ENV } from "../session/credential_input.ts";
import { type CommandLogin, logIn, LOGIN_FLAGS, logOut } from "../session/command_login.ts";
import { Output, timestamp } from "../output/output.ts";
import { loadSiteSource, SITE_FLAGS } from "../session/site_source.ts";
import { formatFields } from "../output/table.ts";

const IDP_FROM_SITES = { sites: SITE_FLAGS.sites };

/** What is shown of a login: who, where, how, how long; never a token. */
function describeLogin(login: CommandLogin) {
  const { auth, method, remembered, tokenCachePath } = login;
  const claims = auth.claims;
  return {
    username: auth.username,
    issuer: auth.issuer,
    method,
    subject: typeof claims.sub === "string" ? claims.sub : null,
    email: typeof claims.email === "string" ? claims.email : null,
    name: typeof claims.name === "string" ? claims.name : null,
    remembered,
    tokenCache: tokenCachePath ?? null,
    accessTokenExpires: typeof claims.exp === "number"
      ? timestamp(new Date(claims.exp * 1000))
      : null,
  };
}

/** `dedl-dask login`. */
export const loginCommand: Command = {
  name: "login",
  summary: "log in at DEDL (password, --device, --desp or --client-credentials)",
  usage: [
    "login [--remember] [--username <name>] [--password-stdin | --device]",
    "login [--remember] --desp [--username <name>] [--password-stdin] [--otp-stdin]",
    "login [--remember] --client-credentials --client-id <service account>",
  ],
  description:
    "Logs in with a DEDL password (asked without echo, or read from stdin with --password-stdin),\n" +
    "with the device code (--device: open the URL shown and confirm the code in a browser), with\n" +
    "a DESP account (--desp: DESP's password, and a one-time code when DESP asks for one, asked\n" +
    "without echo or read from stdin with --otp-stdin; DESP's token is exchanged at DEDL), or as\n" +
    `a service account (--client-credentials: the secret from $${CLIENT_SECRET_ENV}, else stdin).\n` +
    "With --remember the session's refresh token (DESP's, for --desp) is kept in the token cache\n" +
    "(mode 0600; never a password, code or access token), so later commands run without a\n" +
    "password until 'logout' or the end of the session; a service account is only noted, and\n" +
    "later commands read its secret again. Without --remember this only checks the login.",
  flags: {
    remember: { type: "boolean", help: "keep the session for later commands (token cache)" },
    ...LOGIN_FLAGS,
    ...IDP_FROM_SITES,
  },
  positionals: { min: 0, max: 0 },
  async run(input: CommandInput): Promise<number> {
    const out = new Output(booleanFlag(input, "json"));
    const settings = loginSettings(input, await loadSiteSource(stringFlag(input, "sites")));
    const remember = booleanFlag(input, "remember");
    // An explicit login always checks its credentials, whatever session is remembered.
    const login = await logIn(settings, { remember, fresh: true });
    await using auth = login.auth;
    const info = describeLogin(login);
    if (out.json) out.data(info);
    else {
      out.line(`Logged in as ${auth.username} at ${auth.issuer}.`);
      out.line(
        !login.remembered
          ? "Session not kept (pass --remember to stay logged in for later commands)."
          : login.tokenCachePath
          ? `Session remembered in ${login.tokenCachePath}; 'dedl-dask logout' ends it.`
          : `Service account remembered; its secret is not stored: later commands read it ` +
            `from $${CLIENT_SECRET_ENV} or stdin. 'dedl-dask logout' forgets it.`,
      );
    }
    return ExitCode.ok;
  },
};

/** `dedl-dask logout`. */
export const logoutCommand: Command = {
  name: "logout",
  summary: "end the remembered session and forget it",
  usage: ["logout"],
  description:
    "Revokes the remembered session at the identity provider (which ends it everywhere) and\n" +
    "removes its refresh token from the token cache. Nothing to do is not an error.",
  flags: {
    issuer: LOGIN_FLAGS.issuer,
    "client-id": LOGIN_FLAGS["client-id"],
    "token-cache": LOGIN_FLAGS["token-cache"],
    ...IDP_FROM_SITES,
  },
  positionals: { min: 0, max: 0 },
  async run(input: CommandInput): Promise<number> {
    const out = new Output(booleanFlag(input, "json"));
    const settings = loginSettings(input, await loadSiteSource(stringFlag(input, "sites")));
    const outcome = await logOut(settings);
    if (out.json) out.data({ issuer: settings.issuer, outcome });
    else {
      out.line(
        {
          revoked: `Logged out of ${settings.issuer}.`,
          expired: `The session at ${settings.issuer} had already ended; forgotten.`,
          forgotten: `Forgot the service account at ${settings.issuer} (nothing to revoke).`,
          none: `No remembered session at ${settings.issuer}.`,
        }[outcome],
      );
    }
    return ExitCode.ok;
  },
};

/** `dedl-dask whoami`. */
export const whoamiCommand: Command = {
  name: "whoami",
  summary: "show who is logged in",
  usage: ["whoami"],
  description:
    "Shows the account of the remembered session (or logs in, as every command does, when there\n" +
    "is none): username, issuer, subject, e-mail, and where the session is kept. Never a token.",
  flags: { ...LOGIN_FLAGS, ...IDP_FROM_SITES },
  positionals: { min: 0, max: 0 },
  async run(input: CommandInput): Promise<number> {
    const out = new Output(booleanFlag(input, "json"));
    const settings = loginSettings(input, await loadSiteSource(stringFlag(input, "sites")));
    const login = await logIn(settings);
    await using _ = login.auth;
    const info = describeLogin(login);
    if (out.json) out.data(info);
    else {
      out.line(formatFields([
        ["username", info.username],
        ["issuer", info.issuer],
        ["subject", info.subject ?? "-"],
        ["email", info.email ?? "-"],
        ["login", info.method],
        [
          "session",
          !info.remembered
            ? "this command only"
            : info.tokenCache
            ? `remembered in ${info.tokenCache}`
            : "remembered (secret not stored)",
        ],
      ]));
    }
    return ExitCode.ok;
  },
};
