/**
 * Names of the gateway layer renamed in 0.2, kept until 0.3 so that existing code still runs.
 * @module
 */
import { GatewayAuthRefused } from "./errors.ts";

/** @deprecated Use {@linkcode GatewayAuthRefused}. Removed in 0.3. */
export const AuthenticationError: typeof GatewayAuthRefused = GatewayAuthRefused;
/** @deprecated Use {@linkcode GatewayAuthRefused}. Removed in 0.3. */
export type AuthenticationError = GatewayAuthRefused;
