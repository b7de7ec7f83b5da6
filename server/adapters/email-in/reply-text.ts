import EmailReplyParser from 'email-reply-parser';
import { compile, type FormatCallback } from 'html-to-text';
import type { ParsedEmail } from '../../core/ports/inbound.js';

/**
 * email-reply-parser runs some two dozen multiline regular expressions over the whole text, a few of them
 * cubic in the worst case (`[a-z]{3,4}\.\s[\s\S]+\sskrev\s[\s\S]+:`): 8 KB of crafted lines took 0.7 s,
 * 32 KB took 50 s. It sees at most this much (a few hundred milliseconds at worst); a longer text gets
 * our own light stripping (quoted lines, a "-- " signature) instead. Replies above the marker are short.
 */
export const MAX_REPLY_PARSER_CHARS = 4 * 1024;
/** What is read of a text part, and of an HTML part, at most: the new text is at the top. */
const MAX_SOURCE_CHARS = 256 * 1024;
const MAX_HTML_CHARS = 1024 * 1024;
/** Lines longer than this are never a quote header (and keep the header regexes' backtracking bounded). */
const MAX_HEADER_LINE_CHARS = 500;
/** Written where an Outlook reply's quoted history begins; everything from it on is history. */
const CUT_HERE = '\u2063PARLEY-QUOTE-CUT\u2063';

const cutHere: FormatCallback = (_elem, _walk, builder) => {
  builder.openBlock({ leadingLineBreaks: 1 });
  builder.addLiteral(CUT_HERE);
  builder.closeBlock({ trailingLineBreaks: 1 });
};

/** HTML → text with the clients' quote containers left out, compiled once. */
const htmlToText = compile({
  wordwrap: false,
  formatters: { cutHere },
  limits: { maxInputLength: 4 * 1024 * 1024, maxDepth: 200, maxChildNodes: 10_000 },
  selectors: [
    // Quoted history: Apple Mail and Thunderbird (`blockquote type=cite`), Gmail (`div.gmail_quote`, with
    // its "On … wrote:" line inside), Yahoo, Proton, Thunderbird's attribution line.
    { selector: 'blockquote', format: 'skip' },
    { selector: 'div.gmail_quote', format: 'skip' },
    { selector: 'div.yahoo_quoted', format: 'skip' },
    { selector: 'div.protonmail_quote', format: 'skip' },
    { selector: 'div.moz-cite-prefix', format: 'skip' },
    // Outlook puts its "From: … Sent: …" block in #divRplyFwdMsg and the original message *after* it, as
    // siblings: skipping the block would keep the history, so the text is cut there instead.
    { selector: 'div#appendonsend', format: 'cutHere' },
    { selector: 'div#divRplyFwdMsg', format: 'cutHere' },
    { selector: 'img', format: 'skip' },
    { selector: 'a', options: { hideLinkHrefIfSameAsText: true } },
    ...(['h1', 'h2', 'h3', 'h4', 'h5', 'h6'] as const).map((h) => ({ selector: h, options: { uppercase: false } })),
  ],
});

const STRONG_SEPARATOR =
  /^\s*-{2,}\s*(original message|ursprüngliche nachricht|message d'origine|mensaje original|messaggio originale|oorspronkelijk bericht)\s*-{2,}\s*$/i;
const OUTLOOK_FROM = /^\s*\*?(from|von|de|van|da)\s*:\*?\s*\S/i;
const OUTLOOK_SENT = /^\s*\*?(sent|date|gesendet|datum|envoyé|enviado|verzonden|inviato)\s*:/i;
const ATTRIBUTION = [
  /^\s*on\s.{1,300}\swrote:\s*$/i,
  /^\s*am\s.{1,300}\sschrieb\s.{0,300}:\s*$/i,
  /^\s*le\s.{1,300}\sa écrit\s*:\s*$/i,
  /^\s*el\s.{1,300}\sescribió\s*:\s*$/i,
  /^\s*op\s.{1,300}\sschreef\s.{0,300}:\s*$/i,
  /^.{1,300}\s<[^<>\s]+@[^<>\s]+>\s+(wrote|schrieb):\s*$/i,
];

/** See EmailReader.replyText. */
export function replyTextOf(email: ParsedEmail, marker: string): string {
  let text: string;
  if (email.text !== null && email.text.trim() !== '') text = normalize(email.text.slice(0, MAX_SOURCE_CHARS));
  else if (email.html !== null) text = cutAt(normalize(htmlToText(email.html.slice(0, MAX_HTML_CHARS))), CUT_HERE);
  else return '';
  text = cutAtMarker(text, marker);
  text = cutAtQuoteHeader(text);
  text = text.length <= MAX_REPLY_PARSER_CHARS ? new EmailReplyParser().read(text).getVisibleText() : lightStrip(text);
  return tidy(text);
}

/** Drops quoted lines and cuts at a "-- " signature separator. */
function lightStrip(text: string): string {
  const kept: string[] = [];
  for (const line of text.split('\n')) {
    if (line === '-- ' || line === '--') break;
    if (!line.trimStart().startsWith('>')) kept.push(line);
  }
  return kept.join('\n');
}

function normalize(text: string): string {
  return text.replace(/\r\n?/g, '\n').replace(/\u00a0/g, ' ');
}

function cutAt(text: string, needle: string): string {
  const at = text.indexOf(needle);
  return at < 0 ? text : text.slice(0, at);
}

/** Keeps what is above the first line holding the marker, quoted or not (whitespace runs compared as one). */
function cutAtMarker(text: string, marker: string): string {
  const needle = squash(marker);
  if (needle === '') return text;
  const lines = text.split('\n');
  const at = lines.findIndex((line) => squash(line).includes(needle));
  return at < 0 ? text : lines.slice(0, at).join('\n');
}

function squash(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/**
 * Cuts at the first header a client writes above quoted history: "-----Original Message-----", an
 * Outlook "From: … / Sent: …" block, or an attribution ("On … wrote:", "Am … schrieb …:", possibly
 * wrapped over two lines) that only quoted lines, or nothing, follow — so a sentence of the reply
 * that merely ends in "wrote:" stays.
 */
function cutAtQuoteHeader(text: string): string {
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    if (line.length > MAX_HEADER_LINE_CHARS) continue;
    if (STRONG_SEPARATOR.test(line)) return lines.slice(0, i).join('\n');
    if (OUTLOOK_FROM.test(line) && lines.slice(i + 1, i + 5).some((below) => OUTLOOK_SENT.test(below))) {
      return lines.slice(0, i).join('\n');
    }
    // An attribution ends in a colon, on its own line or its wrapped second one; most lines do not.
    const next = lines[i + 1] ?? '';
    if (!line.trimEnd().endsWith(':') && !next.trimEnd().endsWith(':')) continue;
    const attributionEnd = isAttribution(line)
      ? i
      : next.length <= MAX_HEADER_LINE_CHARS && isAttribution(`${line} ${next}`)
        ? i + 1
        : -1;
    if (attributionEnd >= 0 && onlyQuotesAfter(lines, attributionEnd + 1)) return lines.slice(0, i).join('\n');
  }
  return text;
}

function isAttribution(line: string): boolean {
  return ATTRIBUTION.some((re) => re.test(line));
}

function onlyQuotesAfter(lines: string[], from: number): boolean {
  for (let j = from; j < lines.length; j++) {
    const line = (lines[j] ?? '').trim();
    if (line !== '') return line.startsWith('>');
  }
  return true;
}

function tidy(text: string): string {
  return text
    .split('\n')
    .map((line) => line.trimEnd())
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}
