/**
 * The HTTP layer under {@link Gateway}: one request to a gateway's API with the bearer token, the
 * origin's cookie jar, one token refresh on 401, retries with backoff where repeating is safe, and
 * an overall timeout per call.
 * @module
 */
import type { CleartextTokenGuard } from "./cleartext_tokens.ts";
import { sleep } from "../../base/mod.ts";
import type { TokenSource } from "../auth/mod.ts";
import type { GatewayEndpoints } from "./address.ts";
import { CookieJar } from "./cookie_jar.ts";
import { GatewayAuthRefused, GatewayUnavailable, UnexpectedResponse } from "./errors.ts";

/** Largest response body read; a gateway's answers are a few KB per cluster. */
const MAX_BODY_BYTES = 8 * 1024 * 1024;
/** Attempts per call for retryable failures (the 401 refresh is not counted). */
const MAX_ATTEMPTS = 4;
/** First backoff delay; doubled per attempt, with jitter, capped by {@link MAX_BACKOFF_MS}. */
const FIRST_BACKOFF_MS = 200;
const MAX_BACKOFF_MS = 2_000;

/**
 * Failures of calls that are not idempotent after which the gateway may have acted: the request
 * left (or may have left) and its answer was lost (timeout, connection cut after sending, a front
 * proxy's 502/504). See {@link answerMayBeLost}.
 */
const answersLost = new WeakSet<Error>();

/**
 * Whether `error`, thrown by {@link ApiClient.send} for a call that is not idempotent, means the
 * request may have reached the gateway and only its answer was lost (not: a refused connection,
 * an unresolved name, an answer the gateway gave).
 */
export function answerMayBeLost(error: unknown): boolean {
  return error instanceof Error && answersLost.has(error);
}

/** One API call. */
export interface ApiRequest {
  readonly method: "GET" | "POST" | "DELETE";
  /** Path below the API base URL, e.g. `/api/v1/clusters/`. */
  readonly path: string;
  readonly query?: Readonly<Record<string, string>>;
  /** JSON body. */
  readonly body?: unknown;
  /** Send the bearer token (everything except health and version). */
  readonly authenticated: boolean;
  /**
   * Repeating the call is harmless, so it is retried after failures that may have reached the
   * gateway (5xx, connection lost mid-request). Calls that are not are retried only when the
   * connection could not be opened at all.
   */
  readonly idempotent: boolean;
  /** Overall budget of this call, retries included. Default: the client's timeout. */
  readonly timeoutMs?: number;
  /** 5xx statuses that are answers, not failures (e.g. 503 from `/api/health`). */
  readonly acceptStatus?: readonly number[];
}

/** A gateway's answer. */
export interface ApiResponse {
  readonly url: string;
  readonly status: number;
  /** The parsed JSON body, or `undefined` when the body is empty or not JSON. */
  readonly json: unknown;
  /** The raw body text. */
  readonly text: string;
}

/** Settings of {@link ApiClient}. */
export interface ApiClientOptions {
  readonly auth: TokenSource;
  /** Checks every token send (plain HTTP: warn once, or refuse). */
  readonly cleartext: CleartextTokenGuard;
  /** Default overall budget per call. */
  readonly timeoutMs: number;
  readonly fetch: typeof fetch;
}

/** Sends requests to one gateway's API. */
export class ApiClient {
  /** The session cookies of this gateway's origin. */
  readonly cookies: CookieJar;

  constructor(readonly endpoints: GatewayEndpoints, private readonly options: ApiClientOptions) {
    this.cookies = new CookieJar(endpoints.origin);
  }

  /**
   * Sends `req` and returns the gateway's answer for any status except 401 and failing 5xx.
   * @throws {GatewayAuthRefused} on 401 after one forced token refresh.
   * @throws {GatewayUnavailable} when the gateway cannot be reached within the budget, or keeps
   *   answering 502/503/504.
   * @throws {UnexpectedResponse} on another 5xx, or an oversized or malformed body.
   */
  async send(req: ApiRequest): Promise<ApiResponse> {
    const budget = req.timeoutMs ?? this.options.timeoutMs;
    const deadline = Date.now() + budget;
    const url = new URL(this.endpoints.apiUrl + req.path);
    for (const [k, v] of Object.entries(req.query ?? {})) url.searchParams.set(k, v);
    let refreshed = false;
    let attempt = 0;
    for (;;) {
      attempt++;
      const headers = new Headers({ Accept: "application/json" });
      if (req.body !== undefined) headers.set("Content-Type", "application/json");
      if (req.authenticated) {
        this.options.cleartext.check(url);
        const token = await this.options.auth.accessToken(
          refreshed ? { forceRefresh: true } : undefined,
        );
        headers.set("Authorization", `Bearer ${token}`);
        this.cookies.useFor(this.options.auth.identity);
      }
      const cookie = this.cookies.header(url);
      if (cookie) headers.set("Cookie", cookie);

      const remaining = deadline - Date.now();
      let failure: { reason: string; retryable: boolean; cause?: unknown; reached?: boolean };
      let sent = false;
      // Deno's fetch sends a request again, on a new connection, when a reused keep-alive
      // connection closes before the answer: a call that is not idempotent (a create) could act
      // twice. It goes on a connection of its own, never reused, so that it is sent once.
      using client = req.idempotent ? undefined : Deno.createHttpClient({ poolMaxIdlePerHost: 0 });
      try {
        if (remaining <= 0) throw new DOMException("deadline passed", "TimeoutError");
        sent = true;
        const res = await this.options.fetch(url, {
          method: req.method,
          headers,
          body: req.body === undefined ? undefined : JSON.stringify(req.body),
          signal: AbortSignal.timeout(remaining),
          client,
        });
        this.cookies.store(url, res.headers);
        const text = await readBody(res, url.href);
        const answer: ApiResponse = {
          url: url.href,
          status: res.status,
          json: parseJson(text, res, url.href),
          text,
        };
        if (res.status === 401 && req.authenticated) {
          if (!refreshed) {
            refreshed = true;
            this.cookies.clear();
            attempt--;
            continue;
          }
          throw new GatewayAuthRefused(this.endpoints.apiUrl, serverMessage(answer));
        }
        if (res.status < 500 || req.acceptStatus?.includes(res.status)) return answer;
        failure = {
          reason: `HTTP ${res.status} (${serverMessage(answer) ?? "no message"})`,
          retryable: req.idempotent,
          // A front proxy's "bad gateway" or "gateway timeout": it may have forwarded the call.
          reached: res.status === 502 || res.status === 504,
        };
        if (![502, 503, 504].includes(res.status) && !canRetry(failure, attempt, deadline)) {
          throw new UnexpectedResponse(url.href, res.status, failure.reason);
        }
      } catch (e) {
        if (e instanceof GatewayAuthRefused || e instanceof UnexpectedResponse) throw e;
        failure = classifyFetchError(e, budget, req.idempotent);
        failure.reached &&= sent;
      }
      if (!canRetry(failure, attempt, deadline)) {
        const error = new GatewayUnavailable(this.endpoints.apiUrl, failure.reason, {
          cause: failure.cause,
        });
        if (failure.reached && !req.idempotent) answersLost.add(error);
        throw error;
      }
      await sleep(Math.min(backoff(attempt), deadline - Date.now()));
    }
  }
}

/** The gateway's `{"error": ...}` text, else the start of the body, else `null`. */
export function serverMessage(res: ApiResponse): string | null {
  const error = (res.json as { error?: unknown } | undefined)?.error;
  if (typeof error === "string") return error;
  const text = res.text.trim();
  return text ? excerpt(text) : null;
}

function canRetry(
  failure: { retryable: boolean },
  attempt: number,
  deadline: number,
): boolean {
  return failure.retryable && attempt < MAX_ATTEMPTS &&
    deadline - Date.now() > FIRST_BACKOFF_MS;
}

function classifyFetchError(
  e: unknown,
  budgetMs: number,
  idempotent: boolean,
): { reason: string; retryable: boolean; cause: unknown; reached: boolean } {
  if (e instanceof DOMException && e.name === "TimeoutError") {
    return { reason: `no answer within ${budgetMs} ms`, retryable: false, cause: e, reached: true };
  }
  const detail = [e, (e as { cause?: unknown })?.cause]
    .map((x) => (x instanceof Error ? x.message : ""))
    .join(" ");
  // Deno's fetch says "client error (Connect)" when the connection was never opened: the
  // request did not leave, so even a non-idempotent call may be repeated.
  const notSent = /\(Connect\)/.test(detail);
  const refused = /refused/i.test(detail);
  const dns = /dns error|lookup/i.test(detail);
  return {
    reason: refused
      ? "connection refused"
      : dns
      ? "host name not resolved"
      : `request failed (${excerpt(detail.trim() || String(e))})`,
    retryable: notSent || idempotent,
    cause: e,
    // Sent, or possibly sent: the connection broke after it was opened.
    reached: !notSent && !refused && !dns,
  };
}

async function readBody(res: Response, url: string): Promise<string> {
  if (!res.body) return "";
  const declared = Number(res.headers.get("content-length") ?? "0");
  if (declared > MAX_BODY_BYTES) {
    await res.body.cancel();
    throw new UnexpectedResponse(url, res.status, `body of ${declared} bytes is too large`);
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = res.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > MAX_BODY_BYTES) {
      await reader.cancel();
      throw new UnexpectedResponse(url, res.status, `body exceeds ${MAX_BODY_BYTES} bytes`);
    }
    chunks.push(value);
  }
  const all = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.length;
  }
  return new TextDecoder().decode(all);
}

function parseJson(text: string, res: Response, url: string): unknown {
  if (!text || !/json/i.test(res.headers.get("content-type") ?? "")) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw new UnexpectedResponse(url, res.status, `invalid JSON: ${excerpt(text)}`);
  }
}

function excerpt(text: string): string {
  return text.length > 200 ? `${text.slice(0, 200)}...` : text;
}

function backoff(attempt: number): number {
  const ceiling = Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS * 2 ** (attempt - 1));
  return ceiling / 2 + Math.random() * (ceiling / 2);
}
