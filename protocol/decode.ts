import type { z } from 'zod';
import { CLIENT_FRAME_SCHEMAS, type ClientFrame } from './frames.js';
import { decodeHotFrame } from './hot-frames.js';
import { illFormedPath, isWellFormed } from './text.js';

/** The outcome of decoding one client text frame. */
export type DecodeResult =
  | { ok: true; frame: ClientFrame }
  /** `bad_frame`: not JSON, not an object, unknown `t`, or a missing, extra or wrongly typed field. */
  | { ok: false; code: 'bad_frame'; message: string; re?: string }
  /** `invalid`: well-formed, but a value breaks a rule (length, range, count, both cursors, a lone surrogate). */
  | { ok: false; code: 'invalid'; message: string; re?: string };

// Issues that mean "right shape, wrong value" (SPEC §3: answered `invalid`, not counted as bad).
const VALUE_ISSUES = new Set(['too_big', 'too_small', 'invalid_format', 'custom', 'not_multiple_of']);

/**
 * Decode a client frame: JSON, then the schema of its `t`. Shape errors are `bad_frame`; value errors
 * are `invalid`. `re` is the frame's `id` when it is a readable request id.
 */
export function decodeClientFrame(text: string): DecodeResult {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { ok: false, code: 'bad_frame', message: 'not valid JSON' };
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return { ok: false, code: 'bad_frame', message: 'a frame is a JSON object' };
  }
  const obj = raw as Record<string, unknown>;
  const id = obj.id;
  const re = typeof id === 'string' && id.length >= 1 && id.length <= 64 && isWellFormed(id) ? id : undefined;
  // send, seen and typing checked by hand first (hot-frames.ts); anything it does not accept, the schema judges.
  const hot = decodeHotFrame(obj);
  if (hot) {
    const bad = illFormedPath(text, obj);
    if (bad !== null) return withRe({ ok: false, code: 'invalid', message: `${bad}: not well-formed Unicode (a lone surrogate)` }, re);
    return { ok: true, frame: hot };
  }
  const t = obj.t;
  const schema = typeof t === 'string' && Object.hasOwn(CLIENT_FRAME_SCHEMAS, t) ? CLIENT_FRAME_SCHEMAS[t as keyof typeof CLIENT_FRAME_SCHEMAS] : undefined;
  if (!schema) return withRe({ ok: false, code: 'bad_frame', message: typeof t === 'string' ? `unknown frame type "${t.slice(0, 32)}"` : 'missing frame type t' }, re);
  const parsed = (schema as z.ZodType<ClientFrame>).safeParse(obj);
  if (parsed.success) {
    // SPEC §3 Text: every text field is well-formed, also those whose schema is a plain string.
    const bad = illFormedPath(text, obj);
    if (bad !== null) return withRe({ ok: false, code: 'invalid', message: `${bad}: not well-formed Unicode (a lone surrogate)` }, re);
    return { ok: true, frame: parsed.data };
  }
  const issues = parsed.error.issues;
  const valueOnly = issues.every((i) => VALUE_ISSUES.has(i.code) && !(i.path.length === 1 && i.path[0] === 'id'));
  const first = issues[0];
  const where = first && first.path.length ? `${first.path.join('.')}: ` : '';
  const message = `${where}${first?.message ?? 'bad frame'}`;
  return withRe({ ok: false, code: valueOnly ? 'invalid' : 'bad_frame', message }, re);
}

function withRe(r: Exclude<DecodeResult, { ok: true }>, re: string | undefined): DecodeResult {
  if (re !== undefined) r.re = re;
  return r;
}
