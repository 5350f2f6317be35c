/**
 * wire/: how bytes look on links and on disk. CBOR codec, length-prefixed
 * framing and the wire error-code table.
 */
export * from './errors.ts';
export * from './codec.ts';
export * from './framing.ts';
export * from './frames.ts';
export * from './peer-frames.ts';
