import type { SeenFrame, SendFrame, TypingFrame } from './frames.js';
import { MAX_BODY_CHARS, codePointLength, isBlank, isWellFormed } from './text.js';

/**
 * The frames every session sends all day (`send`, `seen`, `typing`), checked by hand: the same rules
 * as their zod schemas (SendFrameSchema, SeenFrameSchema, TypingFrameSchema), without building zod's
 * result and issue objects for every frame. It only ever says yes: a frame it does not accept goes to
 * the schema, which accepts or rejects it with the reason, so the answer to a bad frame is the
 * schema's word for word. test/unit/protocol/hot-frames.test.ts checks that both accept exactly the
 * same frames with the same values.
 */
export function decodeHotFrame(obj: Record<string, unknown>): SendFrame | SeenFrame | TypingFrame | null {
  switch (obj.t) {
    case 'send':
      return send(obj);
    case 'seen':
      return seen(obj);
    case 'typing':
      return typing(obj);
    default:
      return null;
  }
}

/** ServerIdSchema: 1–128 UTF-16 units, well-formed. */
function serverId(v: unknown): v is string {
  return typeof v === 'string' && v.length >= 1 && v.length <= 128 && isWellFormed(v);
}

/** Exactly `n` own keys: with the required ones present, no key beyond the schema's. */
function keyCount(obj: Record<string, unknown>): number {
  let n = 0;
  for (const k in obj) if (Object.hasOwn(obj, k)) n++;
  return n;
}

function send(obj: Record<string, unknown>): SendFrame | null {
  const { id, conversationId, clientMsgId, body, format } = obj;
  const keys = format === undefined ? 5 : 6;
  if (keyCount(obj) !== keys || (format === undefined && 'format' in obj)) return null;
  if (typeof id !== 'string' || id.length < 1 || id.length > 64) return null;
  if (!serverId(conversationId)) return null;
  if (typeof clientMsgId !== 'string' || clientMsgId.length < 1 || clientMsgId.length > 64) return null;
  if (typeof body !== 'string' || body.length === 0 || !isWellFormed(body)) return null;
  // UTF-16 length bounds code points from above: count only when it might be over.
  if (body.length > MAX_BODY_CHARS && codePointLength(body) > MAX_BODY_CHARS) return null;
  if (isBlank(body)) return null;
  if (format !== undefined && format !== 'text' && format !== 'markdown') return null;
  return format === undefined ? { t: 'send', id, conversationId, clientMsgId, body } : { t: 'send', id, conversationId, clientMsgId, body, format };
}

function seen(obj: Record<string, unknown>): SeenFrame | null {
  const { conversationId, upTo } = obj;
  if (keyCount(obj) !== 3 || !serverId(conversationId)) return null;
  if (typeof upTo !== 'number' || !Number.isSafeInteger(upTo) || upTo < 0) return null;
  return { t: 'seen', conversationId, upTo };
}

function typing(obj: Record<string, unknown>): TypingFrame | null {
  const { conversationId } = obj;
  if (keyCount(obj) !== 2 || !serverId(conversationId)) return null;
  return { t: 'typing', conversationId };
}
