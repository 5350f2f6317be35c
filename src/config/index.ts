export { ConfigError, InvalidAddressError } from './errors.ts';
export type { ConfigErrorData } from './errors.ts';
export { formatHostPort, parseHostPort } from './host-port.ts';
export type { HostPort } from './host-port.ts';
export { canonicalNamespace } from './namespace.ts';
export { defaultConfig, loadConfigFile, parseConfig } from './load.ts';
export type { ParseConfigOptions } from './load.ts';
export type { Env } from './values.ts';
export type {
  DesignatedRouterConfig,
  RouterConfig,
  StorageProviderConfig,
} from './types.ts';
