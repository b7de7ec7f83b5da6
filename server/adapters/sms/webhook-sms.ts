import { createHmac } from 'node:crypto';
import { SmsError, type OutgoingSms, type SmsSender } from '../../core/ports/index.js';

/** How long one POST may take, reply body included, before it counts as a transient failure. */
export const SMS_TIMEOUT_MS = 10_000;
/** How much of a refusal's body goes into the error message (the provider's reason, for the log). */
const REASON_BYTES = 300;
/** What an HTTP header value may hold; an id outside it would make fetch throw before sending. */
const HEADER_SAFE = /^[\x21-\x7e]+$/;

/**
 * SMS through the provider's webhook (SPEC §6 `PARLEY_SMS_URL`): one POST per SMS of the JSON
 * `{id, to, text}`, signed with `X-Parley-Signature: sha256=<hex HMAC-SHA256 of the body bytes>`
 * and carrying `X-Parley-Sms-Id` so the provider can drop a retry it already accepted.
 *
 * The secret is required: the constructor throws without one, because an unsigned webhook would
 * let anyone who can reach the provider's endpoint send SMS in the hub's name.
 *
 * Redirects are not followed (the signed body goes only where it was configured to go); a 3xx is a
 * permanent failure like other refusals. Error messages carry the status and the start of the
 * reply, never the URL (its query may hold a provider's token).
 */
export class WebhookSmsSender implements SmsSender {
  private readonly url: string;
  private readonly secret: string;
  private readonly timeoutMs: number;

  constructor(opts: { url: string; secret: string; timeoutMs?: number }) {
    if (!opts.secret) throw new Error('PARLEY_SMS_SECRET is required with PARLEY_SMS_URL: an SMS webhook is never called unsigned');
    let url: URL;
    try {
      url = new URL(opts.url);
    } catch {
      throw new Error('PARLEY_SMS_URL is not a URL');
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error('PARLEY_SMS_URL must be http:// or https://');
    // fetch refuses such a URL on every send (and names it, credentials included, in its error).
    if (url.username || url.password) throw new Error('PARLEY_SMS_URL must not hold credentials: the signature authenticates the hub');
    const timeoutMs = opts.timeoutMs ?? SMS_TIMEOUT_MS;
    if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) throw new Error('the SMS timeout must be a positive whole number of milliseconds');
    this.url = url.href;
    this.secret = opts.secret;
    this.timeoutMs = timeoutMs;
  }

  async send(sms: OutgoingSms): Promise<void> {
    if (!HEADER_SAFE.test(sms.id)) throw new SmsError('SMS id cannot be sent as a header', true);
    // The HMAC covers exactly the bytes sent: one Buffer serves both.
    const body = Buffer.from(JSON.stringify({ id: sms.id, to: sms.to, text: sms.text }), 'utf8');
    const signature = createHmac('sha256', this.secret).update(body).digest('hex');
    // One signal bounds the connection, the request and the reading of the reply.
    const signal = AbortSignal.timeout(this.timeoutMs);
    let res: Response;
    try {
      res = await fetch(this.url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'X-Parley-Signature': `sha256=${signature}`, 'X-Parley-Sms-Id': sms.id },
        body,
        redirect: 'manual',
        signal,
      });
    } catch (e) {
      throw new SmsError(`SMS webhook unreachable: ${describe(e)}`, false, { cause: e });
    }
    if (res.status >= 200 && res.status < 300) {
      // Free the connection for reuse without reading what the provider said.
      await res.body?.cancel().catch(() => undefined);
      return;
    }
    const reason = await readReason(res);
    const transient = res.status >= 500 || res.status === 408 || res.status === 429;
    throw new SmsError(`SMS webhook replied ${res.status}${reason ? `: ${reason}` : ''}`, !transient);
  }
}

/** A fetch failure in words: the timeout, or the network error's code (ECONNREFUSED …). */
function describe(e: unknown): string {
  if (e instanceof Error && (e.name === 'TimeoutError' || e.name === 'AbortError')) return 'timed out';
  const cause = e instanceof Error ? (e.cause as { code?: unknown; message?: unknown } | undefined) : undefined;
  if (cause && typeof cause.code === 'string') return cause.code;
  if (cause && typeof cause.message === 'string') return cause.message;
  return e instanceof Error ? e.message : String(e);
}

/**
 * The first REASON_BYTES of a refusal's body, on one line. Reads no further (a provider's error
 * page may be large) and gives '' when the body cannot be read: the status alone decides.
 */
async function readReason(res: Response): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < REASON_BYTES) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } catch {
    // The timeout or a reset while reading the reason: the status is enough to classify.
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  const text = Buffer.concat(chunks).subarray(0, REASON_BYTES).toString('utf8');
  return text.replace(/[\p{Cc}\u2028\u2029]+/gu, ' ').trim();
}
