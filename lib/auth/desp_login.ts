/**
 * Logging in with a DESP account (the DestinE platform's identity) to get a DEDL token, the way
 * DEDL's own tools do (destinelab's `AuthHandler`):
 *
 * 1. DESP's authorization request for its client `dedl-hda` opens DESP's login page;
 * 2. the username and password are sent through the page's login form (no redirect followed);
 * 3. if the next page asks for a one-time code, it is sent through that page's form;
 * 4. DESP redirects to `dedl-hda`'s redirect URI with a code, redeemed at DESP's token endpoint
 *    (here with PKCE and `state`, which DESP checks like any Keycloak);
 * 5. DEDL exchanges the DESP access token (`subject_issuer=desp-oidc`) for a DEDL access token.
 *
 * Renewal: DESP's refresh token is refreshed at DESP and the new DESP token exchanged again, so
 * a DESP logout or a disabled DESP account stops the DEDL tokens within one token lifetime.
 * @module
 */
import {
  AccountDisabled,
  AccountNotSetUp,
  IdentityProviderRejected,
  IdentityProviderUnreachable,
  InvalidCredentials,
  InvalidOneTimePassword,
  LoginPageChanged,
  ReauthenticationRequired,
} from "./errors.ts";
import type { GrantedTokens, IdentityProvider } from "./identity_provider.ts";
import {
  formSubmission,
  type LoginPage,
  oneTimeCodeForm,
  type PageForm,
  parseLoginPage,
  passwordForm,
} from "./login_form.ts";
import type { SessionRenewal } from "./session_renewal.ts";

/** Where DESP tokens are exchanged for DEDL ones. */
export interface DespExchange {
  /** DEDL's identity provider, with the exchange client (`hda-public`). */
  readonly dedl: IdentityProvider;
  /** DEDL's alias of DESP (`desp-oidc`). */
  readonly subjectIssuer: string;
}

/** One DESP login through its pages. */
export interface DespPageLogin {
  /** DESP's identity provider, with its public client `dedl-hda`. */
  readonly desp: IdentityProvider;
  readonly redirectUri: string;
  readonly username: string;
  readonly password: string;
  /** Asked only when a page asks for a one-time code. */
  readonly oneTimeCode: () => Promise<string>;
  readonly fetch: typeof fetch;
  readonly timeoutMs: number;
}

/** At most this many pages between the authorization request and the code. */
const MAX_STEPS = 8;

/** Login pages are a few kB; a bigger answer is not read. */
const MAX_PAGE_BYTES = 1 << 20;

/**
 * Walks DESP's login pages with the username, password and (when asked) one-time code, and
 * redeems the code: DESP's tokens.
 * @throws {InvalidCredentials} the login form came back with an error.
 * @throws {InvalidOneTimePassword} the one-time code form came back.
 * @throws {LoginPageChanged} a page without the form that was due.
 */
export async function despPageLogin(login: DespPageLogin): Promise<GrantedTokens> {
  const authorization = await login.desp.authorizationCodeLogin(login.redirectUri);
  const browser = new FormBrowser(login.fetch, login.timeoutMs, login.redirectUri);
  let step = await browser.open(authorization.url);
  let sentPassword = false;
  let sentCode = false;
  for (let n = 0; n < MAX_STEPS; n++) {
    if (step.callback) return await authorization.finish(step.callback);
    const page = step.page!;
    if (!sentPassword) {
      const form = passwordForm(page);
      if (!form) {
        throw new LoginPageChanged(
          pageUrl(page),
          "form with username and password fields",
          describe(page),
        );
      }
      step = await browser.submit(form, { username: login.username, password: login.password });
      sentPassword = true;
      continue;
    }
    // Keycloak's required actions (new password, authenticator setup, profile) come first: the
    // authenticator setup page has a code field too.
    if (
      page.forms.some((f) => new URL(f.action).pathname.endsWith("/login-actions/required-action"))
    ) {
      throw new AccountNotSetUp(
        login.username,
        page.title || page.errors.join(" "),
        login.desp.accountUrl,
      );
    }
    const codeForm = oneTimeCodeForm(page);
    if (codeForm && sentCode) {
      throw new InvalidOneTimePassword(login.username, page.errors.join(" ") || page.title);
    }
    if (codeForm) {
      const code = (await login.oneTimeCode()).replace(/\s+/g, "");
      step = await browser.submit(codeForm.form, { [codeForm.field]: code });
      sentCode = true;
      continue;
    }
    if (passwordForm(page)) {
      const message = page.errors.join(" ") || "the login form came back without a message";
      if (/disabled|locked/i.test(message)) throw new AccountDisabled(login.username, message);
      throw new InvalidCredentials(login.username, message);
    }
    throw new LoginPageChanged(
      pageUrl(page),
      "step this login knows (password, one-time code, redirect with a code)",
      describe(page),
    );
  }
  throw new LoginPageChanged(
    new URL(authorization.url).origin,
    `redirect with a code after ${MAX_STEPS} pages`,
    "more pages",
  );
}

/** Exchanges a DESP access token at DEDL; the DESP refresh token is kept for renewal. */
export async function exchangeDespTokens(
  exchange: DespExchange,
  despTokens: GrantedTokens,
): Promise<GrantedTokens> {
  const dedl = await exchange.dedl.tokenExchange(despTokens.accessToken, {
    subjectIssuer: exchange.subjectIssuer,
    audience: exchange.dedl.clientId,
  });
  return {
    accessToken: dedl.accessToken,
    ...(despTokens.refreshToken ? { refreshToken: despTokens.refreshToken } : {}),
    ...(dedl.expiresInSeconds !== undefined ? { expiresInSeconds: dedl.expiresInSeconds } : {}),
  };
}

/**
 * Renewal of a DESP login: DESP's refresh token at DESP (with `dedl-hda`), then the new DESP
 * access token exchanged at DEDL. Logout revokes the DESP session.
 */
export function despRenewal(desp: IdentityProvider, exchange: DespExchange): SessionRenewal {
  return {
    async renew(refreshToken) {
      if (!refreshToken) throw new ReauthenticationRequired("DESP issued no refresh token");
      const despTokens = await desp.refreshGrant(refreshToken);
      return await exchangeDespTokens(exchange, { refreshToken, ...despTokens });
    },
    revoke: (refreshToken) => desp.revoke(refreshToken),
  };
}

/** What one request led to: a page to read, or the redirect that carries the code. */
interface Step {
  page?: LoginPage;
  /** The full redirect to the redirect URI (holds `code` and `state`, or `error`). */
  callback?: string;
}

/**
 * The few things of a browser this login needs: cookies per host, following redirects (but
 * never to the redirect URI), forms sent as a browser sends them, a timeout on every request.
 */
class FormBrowser {
  readonly #fetch: typeof fetch;
  readonly #timeoutMs: number;
  readonly #redirect: URL;
  readonly #cookies = new Map<string, Map<string, string>>();

  constructor(fetchImpl: typeof fetch, timeoutMs: number, redirectUri: string) {
    this.#fetch = fetchImpl;
    this.#timeoutMs = timeoutMs;
    this.#redirect = new URL(redirectUri);
  }

  open(url: string): Promise<Step> {
    return this.#request(url, undefined);
  }

  submit(form: PageForm, values: Record<string, string>): Promise<Step> {
    const body = formSubmission(form, values);
    if (form.method === "get") {
      const url = new URL(form.action);
      url.search = body.toString();
      return this.#request(url.href, undefined);
    }
    return this.#request(form.action, body);
  }

  async #request(url: string, body: URLSearchParams | undefined): Promise<Step> {
    for (let hop = 0; hop < 10; hop++) {
      const target = new URL(url);
      if (target.protocol !== "https:" && target.protocol !== "http:") {
        throw new LoginPageChanged(url.split("?")[0], "web page", `a ${target.protocol} link`);
      }
      const headers = new Headers({ Accept: "text/html" });
      const cookies = this.#cookies.get(target.host);
      if (cookies?.size) {
        headers.set("Cookie", [...cookies].map(([k, v]) => `${k}=${v}`).join("; "));
      }
      let res: Response;
      try {
        res = await this.#fetch(url, {
          method: body ? "POST" : "GET",
          headers,
          ...(body ? { body } : {}),
          redirect: "manual",
          signal: AbortSignal.timeout(this.#timeoutMs),
        });
      } catch (e) {
        const where = `${target.origin}${target.pathname}`;
        throw new IdentityProviderUnreachable(
          where,
          e instanceof DOMException && e.name === "TimeoutError"
            ? `no answer within ${this.#timeoutMs} ms`
            : (e as Error).message,
        );
      }
      this.#keepCookies(target.host, res.headers.getSetCookie());
      const location = res.headers.get("location");
      if (res.status >= 300 && res.status < 400 && location) {
        await res.body?.cancel();
        const next = new URL(location, url);
        if (next.origin === this.#redirect.origin && next.pathname === this.#redirect.pathname) {
          return { callback: next.href };
        }
        url = next.href;
        body = undefined;
        continue;
      }
      const where = `${target.origin}${target.pathname}`;
      if (res.status >= 500) {
        await res.body?.cancel();
        throw new IdentityProviderUnreachable(where, `answered HTTP ${res.status}`);
      }
      const html = await readLimited(res, MAX_PAGE_BYTES);
      if (html === undefined) {
        throw new LoginPageChanged(where, "login page of a usual size", "more than 1 MiB");
      }
      const page = parseLoginPage(html, url);
      if (res.status >= 400) {
        throw new IdentityProviderRejected(
          "DESP login",
          `HTTP ${res.status}`,
          page.errors.join(" ") || page.title || undefined,
          res.status,
        );
      }
      return { page };
    }
    throw new LoginPageChanged(url.split("?")[0], "end of its redirects", "more than 10");
  }

  #keepCookies(host: string, setCookies: string[]): void {
    let jar = this.#cookies.get(host);
    if (!jar) this.#cookies.set(host, jar = new Map());
    for (const line of setCookies) {
      const [pair, ...attributes] = line.split(";");
      const eq = pair.indexOf("=");
      if (eq <= 0) continue;
      const name = pair.slice(0, eq).trim();
      const expired = attributes.some((a) => {
        const [key, value = ""] = a.split("=").map((x) => x.trim());
        if (/^max-age$/i.test(key)) return Number(value) <= 0;
        if (/^expires$/i.test(key)) return Date.parse(value) <= Date.now();
        return false;
      });
      if (expired) jar.delete(name);
      else jar.set(name, pair.slice(eq + 1).trim());
    }
  }
}

/** A page's URL without its query (session codes). */
function pageUrl(page: LoginPage): string {
  const url = new URL(page.url);
  return `${url.origin}${url.pathname}`;
}

/** What a page shows, for messages: its title and errors, and its forms' ids. */
function describe(page: LoginPage): string {
  const parts = [page.title && `"${page.title}"`, ...page.errors.map((e) => `"${e}"`)];
  const forms = page.forms.map((f) => f.id ?? "a form").join(", ");
  if (forms) parts.push(`forms: ${forms}`);
  return parts.filter(Boolean).join("; ");
}

/** The body as text, or `undefined` (and the rest not read) beyond `limit` bytes. */
async function readLimited(res: Response, limit: number): Promise<string | undefined> {
  if (!res.body) return "";
  const decoder = new TextDecoder();
  let text = "";
  let size = 0;
  for await (const chunk of res.body) {
    size += chunk.length;
    if (size > limit) return undefined; // leaving the loop cancels the body
    text += decoder.decode(chunk, { stream: true });
  }
  return text + decoder.decode();
}
