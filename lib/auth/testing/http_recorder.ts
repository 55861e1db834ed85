/**
 * Test support: a `fetch` that records every request made through it (method, URL, OAuth grant
 * type and client id) so that tests can count requests at the HTTP layer, and that logs every
 * password and token it carries with `recordSecret`.
 * @module
 */
import { recordSecret } from "./secret_log.ts";

/** Form fields that carry secrets: passwords, tokens, codes, client secrets. */
const SECRET_FIELDS = [
  "password",
  "refresh_token",
  "token",
  "subject_token",
  "client_secret",
  "otp",
  "code",
  "code_verifier",
];

/** One request as seen by {@linkcode HttpRecorder}. */
export interface RecordedRequest {
  method: string;
  url: string;
  /** `grant_type` of a form body, if any. */
  grantType?: string;
  /** `client_id` of a form body, if any. */
  clientId?: string;
}

/** Records requests; rewrite hooks let a test alter answers (e.g. a shorter device code life). */
export class HttpRecorder {
  /** Every request so far, in order. */
  readonly requests: RecordedRequest[] = [];
  /** Start times (ms) of the requests, in the same order. */
  readonly startedAt: number[] = [];
  /** Answers of the requests, in the same order (status and JSON body when there was one). */
  readonly answers: { status: number; body: Record<string, unknown> | undefined }[] = [];
  readonly #rewrite?: (request: RecordedRequest, body: Record<string, unknown>) => void;

  constructor(options: {
    /** Edits a JSON answer body in place before the caller sees it. */
    rewriteJson?: (request: RecordedRequest, body: Record<string, unknown>) => void;
  } = {}) {
    this.#rewrite = options.rewriteJson;
  }

  /** The recording `fetch`. */
  readonly fetch: typeof fetch = async (input, init) => {
    const url = input instanceof Request ? input.url : String(input);
    const form = init?.body instanceof URLSearchParams ? init.body : undefined;
    for (const field of SECRET_FIELDS) recordSecret(form?.get(field) ?? undefined);
    const request: RecordedRequest = {
      method: init?.method ?? "GET",
      url,
      ...(form?.get("grant_type") ? { grantType: form.get("grant_type")! } : {}),
      ...(form?.get("client_id") ? { clientId: form.get("client_id")! } : {}),
    };
    const index = this.requests.push(request) - 1;
    this.startedAt[index] = Date.now();
    const response = await fetch(input, init);
    if (!(response.headers.get("content-type") ?? "").includes("json")) {
      this.answers[index] = { status: response.status, body: undefined };
      return response;
    }
    const body = await response.json();
    for (const key of ["access_token", "refresh_token", "id_token", "device_code"]) {
      if (typeof body?.[key] === "string") recordSecret(body[key]);
    }
    this.#rewrite?.(request, body);
    this.answers[index] = { status: response.status, body };
    const headers = new Headers(response.headers);
    headers.delete("content-length");
    headers.delete("content-encoding");
    return new Response(JSON.stringify(body), {
      status: response.status,
      statusText: response.statusText,
      headers,
    });
  };

  /** Number of token endpoint requests with this grant type. */
  grants(grantType: string): number {
    return this.requests.filter((r) => r.grantType === grantType).length;
  }

  /** Number of requests whose URL path ends with `suffix`. */
  calls(suffix: string): number {
    return this.requests.filter((r) => new URL(r.url).pathname.endsWith(suffix)).length;
  }
}
