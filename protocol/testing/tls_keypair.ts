/**
 * Test TLS material shaped like dask-gateway's per-cluster keypair: self-signed, not a CA,
 * `CN=dask-internal`, SAN `DNS:<name>` and `DNS:dask-internal`. Made with Python `cryptography`.
 * @module
 */
import { fileURLToPath } from "node:url";
import { pythonEnv } from "../../tests/replica/python_env.ts";
import type { TlsMaterial } from "../connection/transport.ts";

const KEYPAIR_SCRIPT = fileURLToPath(new URL("./tls_keypair.py", import.meta.url));

/**
 * Writes `cert.pem` and `key.pem` into `dir` for the SAN name `name` and returns them, with the
 * certificate as its own CA (as dask-gateway uses it).
 */
export async function makeTlsKeypair(dir: string, name: string): Promise<TlsMaterial> {
  // The 2025.3 environment has no `cryptography`; the current one always does.
  const python = await pythonEnv("current");
  const out = await new Deno.Command(python, {
    args: [KEYPAIR_SCRIPT, dir, name],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(`generating a TLS keypair failed:\n${new TextDecoder().decode(out.stderr)}`);
  }
  const cert = await Deno.readTextFile(`${dir}/cert.pem`);
  const key = await Deno.readTextFile(`${dir}/key.pem`);
  return { ca: cert, cert, key };
}
