/**
 * The protocol layer's error names before 0.2, kept as deprecated aliases of the new names (same
 * classes: `instanceof` and `catch` work with either). Removed in 0.3.
 * @module
 */
import {
  ClientClosed,
  ConnectFailed,
  ConnectionClosed,
  ConnectionLost,
  ConnectionRefused,
  ConnectTimeout,
  DecodeFailed,
  EncodeFailed,
  FrameTooLarge,
  FutureReleased,
  GatewayClusterNotFound,
  GraphBuildFailed,
  HandshakeFailed,
  InvalidAddress,
  RegistrationRefused,
  RemoteSerializationFailed,
  RequestTimeout,
  RpcFailed,
  TaskCancelled,
  TlsHandshakeFailed,
  UnsupportedSchedulerVersion,
} from "./errors.ts";

/** @deprecated Use {@link DecodeFailed}. Removed in 0.3. */
export const DecodeError: typeof DecodeFailed = DecodeFailed;
/** @deprecated Use {@link DecodeFailed}. Removed in 0.3. */
export type DecodeError = DecodeFailed;

/** @deprecated Use {@link EncodeFailed}. Removed in 0.3. */
export const EncodeError: typeof EncodeFailed = EncodeFailed;
/** @deprecated Use {@link EncodeFailed}. Removed in 0.3. */
export type EncodeError = EncodeFailed;

/** @deprecated Use {@link RemoteSerializationFailed}. Removed in 0.3. */
export const RemoteSerializationError: typeof RemoteSerializationFailed = RemoteSerializationFailed;
/** @deprecated Use {@link RemoteSerializationFailed}. Removed in 0.3. */
export type RemoteSerializationError = RemoteSerializationFailed;

/** @deprecated Use {@link InvalidAddress}. Removed in 0.3. */
export const InvalidAddressError: typeof InvalidAddress = InvalidAddress;
/** @deprecated Use {@link InvalidAddress}. Removed in 0.3. */
export type InvalidAddressError = InvalidAddress;

/** @deprecated Use {@link ConnectTimeout}. Removed in 0.3. */
export const ConnectTimeoutError: typeof ConnectTimeout = ConnectTimeout;
/** @deprecated Use {@link ConnectTimeout}. Removed in 0.3. */
export type ConnectTimeoutError = ConnectTimeout;

/** @deprecated Use {@link ConnectionRefused}. Removed in 0.3. */
export const ConnectionRefusedError: typeof ConnectionRefused = ConnectionRefused;
/** @deprecated Use {@link ConnectionRefused}. Removed in 0.3. */
export type ConnectionRefusedError = ConnectionRefused;

/** @deprecated Use {@link ConnectFailed}. Removed in 0.3. */
export const ConnectError: typeof ConnectFailed = ConnectFailed;
/** @deprecated Use {@link ConnectFailed}. Removed in 0.3. */
export type ConnectError = ConnectFailed;

/** @deprecated Use {@link TlsHandshakeFailed}. Removed in 0.3. */
export const TlsHandshakeError: typeof TlsHandshakeFailed = TlsHandshakeFailed;
/** @deprecated Use {@link TlsHandshakeFailed}. Removed in 0.3. */
export type TlsHandshakeError = TlsHandshakeFailed;

/** @deprecated Use {@link GatewayClusterNotFound}. Removed in 0.3. */
export const GatewayClusterNotFoundError: typeof GatewayClusterNotFound = GatewayClusterNotFound;
/** @deprecated Use {@link GatewayClusterNotFound}. Removed in 0.3. */
export type GatewayClusterNotFoundError = GatewayClusterNotFound;

/** @deprecated Use {@link ConnectionClosed}. Removed in 0.3. */
export const ConnectionClosedError: typeof ConnectionClosed = ConnectionClosed;
/** @deprecated Use {@link ConnectionClosed}. Removed in 0.3. */
export type ConnectionClosedError = ConnectionClosed;

/** @deprecated Use {@link FrameTooLarge}. Removed in 0.3. */
export const FrameTooLargeError: typeof FrameTooLarge = FrameTooLarge;
/** @deprecated Use {@link FrameTooLarge}. Removed in 0.3. */
export type FrameTooLargeError = FrameTooLarge;

/** @deprecated Use {@link HandshakeFailed}. Removed in 0.3. */
export const HandshakeError: typeof HandshakeFailed = HandshakeFailed;
/** @deprecated Use {@link HandshakeFailed}. Removed in 0.3. */
export type HandshakeError = HandshakeFailed;

/** @deprecated Use {@link RequestTimeout}. Removed in 0.3. */
export const RequestTimeoutError: typeof RequestTimeout = RequestTimeout;
/** @deprecated Use {@link RequestTimeout}. Removed in 0.3. */
export type RequestTimeoutError = RequestTimeout;

/** @deprecated Use {@link RpcFailed}. Removed in 0.3. */
export const RpcError: typeof RpcFailed = RpcFailed;
/** @deprecated Use {@link RpcFailed}. Removed in 0.3. */
export type RpcError = RpcFailed;

/** @deprecated Use {@link UnsupportedSchedulerVersion}. Removed in 0.3. */
export const UnsupportedSchedulerVersionError: typeof UnsupportedSchedulerVersion =
  UnsupportedSchedulerVersion;
/** @deprecated Use {@link UnsupportedSchedulerVersion}. Removed in 0.3. */
export type UnsupportedSchedulerVersionError = UnsupportedSchedulerVersion;

/** @deprecated Use {@link RegistrationRefused}. Removed in 0.3. */
export const RegistrationError: typeof RegistrationRefused = RegistrationRefused;
/** @deprecated Use {@link RegistrationRefused}. Removed in 0.3. */
export type RegistrationError = RegistrationRefused;

/** @deprecated Use {@link TaskCancelled}. Removed in 0.3. */
export const CancelledError: typeof TaskCancelled = TaskCancelled;
/** @deprecated Use {@link TaskCancelled}. Removed in 0.3. */
export type CancelledError = TaskCancelled;

/** @deprecated Use {@link ConnectionLost}. Removed in 0.3. */
export const ConnectionLostError: typeof ConnectionLost = ConnectionLost;
/** @deprecated Use {@link ConnectionLost}. Removed in 0.3. */
export type ConnectionLostError = ConnectionLost;

/** @deprecated Use {@link ClientClosed}. Removed in 0.3. */
export const ClientClosedError: typeof ClientClosed = ClientClosed;
/** @deprecated Use {@link ClientClosed}. Removed in 0.3. */
export type ClientClosedError = ClientClosed;

/** @deprecated Use {@link FutureReleased}. Removed in 0.3. */
export const FutureReleasedError: typeof FutureReleased = FutureReleased;
/** @deprecated Use {@link FutureReleased}. Removed in 0.3. */
export type FutureReleasedError = FutureReleased;

/** @deprecated Use {@link GraphBuildFailed}. Removed in 0.3. */
export const GraphBuildError: typeof GraphBuildFailed = GraphBuildFailed;
/** @deprecated Use {@link GraphBuildFailed}. Removed in 0.3. */
export type GraphBuildError = GraphBuildFailed;
