/**
 * A small, safe Markdown renderer for message bodies: **bold**, _italic_ (or *italic*), `code`, fenced
 * code blocks, bulleted and numbered lists, and http(s) URLs turned into links. It builds Preact nodes
 * (never HTML strings, never dangerouslySetInnerHTML), so a body can never inject markup; only
 * http: and https: URLs are ever linked, opened in a new tab with rel="noopener noreferrer".
 *
 * @example
 * <div class="body"><Markdown text={message.body} /></div>
 */
import { h, type ComponentChild, type ComponentChildren } from 'preact';

/** A rendered piece of a message: an element of any props, or text. */
type AnyNode = ComponentChild;

/** The URL as a link target, or null when it is not a plain http(s) URL. */
export function safeHref(url: string): string | null {
  if (!/^https?:\/\//i.test(url)) return null;
  try {
    const u = new URL(url);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.href : null;
  } catch {
    return null;
  }
}

// One alternation, scanned left to right: code, bold, italic (_x_ or *x*), URL.
const INLINE = /(`[^`\n]+`)|(\*\*(?=\S)[\s\S]+?\*\*)|((?<![\w\\])_(?=\S)[^_\n]+?_(?!\w))|((?<![\w*])\*(?=[^\s*])[^*\n]+?\*(?![\w*]))|(https?:\/\/[^\s<>"'`]+)/gi;

/** Trailing punctuation belongs to the sentence, not the URL; so does a `)` without its `(`. */
function trimUrl(url: string): string {
  let u = url.replace(/[.,;:!?]+$/, '');
  while (u.endsWith(')') && (u.match(/\(/g)?.length ?? 0) < (u.match(/\)/g)?.length ?? 0)) u = u.slice(0, -1).replace(/[.,;:!?]+$/, '');
  return u;
}

function link(url: string, key: number): AnyNode {
  const href = safeHref(url);
  return href ? h('a', { key, href, target: '_blank', rel: 'noopener noreferrer' }, url) : h('span', { key }, url);
}

/** Inline spans of one block of text. */
export function renderInline(text: string, depth = 0): ComponentChildren[] {
  const out: ComponentChildren[] = [];
  let last = 0;
  let key = 0;
  INLINE.lastIndex = 0;
  const re = new RegExp(INLINE.source, INLINE.flags);
  for (let m = re.exec(text); m; m = re.exec(text)) {
    let end = m.index + m[0].length;
    let node: ComponentChildren;
    if (m[1]) node = h('code', { key: key++ }, m[1].slice(1, -1));
    else if (m[2] && depth < 4) node = h('strong', { key: key++ }, renderInline(m[2].slice(2, -2), depth + 1));
    else if (m[3] && depth < 4) node = h('em', { key: key++ }, renderInline(m[3].slice(1, -1), depth + 1));
    else if (m[4] && depth < 4) node = h('em', { key: key++ }, renderInline(m[4].slice(1, -1), depth + 1));
    else if (m[5]) {
      const url = trimUrl(m[5]);
      end = m.index + url.length;
      re.lastIndex = end;
      node = link(url, key++);
    } else continue;
    if (m.index > last) out.push(text.slice(last, m.index));
    out.push(node);
    last = end;
  }
  if (last < text.length) out.push(text.slice(last));
  return out;
}

const BULLET = /^\s*[-*•]\s+(.*)$/;
const NUMBERED = /^\s*(\d{1,9})[.)]\s+(.*)$/;
const FENCE = /^\s*```/;

/** The blocks of a message body: paragraphs (line breaks kept), lists and code blocks. */
export function renderMarkdown(text: string): AnyNode[] {
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  const blocks: AnyNode[] = [];
  let para: string[] = [];
  const flush = () => {
    if (para.length) blocks.push(h('p', { key: blocks.length }, renderInline(para.join('\n'))));
    para = [];
  };
  for (let i = 0; i < lines.length; ) {
    const line = lines[i]!;
    if (FENCE.test(line)) {
      flush();
      const code: string[] = [];
      i++;
      while (i < lines.length && !FENCE.test(lines[i]!)) code.push(lines[i++]!);
      i++; // the closing fence (or the end)
      blocks.push(h('pre', { key: blocks.length }, h('code', null, code.join('\n'))));
      continue;
    }
    const bullet = BULLET.exec(line);
    const numbered = NUMBERED.exec(line);
    if (bullet || numbered) {
      flush();
      const ordered = !bullet;
      const items: AnyNode[] = [];
      const start = numbered ? Number(numbered[1]) : 1;
      while (i < lines.length) {
        const b = BULLET.exec(lines[i]!);
        const n = NUMBERED.exec(lines[i]!);
        const text = ordered ? n?.[2] : b?.[1];
        if (text === undefined) break;
        items.push(h('li', { key: items.length }, renderInline(text)));
        i++;
      }
      blocks.push(ordered ? h('ol', { key: blocks.length, ...(start !== 1 ? { start } : {}) }, items) : h('ul', { key: blocks.length }, items));
      continue;
    }
    if (line.trim() === '') flush();
    else para.push(line);
    i++;
  }
  flush();
  return blocks;
}

/** A message body rendered as safe Markdown. */
export function Markdown({ text }: { text: string }): AnyNode {
  return h('div', { class: 'md' }, renderMarkdown(text));
}
