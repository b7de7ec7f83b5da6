import { API_KEY, type TestHub } from './hub.js';

/** Waits for a positive signal (an email, an outcome, a count), never a bare sleep. */
export async function until<T>(check: () => Promise<T | undefined | false> | T | undefined | false, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** The answer of `POST /v1/inbound-emails` (SPEC §4, §8). */
export interface Outcome {
  id: string;
  status: 'posted' | 'ignored' | 'rejected';
  reason?: string;
  conversationId?: string;
  postedMessageId?: string;
}

/** One row of `GET /v1/inbound-emails`. */
export interface InboundLogRow {
  id: string;
  messageId: string;
  from: string;
  status: Outcome['status'];
  reason: string | null;
  conversationId: string | null;
  postedMessageId: string | null;
}

export interface MessageRow {
  id: string;
  senderId: string;
  body: string;
  source: string;
}

/** POSTs a raw email to the hub on `port` (pass `hub.port`, read after any relaunch). */
export async function postInbound(port: number, raw: string | Buffer): Promise<Outcome> {
  const res = await fetch(`http://127.0.0.1:${port}/v1/inbound-emails`, {
    method: 'POST',
    headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'message/rfc822' },
    body: raw,
  });
  if (res.status !== 202) throw new Error(`POST /v1/inbound-emails → ${res.status} ${await res.text()}`);
  return (await res.json()) as Outcome;
}

export async function inboundLog(hub: TestHub): Promise<InboundLogRow[]> {
  return (await hub.ok<{ inboundEmails: InboundLogRow[] }>('GET', '/v1/inbound-emails?since=0&limit=1000')).inboundEmails;
}

export async function messagesOf(hub: TestHub, conversationId: string): Promise<MessageRow[]> {
  return (await hub.ok<{ messages: MessageRow[] }>('GET', `/v1/conversations/${conversationId}/messages?limit=200`)).messages;
}

export interface RawEmail {
  from: string;
  to: string[];
  cc?: string[];
  messageId: string;
  inReplyTo?: string;
  references?: string[];
  subject?: string;
  /** Extra header lines, written as they are. */
  headers?: string[];
  body: string;
}

/** A plain-text email as a mail client writes it, CRLF line endings. */
export function rawEmail(e: RawEmail): string {
  const lines = [
    `From: Sender <${e.from}>`,
    `To: ${e.to.length ? e.to.map((a) => `<${a}>`).join(', ') : 'undisclosed-recipients:;'}`,
    ...(e.cc?.length ? [`Cc: ${e.cc.map((a) => `<${a}>`).join(', ')}`] : []),
    `Subject: ${e.subject ?? 'Re: your message'}`,
    `Message-ID: <${e.messageId}>`,
    ...(e.inReplyTo ? [`In-Reply-To: <${e.inReplyTo}>`] : []),
    ...(e.references?.length ? [`References: ${e.references.map((r) => `<${r}>`).join(' ')}`] : []),
    'Date: Mon, 7 Dec 2026 15:02:03 +0100',
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset="UTF-8"',
    'Content-Transfer-Encoding: 8bit',
    ...(e.headers ?? []),
    '',
    e.body,
    '',
  ];
  return lines.join('\r\n');
}

/** One row of `GET /v1/emails`. */
export interface SentEmailRow {
  id: string;
  to: string;
  kind: string;
  status: string;
  participantId: string | null;
  conversationId: string | null;
}

export async function sentEmails(hub: TestHub): Promise<SentEmailRow[]> {
  return (await hub.ok<{ emails: SentEmailRow[] }>('GET', '/v1/emails?since=0&limit=1000')).emails;
}

/**
 * The reply address and Message-ID of the first email the hub wrote to `participantId` about
 * `conversationId`, read from the outbox (`GET /v1/emails/{id}/raw`), so no SMTP connection is needed.
 */
export async function replyAddressFromOutbox(hub: TestHub, participantId: string, conversationId: string): Promise<{ replyTo: string; messageId: string }> {
  const row = await until(async () => (await sentEmails(hub)).find((e) => e.participantId === participantId && e.conversationId === conversationId), `an email to ${participantId}`);
  const raw = (await hub.api<string>('GET', `/v1/emails/${row.id}/raw`)).body;
  const head = raw.split(/\r?\n\r?\n/)[0]!.replace(/\r?\n[ \t]+/g, ' ');
  const header = (name: string) => new RegExp(`^${name}:\\s*(.*)$`, 'im').exec(head)?.[1]?.replace(/^.*</, '').replace(/>.*$/, '').trim();
  const replyTo = header('Reply-To');
  const messageId = header('Message-ID');
  if (!replyTo || !messageId) throw new Error(`email ${row.id} lacks Reply-To or Message-ID`);
  return { replyTo: replyTo.toLowerCase(), messageId };
}
