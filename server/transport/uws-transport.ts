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

/**
 * The slow-consumer sweep checks a tenth of the open sessions every 100 ms, so each session's buffer is
 * checked against the bound once a second: with 19,000 sessions a check of all of them every 100 ms
 * (a native call each) was 3 % of the hub's CPU at the fixed rate. uWS's own limit, far above the
 * bound, stands behind it in between.
 */
const SLOW_SWEEP_MS = 100;
const SLOW_SWEEP_SLICES = 10;


interface SocketData {
  session: Session | null;
  conn: UwsConnection | null;
}

/** What every connection of one transport shares (one object, not a copy of each field per socket). */
interface Edge {
  readonly app: TemplatedApp;
  readonly maxBackpressure: number;
  /** Told when this hub gains its first subscriber of a topic or loses its last (the Bus). */
  readonly topics: TopicInterest;
  readonly participants: ParticipantTopics;
}

/** A Connection over one uWS WebSocket. uWS throws on any use of a closed socket, so closed ones are no-ops. */
class UwsConnection implements Connection {
  open = true;
  /** This connection's own topic (`s:<seq>`), made and subscribed at its first use: an idle session does not pay for it. */
  private own: string | null = null;
  /** Its participant's topic (`p:<id>`), held in `Edge.participants` rather than as a uWS subscription. */
  participantTopic: string | null = null;
  constructor(
    private readonly ws: WebSocket<SocketData>,
    private readonly edge: Edge,
    private readonly seq: number,
  ) {}
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
    if (this.own === null) {
      this.own = `s:${this.seq}`;
      this.ws.subscribe(this.own);
    }
    this.edge.app.publish(this.own, frame, false);
  }
  /**
   * Past our bound the client is too slow to follow: close it with 1008 (it resumes from history)
   * rather than buffer without end. The close frame queues behind what is buffered.
   */
  cutIfSlow(): boolean {
    if (!this.open || this.ws.getBufferedAmount() <= this.edge.maxBackpressure) return false;
    this.close(CloseCode.TOO_SLOW, 'too slow');
    return true;
  }
  bufferedAmount(): number {
    return this.open ? this.ws.getBufferedAmount() : 0;
  }
  subscribe(topic: string): void {
    if (!this.open) return;
    const { app, topics, participants } = this.edge;
    if (isParticipantTopic(topic)) {
      if (participants.add(this, topic)) topics.subscribe(topic);
    } else if (this.ws.subscribe(topic) && app.numSubscribers(topic) === 1) topics.subscribe(topic);
  }
  unsubscribe(topic: string): void {
    if (!this.open) return;
    const { app, topics, participants } = this.edge;
    if (isParticipantTopic(topic)) {
      if (participants.delete(this, topic)) topics.unsubscribe(topic);
    } else if (this.ws.unsubscribe(topic) && app.numSubscribers(topic) === 0) topics.unsubscribe(topic);
  }
  close(code: number, reason: string): void {
    if (!this.open) return;
    this.open = false;
    this.ws.end(code, reason);
  }
}

const isParticipantTopic = (topic: string): boolean => topic.startsWith('p:');

/**
 * The connections of each participant topic on this hub. Every session subscribes to its participant's
 * topic, and as a uWS topic each would cost a few hundred bytes of native memory per idle session (a
 * topic of its own, and the socket's subscriber record). Frames to it are few, so they are handed to
 * each connection's own topic instead (`sendAfterPublished`: in publish order, as uWS would).
 */
class ParticipantTopics {
  /** One connection (the usual case) or several. */
  private readonly byTopic = new Map<string, UwsConnection | UwsConnection[]>();

  /** Returns true when the topic had no connection on this hub before. */
  add(conn: UwsConnection, topic: string): boolean {
    if (conn.participantTopic === topic) return false;
    if (conn.participantTopic !== null) this.delete(conn, conn.participantTopic);
    conn.participantTopic = topic;
    const cur = this.byTopic.get(topic);
    if (cur === undefined) this.byTopic.set(topic, conn);
    else if (Array.isArray(cur)) cur.push(conn);
    else this.byTopic.set(topic, [cur, conn]);
    return cur === undefined;
  }

  /** Returns true when the connection was the topic's last on this hub. */
  delete(conn: UwsConnection, topic: string): boolean {
    if (conn.participantTopic !== topic) return false;
    conn.participantTopic = null;
    const cur = this.byTopic.get(topic);
    if (cur === conn) {
      this.byTopic.delete(topic);
      return true;
    }
    if (!Array.isArray(cur)) return false;
    const rest = cur.filter((c) => c !== conn);
    this.byTopic.set(topic, rest.length === 1 ? rest[0]! : rest);
    return false;
  }

  /** Where the last `forEachSlice` stopped (a Map iterator stays valid as entries come and go). */
  private cursor: IterableIterator<UwsConnection | UwsConnection[]> | null = null;

  /**
   * The next `1/slices` of the connections with a participant topic (every open session, the only
   * ones that get published frames); `slices` calls in a row visit every one that stayed.
   */
  forEachSlice(slices: number, fn: (conn: UwsConnection) => void): void {
    let left = Math.ceil(this.byTopic.size / slices);
    while (left > 0) {
      this.cursor ??= this.byTopic.values();
      const next = this.cursor.next();
      if (next.done) {
        this.cursor = null;
        return;
      }
      left--;
      const cur = next.value;
      if (Array.isArray(cur)) cur.forEach(fn);
      else fn(cur);
    }
  }

  deliver(topic: string, frame: string): void {
    const cur = this.byTopic.get(topic);
    if (cur === undefined) return;
    if (Array.isArray(cur)) for (const c of cur) c.sendAfterPublished(frame);
    else cur.sendAfterPublished(frame);
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
  private sweeper: NodeJS.Timeout | null = null;
  private readonly decoder = new TextDecoder('utf-8', { fatal: true });
  private readonly participants = new ParticipantTopics();
  private connectionSeq = 0;

  constructor(private readonly opts: UwsTransportOptions) {
    this.app = uws.App();
  }

  /** Hand a frame to this hub's sessions subscribed to `topic`. */
  deliver(topic: string, frame: string): void {
    if (isParticipantTopic(topic)) this.participants.deliver(topic, frame);
    else this.app.publish(topic, frame, false);
  }

  /** Register the WebSocket endpoint, handing every socket event to the hub; `topics` learns what this hub listens to. */
  attachHub(hub: Hub, topics: TopicInterest): void {
    const { maxFrameBytes, maxBackpressureBytes } = this.opts;
    const edge: Edge = { app: this.app, maxBackpressure: maxBackpressureBytes, topics, participants: this.participants };
    // Published frames are buffered by uWS in C++; a sweep closes sessions past our bound with 1008.
    // uWS's own limit sits well above it as a last resort (it drops the socket without a close frame).
    // Only open sessions are sent published frames, and each has its participant's topic: the sweep
    // goes through those (a socket before its welcome gets direct sends only, each checked as sent).
    this.sweeper = setInterval(() => {
      this.participants.forEachSlice(SLOW_SWEEP_SLICES, (c) => c.cutIfSlow());
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
        data.conn = new UwsConnection(ws, edge, ++this.connectionSeq);
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
          // As uWS drops a closed socket's subscriptions without a word to the Bus, so here.
          if (data.conn.participantTopic !== null) this.participants.delete(data.conn, data.conn.participantTopic);
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
