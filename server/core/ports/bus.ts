/**
 * Fan-out of encoded frames to topics, across every hub (socket.io's cluster adapter and centrifuge's
 * Broker are the models). Sessions subscribe through their Connection, on their own hub; the Bus carries
 * a frame published on one hub to the sessions subscribed on every hub: to this hub's through the local
 * delivery it was built with, to the others' through their inbound handlers. Publishing is fire and
 * forget and keeps order per topic from one publisher.
 *
 * Topics: `p:<participantId>` (every session of one participant), `c:<conversationId>` (sessions whose
 * participant may see the conversation by membership or follow), `all` (users whose access preference
 * is `all`: item and inbox conversations; they never subscribe to `c:` topics of item or inbox conversations, so
 * nobody receives a frame twice), `s:<n>` (one session).
 */
export interface Bus {
  /** Deliver `frame` to every session subscribed to `topic`, on every hub. */
  publish(topic: string, frame: string): void;
  /**
   * This hub gained its first local subscriber of `topic`, or lost its last: a bus across hubs need
   * carry to a hub only the topics it listens to. Both are idempotent.
   */
  subscribe(topic: string): void;
  unsubscribe(topic: string): void;
  /**
   * A bus across hubs: subscribe these topics (as `subscribe`, before any local subscriber) and resolve
   * once frames any hub publishes to them reach this hub, i.e. after the bus confirmed them. A new
   * session's `welcome` waits on it, so that nothing published after it passes the session by. A bus
   * within one process has nothing to wait for and leaves it out.
   */
  confirm?(topics: readonly string[]): Promise<void>;
  /** Frames other hubs published to topics this hub subscribed to; the hub delivers them locally. */
  onInbound(handler: (topic: string, frame: string) => void): void;
}
