/**
 * Gateway addresses in the forms DEDL's bridges.json writes them: an `http(s)://` API address
 * (with an optional path prefix) and a scheduler proxy address `tcp://host:port`,
 * `tls://host:port`, `gateway://host:port`, a bare `host:port` or just a port. As in the Python
 * client only the proxy's host and port matter; a missing proxy address means the API's host and
 * port.
 * @module
 */
import { formatAddress } from "../../protocol/internal.ts";
import { InvalidGatewayAddress } from "./errors.ts";

/** Where a gateway answers: its HTTP API and its scheduler (TLS/SNI) proxy. */
export interface GatewayEndpoints {
  /** The API base URL without a trailing slash, including any path prefix. */
  readonly apiUrl: string;
  /** The API's origin (`scheme://host:port`), the scope of its cookies. */
  readonly origin: string;
  /** Host of the scheduler proxy (IPv6 without brackets). */
  readonly proxyHost: string;
  /** Port of the scheduler proxy. */
  readonly proxyPort: number;
  /** The proxy as `gateway://host:port`. */
  readonly proxyAddress: string;
}

const PROXY_SCHEMES = ["tcp", "tls", "gateway", "http", "https"];

/**
 * Resolves a gateway's API and proxy addresses.
 *
 * @param address The HTTP API, e.g. `https://dask.lumi.data.destination-earth.eu` or
 *   `http://127.0.0.1:8000/services/dask-gateway`.
 * @param proxyAddress The scheduler proxy: `tcp://host:port` (as bridges.json writes it),
 *   `tls://host:port`, `gateway://host:port`, `host:port`, or a port number on the API's host.
 *   Default: the API's host and port.
 * @throws {InvalidGatewayAddress} naming what is wrong.
 */
export function resolveGatewayEndpoints(
  address: string,
  proxyAddress?: string | number,
): GatewayEndpoints {
  const api = parseApiAddress(address);
  const apiHost = unbracket(api.hostname);
  const apiPort = api.port ? Number(api.port) : api.protocol === "https:" ? 443 : 80;
  let proxyHost = apiHost;
  let proxyPort = apiPort;
  if (typeof proxyAddress === "number") {
    proxyPort = checkPort(proxyAddress, String(proxyAddress));
  } else if (proxyAddress !== undefined) {
    ({ host: proxyHost, port: proxyPort } = parseProxyAddress(proxyAddress));
  }
  return {
    apiUrl: api.origin + api.pathname.replace(/\/+$/, ""),
    origin: api.origin,
    proxyHost,
    proxyPort,
    proxyAddress: formatAddress({ scheme: "gateway", host: proxyHost, port: proxyPort }),
  };
}

/** The scheduler address of a cluster behind the proxy: `gateway://host:port/<name>`. */
export function clusterSchedulerAddress(endpoints: GatewayEndpoints, clusterName: string): string {
  return formatAddress({
    scheme: "gateway",
    host: endpoints.proxyHost,
    port: endpoints.proxyPort,
    clusterName,
  });
}

function parseApiAddress(address: string): URL {
  let url: URL;
  try {
    url = new URL(address.trim());
  } catch {
    throw new InvalidGatewayAddress(
      address,
      "not a URL; write it as http(s)://host[:port][/prefix]",
    );
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new InvalidGatewayAddress(
      address,
      `the API address must be http:// or https://, not ${url.protocol}//` +
        (url.protocol === "tcp:" || url.protocol === "gateway:"
          ? " (that is the form of a proxy address; pass it as proxyAddress)"
          : ""),
    );
  }
  if (url.username || url.password) {
    throw new InvalidGatewayAddress(address, "credentials in the URL are not supported");
  }
  if (url.search || url.hash) {
    throw new InvalidGatewayAddress(address, "the API address takes no query or fragment");
  }
  return url;
}

function parseProxyAddress(text: string): { host: string; port: number } {
  const trimmed = text.trim();
  const sep = trimmed.indexOf("://");
  const scheme = sep < 0 ? "" : trimmed.slice(0, sep).toLowerCase();
  if (sep >= 0 && !PROXY_SCHEMES.includes(scheme)) {
    throw new InvalidGatewayAddress(
      text,
      `unknown proxy scheme "${scheme}://"; use tcp://host:port, tls://host:port or ` +
        `gateway://host:port`,
    );
  }
  let url: URL;
  try {
    url = new URL(`http://${sep < 0 ? trimmed : trimmed.slice(sep + 3)}`);
  } catch {
    throw new InvalidGatewayAddress(text, "not a host:port proxy address");
  }
  if (
    url.username || url.password || url.search || url.hash || !url.hostname || url.pathname !== "/"
  ) {
    throw new InvalidGatewayAddress(text, "a proxy address is just scheme://host:port");
  }
  let port: number;
  if (url.port) port = Number(url.port);
  else if (scheme === "https") port = 443;
  else if (scheme === "http" || /:80\/?$/.test(trimmed)) port = 80; // URL drops the default :80
  else {
    throw new InvalidGatewayAddress(
      text,
      "the proxy address needs a port, e.g. tcp://dask.central.data.destination-earth.eu:80",
    );
  }
  return { host: unbracket(url.hostname), port: checkPort(port, text) };
}

function checkPort(port: number, text: string): number {
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new InvalidGatewayAddress(text, `port ${port} is not in 1-65535`);
  }
  return port;
}

function unbracket(host: string): string {
  return host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
}
