/**
 * Fan-out of encoded frames to topics. Sessions subscribe through their Connection; publishing is
 * fire-and-forget and reaches every session subscribed to the topic on this hub (later: every hub).
 * Topics: `p:<participantId>` (every session of one participant), `c:<conversationId>` (sessions whose
 * participant may see the conversation by membership or follow), `all:item` and `all:inbox` (users whose
 * access preference is `all`; they never subscribe to `c:` topics of item or inbox conversations, so
 * nobody receives a frame twice).
 */
export interface Bus {
  publish(topic: string, frame: string): void;
}
