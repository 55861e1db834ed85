/**
 * Names of the CLI renamed in 0.2, kept until 0.3 so that existing code still runs.
 * @module
 */
import { InvalidCommandLine } from "./errors.ts";

/** @deprecated Use {@linkcode InvalidCommandLine}. Removed in 0.3. */
export const UsageError: typeof InvalidCommandLine = InvalidCommandLine;
/** @deprecated Use {@linkcode InvalidCommandLine}. Removed in 0.3. */
export type UsageError = InvalidCommandLine;
