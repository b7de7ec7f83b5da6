import type { NotifyReason, UserPreferences } from '../../../protocol/index.js';
import type { ConversationRecord, ItemRecord, ParticipantRecord, ProjectRecord } from '../model.js';
import { isUserPreferences } from '../model.js';

/**
 * SPEC §2 as pure functions: who may see, who may post, who follows, who is notified, and when a
 * relation began. Everything that routes a frame or an email asks these, and nothing else decides.
 * Inputs are plain records; `ctx` carries the conversation's item and that item's project (if any).
 */

export interface RulesContext {
  item?: ItemRecord | null | undefined;
  project?: ProjectRecord | null | undefined;
}

type Who = Pick<ParticipantRecord, 'id' | 'kind' | 'disabled' | 'createdAt' | 'preferences'>;
type Conv = Pick<ConversationRecord, 'kind' | 'visibility' | 'itemId' | 'members'>;

/** Members: explicit members, plus the item's customer for an external item conversation. */
export function isMember(p: Pick<Who, 'id' | 'kind'>, c: Conv, ctx: RulesContext): boolean {
  if (c.members.has(p.id)) return true;
  return p.kind === 'customer' && c.kind === 'item' && c.visibility === 'external' && ctx.item?.customerId === p.id;
}

/** p follows the item explicitly or as its owner or responsible user. */
export function followsItem(pId: string, item: ItemRecord | null | undefined): boolean {
  if (!item) return false;
  return item.followers.has(pId) || item.ownerId === pId || item.responsibleId === pId;
}

function access(p: Who): UserPreferences['access']['viewConversations'] {
  return isUserPreferences(p.preferences) ? p.preferences.access.viewConversations : 'mine';
}

/** may-see(p, c): p receives c's messages, typing and receipts, and may read its history. */
export function maySee(p: Who, c: Conv, ctx: RulesContext): boolean {
  switch (p.kind) {
    case 'customer':
      return c.visibility === 'external' && isMember(p, c, ctx);
    case 'bot':
      return isMember(p, c, ctx);
    case 'user':
      if (isMember(p, c, ctx)) return true;
      if (c.kind === 'direct') return false;
      if (access(p) === 'all') return true;
      if (c.kind === 'inbox') return false;
      return followsItem(p.id, ctx.item) || (access(p) === 'mine' && !!ctx.project && ctx.project.followers.has(p.id));
  }
}

/** may-post(p, c) over WebSocket: users and customers who may see c and are enabled. */
export function mayPostWs(p: Who, c: Conv, ctx: RulesContext): boolean {
  return (p.kind === 'user' || p.kind === 'customer') && !p.disabled && maySee(p, c, ctx);
}

/**
 * may-post(p, c) by email (SPEC §8), checked when the reply arrives: as over WebSocket — an enabled
 * user or customer who may see c now. A reply address never lets a bot post.
 */
export function mayPostEmail(p: Who, c: Conv, ctx: RulesContext): boolean {
  return mayPostWs(p, c, ctx);
}

/** may-post(p, c) over the trusted HTTP API: any enabled bot; others as may-see. */
export function mayPostApi(p: Who, c: Conv, ctx: RulesContext): boolean {
  if (p.disabled) return false;
  return p.kind === 'bot' || maySee(p, c, ctx);
}

/** following(p, c): p is a member of c or follows c's item. */
export function isFollowing(p: Pick<Who, 'id' | 'kind'>, c: Conv, ctx: RulesContext): boolean {
  return isMember(p, c, ctx) || (c.kind === 'item' && followsItem(p.id, ctx.item));
}

/** The reason a notify frame would carry for a message from a sender of `senderKind` in c. */
export function notifyReason(senderKind: Who['kind'], c: Conv): NotifyReason {
  if (senderKind === 'customer') return 'from_customer';
  return c.visibility === 'external' ? 'reply_to_customer' : 'internal';
}

/**
 * notify(p, m): whether p gets a notify frame (and may be emailed) for message m from `sender` in c.
 * Returns the reason, or null when p is not notified.
 */
export function notify(p: Who, sender: { id: string; kind: Who['kind'] }, c: Conv, ctx: RulesContext): NotifyReason | null {
  if (p.id === sender.id || p.disabled || !maySee(p, c, ctx)) return null;
  const reason = notifyReason(sender.kind, c);
  if (p.kind === 'bot') return null;
  if (p.kind === 'customer') return reason;
  const prefs = p.preferences;
  if (!isUserPreferences(prefs)) return null;
  const n = prefs.notifications;
  if (sender.kind === 'customer') {
    if (n.fromCustomers === 'all') return reason;
    if (n.fromCustomers === 'mine') return isFollowing(p, c, ctx) ? reason : null;
    return null;
  }
  if (c.visibility === 'external') {
    if (n.repliesToCustomers === 'all') return reason;
    if (n.repliesToCustomers === 'followed') return isFollowing(p, c, ctx) ? reason : null;
    return null;
  }
  return n.followedInternal && isFollowing(p, c, ctx) ? reason : null;
}

/**
 * When p's relation to c began: the earliest of its membership, its follow of the item (explicit or
 * as owner/responsible), its follow of the project (when that grants access), and — when its access
 * preference alone lets it see c — its own creation. Null when p has no relation to c.
 * Escalation counts a message only if this time is strictly before the message's.
 */
export function relationSince(p: Who, c: Conv & { createdAt?: number }, ctx: RulesContext): number | null {
  if (!maySee(p, c, ctx)) return null;
  const times: number[] = [];
  const m = c.members.get(p.id);
  if (m !== undefined) times.push(m);
  const item = ctx.item;
  if (item && c.kind === 'item') {
    if (p.kind === 'customer' && item.customerId === p.id && item.roleSince.customer !== null && c.visibility === 'external') times.push(item.roleSince.customer);
    if (p.kind === 'user') {
      const f = item.followers.get(p.id);
      if (f !== undefined) times.push(f);
      if (item.ownerId === p.id && item.roleSince.owner !== null) times.push(item.roleSince.owner);
      if (item.responsibleId === p.id && item.roleSince.responsible !== null) times.push(item.roleSince.responsible);
    }
  }
  if (p.kind === 'user' && c.kind !== 'direct') {
    if (access(p) === 'all') times.push(p.createdAt);
    else if (c.kind === 'item' && ctx.project) {
      const f = ctx.project.followers.get(p.id);
      if (f !== undefined) times.push(f);
    }
  }
  return times.length ? Math.min(...times) : null;
}
