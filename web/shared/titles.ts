/**
 * What to call a conversation and who can read it — the same for every viewer and stable over time:
 * the subject, else the item's title (with its number), else the other party: for an inbox its
 * customer, for a direct conversation the other members' names, sorted. Used by the agent app and
 * the widget.
 */
export interface TitleSubject {
  kind: 'inbox' | 'item' | 'direct' | string;
  visibility: 'internal' | 'external' | string;
  itemId: string | null;
  subject: string | null;
  members: readonly string[];
}

export interface TitleContext {
  /** The viewer, left out of a direct conversation's names. */
  viewerId?: string | null | undefined;
  nameOf: (id: string) => string;
  /** 'user' | 'customer' | 'bot', when known. */
  kindOf?: (id: string) => string | undefined;
  item?: (id: string) => { title: string; number?: string | null | undefined; customerId?: string | null | undefined } | undefined;
}

export function conversationTitle(c: TitleSubject, ctx: TitleContext): string {
  if (c.subject) return c.subject;
  const item = c.itemId ? ctx.item?.(c.itemId) : undefined;
  if (item) return `${item.number ? `#${item.number} ` : ''}${item.title}`;
  if (c.kind === 'inbox') {
    const customers = customersOf(c, ctx);
    if (customers.length) return customers.map(ctx.nameOf).sort(byName).join(', ');
  }
  if (c.kind === 'direct') {
    const others = c.members.filter((id) => id !== ctx.viewerId).map(ctx.nameOf).sort(byName);
    if (others.length) return others.join(', ');
    return 'Notes to self';
  }
  return c.itemId ? `Item ${c.itemId}` : 'Conversation';
}

/** The customers who can read a conversation: none for an internal one. */
export function customersOf(c: TitleSubject, ctx: TitleContext): string[] {
  if (c.visibility !== 'external') return [];
  const fromItem = c.itemId ? ctx.item?.(c.itemId)?.customerId : undefined;
  const members = c.members.filter((id) => ctx.kindOf?.(id) === 'customer');
  return [...new Set([...(fromItem ? [fromItem] : []), ...members])];
}

/** "Internal — customers never see this", or "Visible to Carol Diaz". */
export function audienceOf(c: TitleSubject, ctx: TitleContext): { internal: boolean; label: string } {
  if (c.visibility !== 'external') return { internal: true, label: 'Internal — customers never see this' };
  const names = customersOf(c, ctx).map(ctx.nameOf).sort(byName);
  return { internal: false, label: `Visible to ${names.length ? names.join(', ') : 'the customer'}` };
}

function byName(a: string, b: string): number {
  return a.localeCompare(b);
}
