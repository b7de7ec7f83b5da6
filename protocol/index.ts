/**
 * The Parley wire contract (SPEC §3–§4): zod schemas for every WebSocket frame and HTTP body, their
 * inferred types, and the error and close codes. Imports only zod; shared by server/ and client-sdk/.
 */
export * from './codes.js';
export * from './model.js';
export * from './frames.js';
export * from './http.js';
export * from './notifications.js';
export * from './system-emails.js';
export * from './decode.js';
export * from './errors.js';
export { codePointLength, MAX_BODY_CHARS } from './text.js';
export * from './admin.js';
