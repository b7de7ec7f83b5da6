import { describe, expect, it } from 'vitest';
import type { VNode } from 'preact';
import { renderMarkdown, safeHref } from '../../../web/shared/markdown.js';

/** Serializes what renderMarkdown builds, escaping text as the DOM would: the markup the page gets. */
function html(node: unknown): string {
  if (node === null || node === undefined || typeof node === 'boolean') return '';
  if (Array.isArray(node)) return node.map(html).join('');
  if (typeof node === 'string' || typeof node === 'number') return String(node).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const v = node as VNode<Record<string, unknown>>;
  expect(typeof v.type).toBe('string');
  const props = v.props;
  expect(props).not.toHaveProperty('dangerouslySetInnerHTML');
  const attrs = Object.entries(props)
    .filter(([k]) => k !== 'children' && k !== 'key')
    .map(([k, val]) => ` ${k}="${String(val).replace(/"/g, '&quot;')}"`)
    .join('');
  return `<${String(v.type)}${attrs}>${html(props['children'])}</${String(v.type)}>`;
}
const md = (text: string) => html(renderMarkdown(text));

describe('markdown', () => {
  it('renders bold, italic, code, code blocks and lists', () => {
    expect(md('**bold** and _it_ and *it2* and `x<y`')).toBe('<p><strong>bold</strong> and <em>it</em> and <em>it2</em> and <code>x&lt;y</code></p>');
    expect(md('a\nb\n\nc')).toBe('<p>a\nb</p><p>c</p>');
    expect(md('```\n<b>**no**</b>\n```')).toBe('<pre><code>&lt;b&gt;**no**&lt;/b&gt;</code></pre>');
    expect(md('- one\n- **two**')).toBe('<ul><li>one</li><li><strong>two</strong></li></ul>');
    expect(md('1. one\n2. two')).toBe('<ol><li>one</li><li>two</li></ol>');
    expect(md('snake_case_name stays')).toBe('<p>snake_case_name stays</p>');
  });

  it('links http(s) URLs only, with rel="noopener noreferrer" and target="_blank"', () => {
    expect(md('see https://example.com/a?b=1.')).toBe('<p>see <a href="https://example.com/a?b=1" target="_blank" rel="noopener noreferrer">https://example.com/a?b=1</a>.</p>');
    expect(md('(http://x.test/p)')).toContain('href="http://x.test/p"');
    expect(safeHref('javascript:alert(1)')).toBeNull();
    expect(safeHref('JaVaScRiPt:alert(1)')).toBeNull();
    expect(safeHref('data:text/html,<script>')).toBeNull();
  });

  it('never lets a body inject markup or script URLs', () => {
    const payloads = [
      '<script>alert(1)</script>',
      '<img src=x onerror=alert(1)>',
      '[click](javascript:alert(1))',
      'javascript:alert(1)',
      ' jav&#x09;ascript:alert(1)',
      '**<svg onload=alert(1)>**',
      '`</code><script>alert(1)</script>`',
      'https://ok.test/"><script>alert(1)</script>',
      'http://a.test/<img src=x onerror=alert(1)>',
      '_<iframe src="javascript:alert(1)">_',
      '- <a href="javascript:alert(1)">x</a>',
      '```\n</pre><script>alert(1)</script>\n```',
    ];
    for (const p of payloads) {
      const out = md(p);
      expect(out, p).not.toMatch(/<(script|img|svg|iframe)/i);
      for (const [, href] of out.matchAll(/<a href="([^"]*)"/g)) expect(href, p).toMatch(/^https?:\/\/[^\s<>"]*$/);
    }
  });
});
