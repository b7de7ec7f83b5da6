export type * from './store.js';
export type * from './bus.js';
export type * from './connection.js';
export type * from './clock.js';
export type * from './tokens.js';
export type * from './metrics.js';
export type * from './logger.js';
