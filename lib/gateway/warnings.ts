/**
 * Warnings of the gateway client, reported through `GatewayOptions.onWarning`; the library
 * prints nothing itself.
 * @module
 */
import type { CleartextToken } from "./cleartext_tokens.ts";
import type { PossibleOrphans } from "./lost_create.ts";

/** Every warning a gateway client reports. */
export type GatewayWarning = CleartextToken | PossibleOrphans;
