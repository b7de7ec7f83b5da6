/**
 * HTML to the plain text of a web notification (SPEC §3: its body is plain text): tags dropped, line
 * and block breaks kept, the common entities decoded. For admin-written bodies, which is why a small
 * pass will do and core needs no HTML library.
 */
export function htmlToPlain(html: string): string {
  return html
    .replace(/<(br|\/p|\/div|\/li|\/h\d)\s*\/?>/gi, '\n')
    .replace(/<[^>]*>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&nbsp;/g, ' ')
    .replace(/&amp;/g, '&')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}
