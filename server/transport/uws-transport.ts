import { createRequire } from 'node:module';
import type { TemplatedApp, WebSocket, us_listen_socket } from 'uWebSockets.js';
import type { Hub } from '../core/hub.js';
import type { Bus, Connection, Logger } from '../core/ports/index.js';
import type { Session } from '../core/session.js';
import { CloseCode, decodeClientFrame, type DecodeResult } from '../../protocol/index.js';

// uWebSockets.js is a CommonJS native addon; require keeps its exports exactly as the binary made them.
const uws = createRequire(import.meta.url)('uWebSockets.js') as typeof import('uWebSockets.js');

/** True when the native uWS binary loaded, false when the package fell back to its JS (`ws`) build. */
export const UWS_NATIVE = Function.prototype.toString.call(uws.App).includes('[native code]');

/** How often buffered amounts are checked against the slow-consumer bound. */
const SLOW_SWEEP_MS = 100;


interface SocketData {
  session: Session | null;
  conn: UwsConnection | null;
}

/** A Connection over one uWS WebSocket. uWS throws on any use of a closed socket, so closed ones are no-ops. */
class UwsConnection implements Connection {
  open = true;
  constructor(
    private readonly ws: WebSocket<SocketData>,
    private readonly maxBackpressure: number,
    private readonly app: TemplatedApp,
    /** This connection's own topic, subscribed at its first use (an idle session does not pay for it). */
    private readonly topic: string,
    /** Told when this hub gains its first subscriber of a topic or loses its last (the Bus). */
    private readonly topics: TopicInterest,
  ) {}
  private ownTopic = false;
  send(frame: string): boolean {
    if (!this.open) return false;
    // No cork: inside a uWS callback the socket is corked already, and outside one (after an await) a
    // single frame is one write either way; wrapping it cost 3 % of server CPU at the fixed rate.
    this.ws.send(frame, false);
    return !this.cutIfSlow();
  }
  sendAfterPublished(frame: string): void {
    // uWS buffers published frames per socket and writes each socket's share once, after this turn of
    // the loop; a frame published to the connection's own topic joins that write, in publish order.
    if (!this.open) return;
    if (!this.ownTopic) this.ownTopic = this.ws.subscribe(this.topic);
    this.app.publish(this.topic, frame, false);
  }
  /**
   * Past our bound the client is too slow to follow: close it with 1008 (it resumes from history)
   * rather than buffer without end. The close frame queues behind what is buffered.
   */
  cutIfSlow(): boolean {
    if (!this.open || this.ws.getBufferedAmount() <= this.maxBackpressure) return false;
    this.close(CloseCode.TOO_SLOW, 'too slow');
    return true;
  }
  bufferedAmount(): number {
    return this.open ? this.ws.getBufferedAmount() : 0;
  }
  subscribe(topic: string): void {
    if (!this.open) return;
    if (this.ws.subscribe(topic) && this.app.numSubscribers(topic) === 1) this.topics.subscribe(topic);
  }
  unsubscribe(topic: string): void {
    if (!this.open) return;
    if (this.ws.unsubscribe(topic) && this.app.numSubscribers(topic) === 0) this.topics.unsubscribe(topic);
  }
  close(code: number, reason: string): void {
    if (!this.open) return;
    this.open = false;
    this.ws.end(code, reason);
  }
}

/** The part of the Bus that learns which topics this hub listens to. */
type TopicInterest = Pick<Bus, 'subscribe' | 'unsubscribe'>;

export interface UwsTransportOptions {
  logger: Logger;
  maxFrameBytes: number;
  maxBackpressureBytes: number;
  /** Seconds without traffic before uWS pings (and later drops) a connection. */
  idleTimeoutSeconds?: number;
}

/**
 * The uWS edge: one App serving `/v1/ws` and the HTTP routes on one port. The only importer of
 * uWebSockets.js. Its topics are this hub's local delivery for the Bus: published in C++.
 */
export class UwsTransport {
  readonly app: TemplatedApp;
  private listenSocket: us_listen_socket | null = null;
  private readonly connections = new Set<UwsConnection>();
  private sweeper: NodeJS.Timeout | null = null;
  private readonly decoder = new TextDecoder('utf-8', { fatal: true });
  private connectionSeq = 0;

  constructor(private readonly opts: UwsTransportOptions) {
    this.app = uws.App();
  }

  /** Hand a frame to this hub's sessions subscribed to `topic`. */
  deliver(topic: string, frame: string): void {
    this.app.publish(topic, frame, false);
  }

  /** Register the WebSocket endpoint, handing every socket event to the hub; `topics` learns what this hub listens to. */
  attachHub(hub: Hub, topics: TopicInterest): void {
    const { maxFrameBytes, maxBackpressureBytes } = this.opts;
    // Published frames are buffered by uWS in C++; a sweep closes sessions past our bound with 1008.
    // uWS's own limit sits well above it as a last resort (it drops the socket without a close frame).
    this.sweeper = setInterval(() => {
      for (const c of this.connections) c.cutIfSlow();
    }, SLOW_SWEEP_MS);
    this.sweeper.unref();
    this.app.ws<SocketData>('/v1/ws', {
      // uWS drops an oversized message without a close frame; give it room so that we can close
      // with 1009 ourselves. Only frames past this much larger bound get uWS's abrupt close.
      maxPayloadLength: Math.max(maxFrameBytes * 16, 1024 * 1024),
      maxBackpressure: maxBackpressureBytes * 64,
      closeOnBackpressureLimit: 1,
      idleTimeout: this.opts.idleTimeoutSeconds ?? 60,
      sendPingsAutomatically: true,
      compression: uws.DISABLED,
      upgrade: (res, req, context) => {
        res.upgrade<SocketData>(
          { session: null, conn: null },
          req.getHeader('sec-websocket-key'),
          req.getHeader('sec-websocket-protocol'),
          req.getHeader('sec-websocket-extensions'),
          context,
        );
      },
      open: (ws) => {
        const data = ws.getUserData();
        data.conn = new UwsConnection(ws, maxBackpressureBytes, this.app, `s:${++this.connectionSeq}`, topics);
        this.connections.add(data.conn);
        data.session = hub.accept(data.conn);
      },
      message: (ws, message, isBinary) => {
        const { session, conn } = ws.getUserData();
        if (!session || !conn) return;
        if (message.byteLength > maxFrameBytes) {
          conn.close(CloseCode.TOO_LARGE, 'frame too large');
          return;
        }
        // Frames are decoded here, at the edge: core sees only valid frames or the reason one is not.
        let decoded: DecodeResult;
        if (isBinary) decoded = { ok: false, code: 'bad_frame', message: 'binary frames are not accepted' };
        else {
          try {
            decoded = decodeClientFrame(this.decoder.decode(message));
          } catch {
            decoded = { ok: false, code: 'bad_frame', message: 'frames must be UTF-8' };
          }
        }
        hub.receive(session, decoded);
      },
      close: (ws) => {
        const data = ws.getUserData();
        if (data.conn) {
          data.conn.open = false;
          this.connections.delete(data.conn);
        }
        if (data.session) hub.closed(data.session);
      },
    });
  }

  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.app.listen(host, port, (socket) => {
        if (!socket) return reject(new Error(`cannot listen on ${host}:${port}`));
        this.listenSocket = socket;
        resolve(uws.us_socket_local_port(socket as never));
      });
    });
  }

  /** Stop accepting new connections; open ones stay until the hub closes them. */
  stopListening(): void {
    if (this.sweeper) clearInterval(this.sweeper);
    if (this.listenSocket) uws.us_listen_socket_close(this.listenSocket);
    this.listenSocket = null;
  }
}
