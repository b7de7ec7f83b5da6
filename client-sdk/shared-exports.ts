/** What both entries (browser.ts, node.ts) export besides their own `ParleyClient`. */
export { ParleyError, ParleyServerError, ParleyClientError, type ClientErrorCode } from './errors.js';
export type {
  Ack,
  ClientEvents,
  ConnectionState,
  MessageMeta,
  NotificationPage,
  OutgoingMessage,
  OutgoingState,
  ParleyClientOptions,
  ReconnectOptions,
  TokenProvider,
  WebSocketFactory,
  WebSocketLike,
  Welcome,
} from './parley-client.js';
export type { ErrorCode, Message, Notification, Presence, Receipt, Summary } from '../protocol/index.js';
