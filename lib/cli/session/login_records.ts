/**
 * The CLI's note of remembered logins (`cli-logins.json` beside the token cache): which account
 * and which way of logging in, per DEDL issuer and client, so that later commands resume that
 * login. It holds no secret: the session itself is in the library's token cache.
 * @module
 */
import { dirname, join } from "node:path";
import { LoginRecordsUnusable } from "../errors.ts";

/** One remembered login. */
export type LoginRecord =
  | { method: "password"; username: string }
  | { method: "device" }
  | { method: "desp"; username: string; despIssuer: string; clientId?: string }
  | { method: "client-credentials"; clientId: string };

/** The remembered logins, in the folder of the token cache `tokenCachePath`. */
export class LoginRecords {
  /** The notes file. */
  readonly path: string;

  constructor(tokenCachePath: string) {
    this.path = join(dirname(tokenCachePath), "cli-logins.json");
  }

  /** The login remembered for `issuer` and `clientId`, if any. */
  async get(issuer: string, clientId: string): Promise<LoginRecord | undefined> {
    return (await this.#read())[`${issuer} ${clientId}`];
  }

  /** Remembers `record` for `issuer` and `clientId`, or forgets it (`undefined`). */
  async set(issuer: string, clientId: string, record: LoginRecord | undefined): Promise<void> {
    const all = await this.#read();
    if (record) all[`${issuer} ${clientId}`] = record;
    else delete all[`${issuer} ${clientId}`];
    try {
      await Deno.mkdir(dirname(this.path), { recursive: true, mode: 0o700 });
      await Deno.writeTextFile(this.path, JSON.stringify({ version: 1, logins: all }, null, 1), {
        mode: 0o600,
      });
    } catch (e) {
      throw new LoginRecordsUnusable(this.path, "write", e as Error);
    }
  }

  async #read(): Promise<Record<string, LoginRecord>> {
    try {
      const data = JSON.parse(await Deno.readTextFile(this.path));
      return data?.version === 1 && typeof data.logins === "object" ? { ...data.logins } : {};
    } catch (e) {
      if (e instanceof Deno.errors.NotFound || e instanceof SyntaxError) return {};
      throw new LoginRecordsUnusable(this.path, "read", e as Error);
    }
  }
}
