/**
 * dedl-dask: run Dask work at every DestinE Data Lake site from TypeScript.
 *
 * The layers, bottom up: a native Dask comms client (`protocol/`), OIDC login for DEDL
 * (`lib/auth`), a dask-gateway client (`lib/gateway`) and the multi-site layer
 * (`lib/multicluster`).
 *
 * @module
 */
export {};
