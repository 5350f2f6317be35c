export * from './errors.ts';
export * from './ids.ts';
export * from './clock.ts';
export * from './logger.ts';
export * from './lru.ts';
export * from './backoff.ts';
export * from './duration.ts';
export * from './secret-file.ts';
