/**
 * Test support: approving (or denying) a device login the way a person would, by driving
 * Keycloak's own HTML pages with fetch: the code entry form at the verification URI, the login
 * form, and the consent form. Cookies are carried by hand (Keycloak marks them `Secure`, yet
 * needs them over plain-HTTP loopback too).
 * @module
 */
import type { DevicePrompt } from "../identity_provider.ts";

/** Follows Keycloak's pages with a cookie jar of its own. */
class BrowserSession {
  readonly #cookies = new Map<string, string>();

  async open(url: string, form?: Record<string, string>): Promise<{ url: string; html: string }> {
    let init: RequestInit = form
      ? { method: "POST", body: new URLSearchParams(form) }
      : { method: "GET" };
    for (let hop = 0; hop < 10; hop++) {
      const headers = new Headers(init.headers);
      headers.set("Cookie", [...this.#cookies].map(([k, v]) => `${k}=${v}`).join("; "));
      // Keycloak routes a POST to /device by this: HTML is the code form, else a device request.
      headers.set("Accept", "text/html");
      const res = await fetch(url, {
        ...init,
        headers,
        redirect: "manual",
        signal: AbortSignal.timeout(10_000),
      });
      for (const cookie of res.headers.getSetCookie()) {
        const pair = cookie.split(";")[0];
        const eq = pair.indexOf("=");
        this.#cookies.set(pair.slice(0, eq), pair.slice(eq + 1));
      }
      const location = res.headers.get("location");
      if (res.status >= 300 && res.status < 400 && location) {
        await res.body?.cancel();
        url = new URL(location, url).href;
        init = { method: "GET" };
        continue;
      }
      if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
      return { url, html: await res.text() };
    }
    throw new Error(`too many redirects from ${url}`);
  }
}

function formAction(html: string, pageUrl: string): string {
  const action = html.match(/<form\b[^>]*\baction="([^"]+)"/)?.[1];
  if (!action) throw new Error(`no form on ${pageUrl}`);
  return new URL(action.replaceAll("&amp;", "&"), pageUrl).href;
}

/**
 * Opens the verification URI (without the code filled in), enters the user code, logs in and
 * answers the consent page with `decision`. Resolves when Keycloak shows its final page.
 */
export async function answerDeviceLogin(options: {
  prompt: DevicePrompt;
  username: string;
  password: string;
  decision: "accept" | "cancel";
}): Promise<void> {
  const browser = new BrowserSession();
  let page = await browser.open(options.prompt.verificationUri);
  for (let step = 0; step < 5; step++) {
    const { html, url } = page;
    if (html.includes('name="device_user_code"')) {
      page = await browser.open(formAction(html, url), {
        device_user_code: options.prompt.userCode,
      });
    } else if (html.includes('name="password"')) {
      page = await browser.open(formAction(html, url), {
        username: options.username,
        password: options.password,
      });
    } else if (/login-actions\/consent/.test(html)) {
      const code = html.match(/name="code" value="([^"]*)"/)?.[1] ?? "";
      page = await browser.open(formAction(html, url), { code, [options.decision]: "Yes" });
    } else if (new URL(url).pathname.endsWith("/device/status")) {
      return; // Keycloak's closing page, after approval or denial.
    } else {
      const text = html.replace(/<[^>]*>/g, " ").replace(/\s+/g, " ").slice(0, 300);
      throw new Error(`unexpected page ${url}: ${text}`);
    }
  }
  throw new Error("device approval did not finish within 5 pages");
}
