/**
 * A sample render of the escalation email's texts in the browser. The hub has no preview route for
 * this email (its data is a real conversation's), so the messaging center renders the common part of
 * LiquidJS its built-in templates use — `{{ path | filter }}`, if/elsif/else, unless, for (with
 * `forloop`), assign, comment, raw — over sample data shaped as the composer's. Anything else is
 * reported as not renderable here, and the editor then shows the texts as written. The hub's renderer
 * stays the judge: saving checks the syntax there.
 */

export class NotRenderable extends Error {}

type Value = unknown;
type Scope = Record<string, Value>;

interface Sample {
  recipient: 'user' | 'customer';
  lang: string;
}

const DELAY: Record<string, string> = { en: 'a minute', de: 'einer Minute', pl: 'minuty' };

/** The composer's data for one email, with sample people and messages (EMAIL.md's escalation template data). */
export function sampleData({ recipient, lang }: Sample): Scope {
  const url = `${location.origin}/app/#/c/sample`;
  const bodies = ['Hi, my printer starts smoking whenever I print in colour.', 'It happened again this morning.\nShould I unplug it?'];
  const messages = bodies.map((body, i) => ({
    senderName: i === 0 ? 'Carol Diaz' : 'Carol Diaz',
    time: new Date(Date.UTC(2026, 0, 12, 9, 14 + i * 3)).toLocaleTimeString(lang, { hour: '2-digit', minute: '2-digit', timeZone: 'UTC' }),
    body: body
      .split('\n')
      .map((l) => `    ${l}`)
      .join('\n'),
    clipped: false,
    lines: body.split('\n'),
  }));
  return {
    site: 'Parley',
    to: { name: recipient === 'customer' ? 'Carol Diaz' : 'Ada Lovelace' },
    conversation: { id: 'sample', subject: '#1001 Printer smokes when printing in colour', url },
    count: messages.length,
    leftOut: 0,
    total: messages.length,
    unsubscribeUrl: recipient === 'customer' ? `${location.origin}/u/sample` : null,
    delay: DELAY[lang] ?? DELAY.en,
    preferencesUrl: recipient === 'customer' ? null : `${location.origin}/app/#/preferences`,
    messages,
  };
}

// ─── Parsing ───────────────────────────────────────────────────────────────────────────────────────

type LiquidNode =
  | { t: 'text'; s: string }
  | { t: 'out'; expr: string }
  | { t: 'if'; branches: Array<{ cond: string | null; body: LiquidNode[] }>; negate: boolean }
  | { t: 'for'; name: string; list: string; body: LiquidNode[] }
  | { t: 'assign'; name: string; expr: string };

interface Token {
  kind: 'text' | 'out' | 'tag';
  s: string;
}

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  const re = /\{\{(-?)([\s\S]*?)(-?)\}\}|\{%(-?)([\s\S]*?)(-?)%\}/g;
  let last = 0;
  let trimNext = false;
  for (let m = re.exec(src); m; m = re.exec(src)) {
    let text = src.slice(last, m.index);
    if (trimNext) text = text.replace(/^\s+/, '');
    if (m[1] === '-' || m[4] === '-') text = text.replace(/\s+$/, '');
    if (text) out.push({ kind: 'text', s: text });
    if (m[2] !== undefined) out.push({ kind: 'out', s: m[2].trim() });
    else out.push({ kind: 'tag', s: (m[5] ?? '').trim() });
    trimNext = m[3] === '-' || m[6] === '-';
    last = re.lastIndex;
  }
  let rest = src.slice(last);
  if (trimNext) rest = rest.replace(/^\s+/, '');
  if (/\{\{|\{%/.test(rest)) throw new NotRenderable('an unclosed {{ or {% tag');
  if (rest) out.push({ kind: 'text', s: rest });
  return out;
}

function parse(src: string): LiquidNode[] {
  const tokens = tokenize(src);
  let i = 0;
  /** Nodes until one of `ends` (returned with the tag that ended them). */
  function block(ends: string[]): { nodes: LiquidNode[]; end: string } {
    const nodes: LiquidNode[] = [];
    while (i < tokens.length) {
      const tok = tokens[i++]!;
      if (tok.kind === 'text') nodes.push({ t: 'text', s: tok.s });
      else if (tok.kind === 'out') nodes.push({ t: 'out', expr: tok.s });
      else {
        const [name = '', ...rest] = tok.s.split(/\s+/);
        const args = rest.join(' ');
        if (ends.includes(name)) return { nodes, end: tok.s };
        if (name === 'if' || name === 'unless') {
          const branches: Array<{ cond: string | null; body: LiquidNode[] }> = [];
          let cond: string | null = args;
          for (;;) {
            const r = block(['elsif', 'else', `end${name}`]);
            branches.push({ cond, body: r.nodes });
            const [endName = '', ...endRest] = r.end.split(/\s+/);
            if (endName === `end${name}`) break;
            if (endName === 'elsif' && name === 'if') cond = endRest.join(' ');
            else if (endName === 'else') cond = null;
            else throw new NotRenderable(`{% ${r.end} %} inside {% ${name} %}`);
          }
          nodes.push({ t: 'if', branches, negate: name === 'unless' });
        } else if (name === 'for') {
          const m = /^([A-Za-z_][\w]*)\s+in\s+([\w.]+)$/.exec(args);
          if (!m) throw new NotRenderable(`{% for ${args} %}`);
          const r = block(['endfor', 'else']);
          if (r.end !== 'endfor') throw new NotRenderable('{% for %} with {% else %}');
          nodes.push({ t: 'for', name: m[1]!, list: m[2]!, body: r.nodes });
        } else if (name === 'assign') {
          const m = /^([A-Za-z_][\w]*)\s*=\s*(.+)$/.exec(args);
          if (!m) throw new NotRenderable(`{% assign ${args} %}`);
          nodes.push({ t: 'assign', name: m[1]!, expr: m[2]! });
        } else if (name === 'comment') {
          block(['endcomment']);
        } else if (name === 'raw') {
          // Everything up to endraw as written.
          let s = '';
          while (i < tokens.length) {
            const tk = tokens[i++]!;
            if (tk.kind === 'tag' && tk.s === 'endraw') break;
            s += tk.kind === 'text' ? tk.s : tk.kind === 'out' ? `{{ ${tk.s} }}` : `{% ${tk.s} %}`;
          }
          nodes.push({ t: 'text', s });
        } else throw new NotRenderable(`the tag {% ${name} %}`);
      }
    }
    if (ends.length > 0) throw new NotRenderable(`a missing {% ${ends[ends.length - 1]} %}`);
    return { nodes, end: '' };
  }
  return block([]).nodes;
}

// ─── Evaluation ────────────────────────────────────────────────────────────────────────────────────

function lookup(path: string, scope: Scope): Value {
  let v: Value = scope;
  for (const part of path.split('.')) {
    if (v === null || v === undefined) return undefined;
    if (part === 'size' && (Array.isArray(v) || typeof v === 'string')) return v.length;
    if (part === 'first' && Array.isArray(v)) v = v[0];
    else if (part === 'last' && Array.isArray(v)) v = v[v.length - 1];
    else v = Object.prototype.hasOwnProperty.call(v, part) ? (v as Record<string, Value>)[part] : undefined;
  }
  return v;
}

function literal(s: string, scope: Scope): Value {
  const t = s.trim();
  if (/^-?\d+(\.\d+)?$/.test(t)) return Number(t);
  if (/^"[^"]*"$|^'[^']*'$/.test(t)) return t.slice(1, -1);
  if (t === 'true') return true;
  if (t === 'false') return false;
  if (t === 'nil' || t === 'null' || t === 'empty' || t === 'blank') return t === 'empty' || t === 'blank' ? '' : null;
  if (/^[A-Za-z_][\w.]*$/.test(t)) return lookup(t, scope);
  throw new NotRenderable(`the expression ${t}`);
}

const str = (v: Value): string => (v === null || v === undefined ? '' : Array.isArray(v) ? v.map(str).join('') : String(v));

const FILTERS: Record<string, (v: Value, args: Value[]) => Value> = {
  upcase: (v) => str(v).toUpperCase(),
  downcase: (v) => str(v).toLowerCase(),
  capitalize: (v) => str(v).charAt(0).toUpperCase() + str(v).slice(1),
  strip: (v) => str(v).trim(),
  escape: (v) => str(v),
  raw: (v) => v,
  size: (v) => (Array.isArray(v) || typeof v === 'string' ? v.length : 0),
  default: (v, [d]) => (v === null || v === undefined || v === false || v === '' ? d : v),
  clip: (v, [n]) => {
    const chars = Array.from(str(v));
    const max = Number(n) || 2000;
    return chars.length > max ? `${chars.slice(0, max).join('')}…` : str(v);
  },
  truncate: (v, [n]) => {
    const s = str(v);
    const max = Number(n) || 50;
    return s.length > max ? `${s.slice(0, Math.max(0, max - 3))}...` : s;
  },
  append: (v, [a]) => str(v) + str(a),
  prepend: (v, [a]) => str(a) + str(v),
  replace: (v, [a, b]) => str(v).split(str(a)).join(str(b)),
  join: (v, [sep]) => (Array.isArray(v) ? v.map(str).join(sep === undefined ? ' ' : str(sep)) : str(v)),
  plus: (v, [a]) => Number(v) + Number(a),
  minus: (v, [a]) => Number(v) - Number(a),
};

/** Splits at `sep` outside quotes. */
function splitOutside(s: string, sep: string): string[] {
  const parts: string[] = [];
  let cur = '';
  let quote: string | null = null;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (quote) {
      if (c === quote) quote = null;
      cur += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      cur += c;
    } else if (s.startsWith(sep, i)) {
      parts.push(cur);
      cur = '';
      i += sep.length - 1;
    } else cur += c;
  }
  parts.push(cur);
  return parts;
}

function evaluate(expr: string, scope: Scope): Value {
  const [head = '', ...filters] = splitOutside(expr, '|');
  let v = literal(head, scope);
  for (const f of filters) {
    const [name = '', argText] = splitOutside(f, ':').map((x) => x.trim());
    const fn = FILTERS[name];
    if (!fn) throw new NotRenderable(`the filter ${name}`);
    const args = argText === undefined ? [] : splitOutside(argText, ',').map((a) => literal(a, scope));
    v = fn(v, args);
  }
  return v;
}

const truthy = (v: Value) => v !== null && v !== undefined && v !== false;

function condition(cond: string, scope: Scope): boolean {
  // Liquid reads and/or right to left with no precedence.
  const ors = splitOutside(cond, ' or ');
  if (ors.length > 1) return ors.some((c) => condition(c, scope));
  const ands = splitOutside(cond, ' and ');
  if (ands.length > 1) return ands.every((c) => condition(c, scope));
  const m = /^(.+?)\s*(==|!=|<>|>=|<=|>|<|\bcontains\b)\s*(.+)$/.exec(cond.trim());
  if (!m) return truthy(literal(cond, scope));
  const a = literal(m[1]!, scope);
  const b = literal(m[3]!, scope);
  switch (m[2]) {
    case '==':
      return a === b || (a === null && b === undefined) || (a === undefined && b === null);
    case '!=':
    case '<>':
      return a !== b;
    case '>':
      return Number(a) > Number(b);
    case '<':
      return Number(a) < Number(b);
    case '>=':
      return Number(a) >= Number(b);
    case '<=':
      return Number(a) <= Number(b);
    default:
      return Array.isArray(a) ? a.includes(b) : str(a).includes(str(b));
  }
}

const escapeHtml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');

function run(nodes: LiquidNode[], scope: Scope, html: boolean): string {
  let out = '';
  for (const n of nodes) {
    if (n.t === 'text') out += n.s;
    else if (n.t === 'out') {
      const s = str(evaluate(n.expr, scope));
      out += html ? escapeHtml(s) : s;
    } else if (n.t === 'assign') scope[n.name] = evaluate(n.expr, scope);
    else if (n.t === 'if') {
      for (const b of n.branches) {
        const hit = b.cond === null ? true : n.negate ? !condition(b.cond, scope) : condition(b.cond, scope);
        if (hit) {
          out += run(b.body, scope, html);
          break;
        }
      }
    } else {
      const list = lookup(n.list, scope);
      if (!Array.isArray(list)) continue;
      list.forEach((item, index) => {
        const inner: Scope = Object.assign(Object.create(null) as Scope, scope, {
          [n.name]: item,
          forloop: { index: index + 1, index0: index, first: index === 0, last: index === list.length - 1, length: list.length },
        });
        out += run(n.body, inner, html);
      });
    }
  }
  return out;
}

/** Renders `src` over `data` (HTML-escaping output when `html`); throws NotRenderable for what it does not know. */
export function renderSample(src: string, data: Scope, html = false): string {
  return run(parse(src), { ...data }, html);
}

// ─── Showing the HTML part ─────────────────────────────────────────────────────────────────────────

const KEEP = new Set(['P', 'DIV', 'SPAN', 'STRONG', 'B', 'EM', 'I', 'U', 'A', 'BR', 'HR', 'UL', 'OL', 'LI', 'H1', 'H2', 'H3', 'H4', 'TABLE', 'THEAD', 'TBODY', 'TR', 'TD', 'TH', 'BLOCKQUOTE', 'PRE', 'CODE', 'SMALL']);
const DROP = new Set(['SCRIPT', 'STYLE', 'TITLE', 'HEAD', 'IFRAME', 'OBJECT', 'EMBED', 'FORM', 'TEMPLATE']);

/**
 * The rendered HTML part as this page can show it: parsed inertly, only plain formatting elements
 * kept (no scripts, forms, images or frames), links opening elsewhere, and inline styles applied
 * through the CSS object model (the page's security policy refuses style attributes in markup).
 */
export function htmlFragment(html: string): DocumentFragment {
  const doc = new DOMParser().parseFromString(html, 'text/html');
  const out = document.createDocumentFragment();
  const copy = (from: Node, to: Node) => {
    for (const child of Array.from(from.childNodes)) {
      if (child.nodeType === Node.TEXT_NODE) to.appendChild(document.createTextNode(child.textContent ?? ''));
      if (child.nodeType !== Node.ELEMENT_NODE) continue;
      const el = child as Element;
      if (DROP.has(el.tagName)) continue;
      if (!KEEP.has(el.tagName)) {
        copy(el, to);
        continue;
      }
      const made = document.createElement(el.tagName.toLowerCase());
      const style = el.getAttribute('style');
      if (style) made.style.cssText = style;
      if (el.tagName === 'A') {
        const href = el.getAttribute('href') ?? '';
        if (/^(https?:|mailto:)/i.test(href)) (made as HTMLAnchorElement).href = href;
        (made as HTMLAnchorElement).target = '_blank';
        (made as HTMLAnchorElement).rel = 'noopener noreferrer';
      }
      copy(el, made);
      to.appendChild(made);
    }
  };
  copy(doc.body, out);
  return out;
}
