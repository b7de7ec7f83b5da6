/**
 * Which timers this hub keeps (DESIGN §8: timers have one owner). Every timer has a key — an
 * escalation `esc:<conversationId>:<participantId>`, an only-if-unseen notification
 * `unseen:<notificationId>`, an appointment reminder `reminder:<appointmentId>` — and exactly one live
 * hub owns each key at a time. A hub arms a timer only for a key it owns; when ownership moves, every
 * hub rebuilds from the store the timers it now owns (the start-up code path) and drops the rest.
 *
 * Ownership is advisory: for a short while after the live set changes two hubs may both believe they
 * own a key (each sees the change at its own moment), so every fire stays safe to run twice (the
 * escalation's compare-and-set on the emailed watermark, a notification's persisted row, a reminder's
 * idempotent event id). Calls are synchronous and cheap (a hash over the live hubs).
 */
export interface TimerOwnership {
  /** Whether this hub owns the timer with this key now. Pure for a given live set. */
  owns(key: string): boolean;
  /**
   * Call `listener` (after every listener added before it) each time the answers of `owns` may have
   * changed: a hub joined, stopped or lapsed. Listeners rebuild from the store; they must not throw.
   */
  onChange(listener: () => void): void;
}
