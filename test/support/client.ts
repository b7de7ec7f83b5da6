import WebSocket from 'ws';
import { ServerFrameSchema, type ServerFrame } from '../../protocol/index.js';

type FrameOf<T extends ServerFrame['t']> = Extract<ServerFrame, { t: T }>;

/**
 * A raw-frame WebSocket client for tests. Every server frame is checked against the protocol's
 * ServerFrameSchema as it arrives (a frame off the contract fails the test), then queued.
 */
export class TestClient {
  readonly frames: ServerFrame[] = [];
  private readonly waiters: Array<{ match: (f: ServerFrame) => boolean; resolve: (f: ServerFrame) => void }> = [];
  closed: { code: number; reason: string } | null = null;
  private closeWaiters: Array<(c: { code: number; reason: string }) => void> = [];
  violations: string[] = [];
  private seq = 0;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data, isBinary) => {
      const text = isBinary ? '' : data.toString();
      const parsed = ServerFrameSchema.safeParse(JSON.parse(text));
      if (!parsed.success) {
        this.violations.push(`${text} → ${parsed.error.message}`);
        return;
      }
      const frame = parsed.data;
      const i = this.waiters.findIndex((w) => w.match(frame));
      if (i >= 0) this.waiters.splice(i, 1)[0]!.resolve(frame);
      else this.frames.push(frame);
    });
    ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      for (const w of this.closeWaiters) w(this.closed);
      this.closeWaiters = [];
    });
  }

  static open(url: string): Promise<TestClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      const c = new TestClient(ws);
      ws.once('open', () => resolve(c));
      ws.once('error', reject);
    });
  }

  send(frame: unknown): void {
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** A fresh request id. */
  id(): string {
    return `r${++this.seq}`;
  }

  /** Send a request and wait for the frame answering it (`re` = its id). */
  async request<T extends ServerFrame['t']>(frame: Record<string, unknown>, expect?: T, timeoutMs = 5000): Promise<FrameOf<T> | FrameOf<'error'>> {
    const id = (frame.id as string | undefined) ?? this.id();
    this.send({ ...frame, id });
    const f = await this.next((x) => 're' in x && x.re === id, timeoutMs);
    if (expect && f.t !== expect && f.t !== 'error') throw new Error(`expected ${expect}, got ${JSON.stringify(f)}`);
    return f as FrameOf<T> | FrameOf<'error'>;
  }

  /** Wait for the next frame of a type (or matching a predicate), taking queued ones first. */
  next<T extends ServerFrame['t']>(type: T, timeoutMs?: number): Promise<FrameOf<T>>;
  next(match: (f: ServerFrame) => boolean, timeoutMs?: number): Promise<ServerFrame>;
  next(m: string | ((f: ServerFrame) => boolean), timeoutMs = 5000): Promise<ServerFrame> {
    const match = typeof m === 'string' ? (f: ServerFrame) => f.t === m : m;
    const i = this.frames.findIndex(match);
    if (i >= 0) return Promise.resolve(this.frames.splice(i, 1)[0]!);
    return new Promise((resolve, reject) => {
      const w = {
        match,
        resolve: (f: ServerFrame) => {
          clearTimeout(timer);
          resolve(f);
        },
      };
      const timer = setTimeout(() => {
        const k = this.waiters.indexOf(w);
        if (k >= 0) this.waiters.splice(k, 1);
        reject(new Error(`timed out waiting for ${typeof m === 'string' ? m : 'a matching frame'}; queued: ${JSON.stringify(this.frames.slice(-5))}`));
      }, timeoutMs);
      this.waiters.push(w);
    });
  }

  /** Frames queued so far of a type (without waiting). */
  queued<T extends ServerFrame['t']>(type: T): FrameOf<T>[] {
    return this.frames.filter((f) => f.t === type) as FrameOf<T>[];
  }

  /** Round-trip a ping: every frame the server sent before the pong has arrived afterwards. */
  async sync(): Promise<void> {
    const r = await this.request({ t: 'ping' }, 'pong');
    if (r.t !== 'pong') throw new Error(JSON.stringify(r));
  }

  waitClose(timeoutMs = 5000): Promise<{ code: number; reason: string }> {
    if (this.closed) return Promise.resolve(this.closed);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('timed out waiting for close')), timeoutMs);
      this.closeWaiters.push((c) => {
        clearTimeout(timer);
        resolve(c);
      });
    });
  }

  close(): void {
    this.ws.close();
  }
  terminate(): void {
    this.ws.terminate();
  }
}
