/**
 * Branded identifiers that cross folders. They are plain strings at run
 * time; the brand keeps one kind from being passed where another belongs.
 */
declare const brand: unique symbol;
export type Brand<T, B extends string> = T & { readonly [brand]: B };

/** Multihash (BLAKE2b-256) of a public entity, base64url without padding. */
export type EntityHash = Brand<string, 'EntityHash'>;
/** A namespace is named by the hash of its entity. */
export type NamespaceId = Brand<string, 'NamespaceId'>;
/** Stable identifier of one router process's state (random, persisted). */
export type RouterId = Brand<string, 'RouterId'>;
/** Key of a durable queue in a data store. */
export type QueueId = Brand<string, 'QueueId'>;
/** Identifier of a subscription: derived from (entity, client identifier). */
export type SubscriptionId = Brand<string, 'SubscriptionId'>;
