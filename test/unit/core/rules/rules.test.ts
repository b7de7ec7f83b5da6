import { describe, expect, it } from 'vitest';
import { DEFAULT_USER_PREFERENCES, type NotifyReason, type UserPreferences, type Visibility } from '../../../../protocol/index.js';
import type { ConversationRecord, ItemRecord, ParticipantRecord } from '../../../../server/core/model.js';
import { isFollowing, isMember, mayPostApi, mayPostWs, maySee, notify, relationSince, type RulesContext } from '../../../../server/core/rules/rules.js';
import { conversation, item, participant, project } from '../../../support/records.js';

/**
 * Table tests of SPEC §2, one row per case the spec lists. The shared builders give fixed relation
 * times: explicit members join at 10, item followers at 20, the item's customer / owner / responsible
 * took their role at 30 / 40 / 50, project followers at 60; participants are created at 0.
 */

type Prefs = { notifications?: Partial<UserPreferences['notifications']>; access?: Partial<UserPreferences['access']> };
type Notifications = Partial<UserPreferences['notifications']>;

const MINE: Prefs = { access: { viewConversations: 'mine' } };

const user = (id: string, prefs: Prefs = {}, over: Partial<ParticipantRecord> = {}) => participant(id, 'user', { ...over, prefs });
/** A user who sees only what it is related to (access.viewConversations = 'mine'). */
const mineUser = (id: string, notifications: Notifications = {}, over: Partial<ParticipantRecord> = {}) =>
  user(id, { ...MINE, notifications }, over);
const customer = (id: string, over: Partial<ParticipantRecord> = {}) => participant(id, 'customer', over);
const bot = (id: string, over: Partial<ParticipantRecord> = {}) => participant(id, 'bot', over);
/** User preferences that see and want everything, to show a bot carrying them gains nothing by it. */
const GREEDY_PREFERENCES: UserPreferences = {
  ...DEFAULT_USER_PREFERENCES,
  notifications: { fromCustomers: 'all', repliesToCustomers: 'all', followedInternal: true },
  access: { viewConversations: 'all', showFromCustomers: true },
};

const itemConv = (visibility: Visibility, memberIds: string[] = [], over: Partial<ConversationRecord> = {}) =>
  conversation({ kind: 'item', itemId: 'i', visibility, memberIds, ...over });
const direct = (visibility: Visibility, memberIds: string[] = [], over: Partial<ConversationRecord> = {}) =>
  conversation({ kind: 'direct', itemId: null, visibility, memberIds, ...over });
const inbox = (memberIds: string[] = [], over: Partial<ConversationRecord> = {}) =>
  conversation({ kind: 'inbox', itemId: null, visibility: 'external', memberIds, ...over });

/** The context of an item conversation: item `i` in project `p` with the given project followers. */
const itemCtx = (over: Partial<ItemRecord> & { followerIds?: string[] } = {}, projectFollowerIds: string[] = []): RulesContext => ({
  item: item(over),
  project: project(projectFollowerIds),
});
/** The context of a direct or inbox conversation: no item, no project. */
const NO_ITEM: RulesContext = { item: null, project: null };

/** Table rows named by their `name`, printed whole as the test's title. */
const named = <T extends { name: string }>(cases: T[]) => cases.map((c) => [c.name, c] as const);

const at = (entries: Record<string, number>) => new Map(Object.entries(entries));

interface SeeCase {
  name: string;
  p: ParticipantRecord;
  c: ConversationRecord;
  ctx: RulesContext;
  expected: boolean;
}

describe('maySee', () => {
  describe('for a customer', () => {
    it.each(named<SeeCase>([
      { name: 'a customer listed as a member of an external item conversation may see it', p: customer('x'), c: itemConv('external', ['x']), ctx: itemCtx(), expected: true },
      { name: 'a customer listed as a member of an external direct conversation may see it', p: customer('x'), c: direct('external', ['u', 'x']), ctx: NO_ITEM, expected: true },
      { name: 'a customer listed as a member of an inbox conversation may see it', p: customer('x'), c: inbox(['x']), ctx: NO_ITEM, expected: true },
      { name: 'the item’s customer may see an external item conversation it is not listed in', p: customer('x'), c: itemConv('external'), ctx: itemCtx({ customerId: 'x' }), expected: true },
      { name: 'a customer listed as a member of an internal item conversation may not see it', p: customer('x'), c: itemConv('internal', ['x']), ctx: itemCtx(), expected: false },
      { name: 'the item’s customer may not see an internal item conversation', p: customer('x'), c: itemConv('internal'), ctx: itemCtx({ customerId: 'x' }), expected: false },
      {
        name: 'a customer listed, the item’s customer, an item follower and a project follower at once may not see an internal item conversation',
        p: customer('x'),
        c: itemConv('internal', ['x']),
        ctx: itemCtx({ customerId: 'x', followerIds: ['x'] }, ['x']),
        expected: false,
      },
      { name: 'a customer listed as a member of an internal direct conversation may not see it', p: customer('x'), c: direct('internal', ['u', 'x']), ctx: NO_ITEM, expected: false },
      {
        name: 'a customer not a member of an external item conversation may not see it, though it follows the item and its project',
        p: customer('x'),
        c: itemConv('external', ['y']),
        ctx: itemCtx({ customerId: 'y', followerIds: ['x'] }, ['x']),
        expected: false,
      },
      { name: 'a customer not a member of an external direct conversation may not see it', p: customer('x'), c: direct('external', ['u', 'y']), ctx: NO_ITEM, expected: false },
      { name: 'a customer not a member of an inbox conversation may not see it', p: customer('x'), c: inbox(['y']), ctx: NO_ITEM, expected: false },
    ]))('%s', (_name, { p, c, ctx, expected }) => {
      expect(maySee(p, c, ctx)).toBe(expected);
    });
  });

  describe('for a bot', () => {
    it.each(named<SeeCase>([
      { name: 'a bot member of an internal item conversation may see it', p: bot('b'), c: itemConv('internal', ['b']), ctx: itemCtx(), expected: true },
      { name: 'a bot member of an external item conversation may see it', p: bot('b'), c: itemConv('external', ['b']), ctx: itemCtx(), expected: true },
      { name: 'a bot member of a direct conversation may see it', p: bot('b'), c: direct('internal', ['u', 'b']), ctx: NO_ITEM, expected: true },
      { name: 'a bot member of an inbox conversation may see it', p: bot('b'), c: inbox(['x', 'b']), ctx: NO_ITEM, expected: true },
      {
        name: 'a bot not a member of an item conversation may not see it, though it is named customer, owner, responsible and follower of the item and follows its project',
        p: bot('b'),
        c: itemConv('external', ['u']),
        ctx: itemCtx({ customerId: 'b', ownerId: 'b', responsibleId: 'b', followerIds: ['b'] }, ['b']),
        expected: false,
      },
      { name: 'a bot not a member of an internal item conversation may not see it', p: bot('b'), c: itemConv('internal', ['u']), ctx: itemCtx(), expected: false },
      { name: 'a bot not a member of a direct conversation may not see it', p: bot('b'), c: direct('internal', ['u']), ctx: NO_ITEM, expected: false },
      { name: 'a bot not a member of an inbox conversation may not see it', p: bot('b'), c: inbox(['x']), ctx: NO_ITEM, expected: false },
      { name: 'a bot not a member may not see an inbox conversation even if it carries user preferences with access all', p: bot('b', { preferences: GREEDY_PREFERENCES }), c: inbox(['x']), ctx: NO_ITEM, expected: false },
    ]))('%s', (_name, { p, c, ctx, expected }) => {
      expect(maySee(p, c, ctx)).toBe(expected);
    });
  });

  describe('for a user in a direct conversation', () => {
    it.each(named<SeeCase>([
      { name: 'a member with access all may see it', p: user('u'), c: direct('internal', ['u', 'v']), ctx: NO_ITEM, expected: true },
      { name: 'a member with access mine may see it', p: mineUser('u'), c: direct('external', ['u', 'x']), ctx: NO_ITEM, expected: true },
      { name: 'a non-member with access all may not see an internal one (access all does not grant direct)', p: user('u'), c: direct('internal', ['v', 'w']), ctx: NO_ITEM, expected: false },
      { name: 'a non-member with access all may not see an external one (access all does not grant direct)', p: user('u'), c: direct('external', ['v', 'x']), ctx: NO_ITEM, expected: false },
      { name: 'a non-member with access mine may not see it', p: mineUser('u'), c: direct('internal', ['v', 'w']), ctx: NO_ITEM, expected: false },
    ]))('%s', (_name, { p, c, ctx, expected }) => {
      expect(maySee(p, c, ctx)).toBe(expected);
    });
  });

  describe('for a user in an item conversation', () => {
    const rows = (visibility: Visibility): SeeCase[] => [
      { name: `a member with access mine may see an ${visibility} one`, p: mineUser('u'), c: itemConv(visibility, ['u']), ctx: itemCtx(), expected: true },
      { name: `an explicit item follower with access mine may see an ${visibility} one`, p: mineUser('u'), c: itemConv(visibility), ctx: itemCtx({ followerIds: ['u'] }), expected: true },
      { name: `the item’s owner with access mine may see an ${visibility} one`, p: mineUser('u'), c: itemConv(visibility), ctx: itemCtx({ ownerId: 'u' }), expected: true },
      { name: `the item’s responsible user with access mine may see an ${visibility} one`, p: mineUser('u'), c: itemConv(visibility), ctx: itemCtx({ responsibleId: 'u' }), expected: true },
      { name: `a user with access all and no relation may see an ${visibility} one`, p: user('u'), c: itemConv(visibility, ['v']), ctx: itemCtx({ followerIds: ['v'] }, ['v']), expected: true },
      { name: `a project follower with access mine may see an ${visibility} one`, p: mineUser('u'), c: itemConv(visibility), ctx: itemCtx({}, ['u']), expected: true },
      {
        name: `a user with access mine who follows neither the item nor its project may not see an ${visibility} one`,
        p: mineUser('u'),
        c: itemConv(visibility, ['v']),
        ctx: itemCtx({ followerIds: ['v'], ownerId: 'v', responsibleId: 'v' }, ['v']),
        expected: false,
      },
      {
        name: `a user with access mine may not see an ${visibility} one of an item that has no project`,
        p: mineUser('u'),
        c: itemConv(visibility),
        ctx: { item: item({ projectId: null }), project: null },
        expected: false,
      },
    ];
    it.each(named<SeeCase>([...rows('internal'), ...rows('external')]))('%s', (_name, { p, c, ctx, expected }) => {
      expect(maySee(p, c, ctx)).toBe(expected);
    });
  });

  describe('for a user in an inbox conversation', () => {
    it.each(named<SeeCase>([
      { name: 'a member with access mine may see it', p: mineUser('u'), c: inbox(['x', 'u']), ctx: NO_ITEM, expected: true },
      { name: 'a non-member with access all may see it', p: user('u'), c: inbox(['x']), ctx: NO_ITEM, expected: true },
      { name: 'a non-member with access mine may not see it', p: mineUser('u'), c: inbox(['x']), ctx: NO_ITEM, expected: false },
    ]))('%s', (_name, { p, c, ctx, expected }) => {
      expect(maySee(p, c, ctx)).toBe(expected);
    });
  });
});

describe('isMember', () => {
  it.each(named<SeeCase>([
    { name: 'the item’s customer is a member of an external item conversation', p: customer('x'), c: itemConv('external'), ctx: itemCtx({ customerId: 'x' }), expected: true },
    { name: 'the item’s customer is not a member of an internal item conversation', p: customer('x'), c: itemConv('internal'), ctx: itemCtx({ customerId: 'x' }), expected: false },
    { name: 'a user named as the item’s customer is not a member of an external item conversation', p: user('x'), c: itemConv('external'), ctx: itemCtx({ customerId: 'x' }), expected: false },
    { name: 'a bot named as the item’s customer is not a member of an external item conversation', p: bot('x'), c: itemConv('external'), ctx: itemCtx({ customerId: 'x' }), expected: false },
    { name: 'the item’s customer is not a member of a direct conversation', p: customer('x'), c: direct('external', ['u']), ctx: itemCtx({ customerId: 'x' }), expected: false },
    { name: 'the item’s customer is not a member of an inbox conversation', p: customer('x'), c: inbox(['y']), ctx: itemCtx({ customerId: 'x' }), expected: false },
    { name: 'a customer of another item is not a member of an external item conversation', p: customer('x'), c: itemConv('external'), ctx: itemCtx({ customerId: 'y' }), expected: false },
    { name: 'a listed user is a member', p: user('u'), c: itemConv('internal', ['u']), ctx: itemCtx(), expected: true },
    { name: 'a listed bot is a member', p: bot('b'), c: direct('internal', ['b']), ctx: NO_ITEM, expected: true },
    { name: 'a customer listed in an internal conversation is a member (may-see still keeps it out)', p: customer('x'), c: itemConv('internal', ['x']), ctx: itemCtx(), expected: true },
    { name: 'an item follower, owner and responsible user is not thereby a member', p: user('u'), c: itemConv('external'), ctx: itemCtx({ followerIds: ['u'], ownerId: 'u', responsibleId: 'u' }), expected: false },
  ]))('%s', (_name, { p, c, ctx, expected }) => {
    expect(isMember(p, c, ctx)).toBe(expected);
  });
});

describe('mayPostWs', () => {
  it.each(named<SeeCase>([
    { name: 'a bot member of an internal item conversation may not post over WebSocket', p: bot('b'), c: itemConv('internal', ['b']), ctx: itemCtx(), expected: false },
    { name: 'a bot member of an external item conversation may not post over WebSocket', p: bot('b'), c: itemConv('external', ['b']), ctx: itemCtx(), expected: false },
    { name: 'a bot member of a direct conversation may not post over WebSocket', p: bot('b'), c: direct('internal', ['u', 'b']), ctx: NO_ITEM, expected: false },
    { name: 'a disabled user member may not post', p: user('u', {}, { disabled: true }), c: itemConv('internal', ['u']), ctx: itemCtx(), expected: false },
    { name: 'a disabled user with access all may not post', p: user('u', {}, { disabled: true }), c: inbox(['x']), ctx: NO_ITEM, expected: false },
    { name: 'a disabled customer member of an external conversation may not post', p: customer('x', { disabled: true }), c: itemConv('external', ['x']), ctx: itemCtx(), expected: false },
    { name: 'an enabled user member may post', p: mineUser('u'), c: direct('internal', ['u']), ctx: NO_ITEM, expected: true },
    { name: 'an enabled user with access all may post in an item conversation it is not a member of', p: user('u'), c: itemConv('internal'), ctx: itemCtx(), expected: true },
    { name: 'an enabled user with access mine may not post where it may not see', p: mineUser('u'), c: itemConv('internal'), ctx: itemCtx(), expected: false },
    { name: 'an enabled user with access all may not post in a direct conversation it is not a member of', p: user('u'), c: direct('internal', ['v']), ctx: NO_ITEM, expected: false },
    { name: 'an enabled customer member of an external conversation may post', p: customer('x'), c: itemConv('external', ['x']), ctx: itemCtx(), expected: true },
    { name: 'the item’s customer may post in an external item conversation', p: customer('x'), c: itemConv('external'), ctx: itemCtx({ customerId: 'x' }), expected: true },
    { name: 'a customer listed in an internal conversation may not post', p: customer('x'), c: itemConv('internal', ['x']), ctx: itemCtx({ customerId: 'x' }), expected: false },
    { name: 'a customer not a member may not post', p: customer('x'), c: inbox(['y']), ctx: NO_ITEM, expected: false },
  ]))('%s', (_name, { p, c, ctx, expected }) => {
    expect(mayPostWs(p, c, ctx)).toBe(expected);
  });
});

describe('mayPostApi', () => {
  it.each(named<SeeCase>([
    { name: 'an enabled bot may post into an internal item conversation it is not a member of', p: bot('b'), c: itemConv('internal'), ctx: itemCtx(), expected: true },
    { name: 'an enabled bot may post into an external item conversation it is not a member of', p: bot('b'), c: itemConv('external', ['x']), ctx: itemCtx(), expected: true },
    { name: 'an enabled bot may post into a direct conversation it is not a member of', p: bot('b'), c: direct('internal', ['u', 'v']), ctx: NO_ITEM, expected: true },
    { name: 'an enabled bot may post into an inbox conversation it is not a member of', p: bot('b'), c: inbox(['x']), ctx: NO_ITEM, expected: true },
    { name: 'a disabled bot may not post, even as a member', p: bot('b', { disabled: true }), c: itemConv('internal', ['b']), ctx: itemCtx(), expected: false },
    { name: 'a disabled user may not post, even as a member', p: user('u', {}, { disabled: true }), c: itemConv('internal', ['u']), ctx: itemCtx(), expected: false },
    { name: 'a disabled customer may not post, even as a member', p: customer('x', { disabled: true }), c: itemConv('external', ['x']), ctx: itemCtx(), expected: false },
    { name: 'an enabled user member may post', p: mineUser('u'), c: itemConv('internal', ['u']), ctx: itemCtx(), expected: true },
    { name: 'an enabled user who may not see may not post', p: mineUser('u'), c: itemConv('internal'), ctx: itemCtx(), expected: false },
    { name: 'an enabled user with access all may not post into a direct conversation it is not a member of', p: user('u'), c: direct('internal', ['v']), ctx: NO_ITEM, expected: false },
    { name: 'an enabled customer member of an external conversation may post', p: customer('x'), c: inbox(['x']), ctx: NO_ITEM, expected: true },
    { name: 'a customer listed in an internal conversation may not post', p: customer('x'), c: itemConv('internal', ['x']), ctx: itemCtx(), expected: false },
  ]))('%s', (_name, { p, c, ctx, expected }) => {
    expect(mayPostApi(p, c, ctx)).toBe(expected);
  });
});

describe('isFollowing', () => {
  it.each(named<SeeCase>([
    { name: 'a member follows the conversation', p: mineUser('u'), c: itemConv('internal', ['u']), ctx: itemCtx(), expected: true },
    { name: 'an explicit item follower follows the item’s conversation', p: mineUser('u'), c: itemConv('internal'), ctx: itemCtx({ followerIds: ['u'] }), expected: true },
    { name: 'the item’s owner follows the item’s conversation', p: mineUser('u'), c: itemConv('external'), ctx: itemCtx({ ownerId: 'u' }), expected: true },
    { name: 'the item’s responsible user follows the item’s conversation', p: mineUser('u'), c: itemConv('external'), ctx: itemCtx({ responsibleId: 'u' }), expected: true },
    { name: 'the item’s customer follows an external item conversation (it is a member)', p: customer('x'), c: itemConv('external'), ctx: itemCtx({ customerId: 'x' }), expected: true },
    { name: 'a member of a direct conversation follows it', p: user('u'), c: direct('internal', ['u', 'v']), ctx: NO_ITEM, expected: true },
    { name: 'a user who sees through access all alone does not follow', p: user('u'), c: itemConv('internal', ['v']), ctx: itemCtx({ followerIds: ['v'] }), expected: false },
    { name: 'a project follower does not follow the item’s conversation', p: mineUser('u'), c: itemConv('internal'), ctx: itemCtx({}, ['u']), expected: false },
    { name: 'a user with access all does not follow an inbox conversation it is not a member of', p: user('u'), c: inbox(['x']), ctx: NO_ITEM, expected: false },
    { name: 'following an item does not make one follow a conversation that is not an item conversation', p: user('u'), c: direct('internal', ['v']), ctx: itemCtx({ followerIds: ['u'] }), expected: false },
  ]))('%s', (_name, { p, c, ctx, expected }) => {
    expect(isFollowing(p, c, ctx)).toBe(expected);
  });
});

describe('notify', () => {
  type Sender = { id: string; kind: ParticipantRecord['kind'] };
  const FROM_CUSTOMER: Sender = { id: 'x', kind: 'customer' };
  const FROM_USER: Sender = { id: 'w', kind: 'user' };
  const FROM_BOT: Sender = { id: 'r', kind: 'bot' };
  const AGENT_SENDERS = [
    ['user', FROM_USER],
    ['bot', FROM_BOT],
  ] as const;

  /**
   * One item whose external and internal conversations have the customer x (external only), the user
   * sender w and the bot sender r as members, and one recipient of each relation: m a member, f an
   * explicit item follower, o the owner, rs the responsible user, pf a project follower with access
   * mine, n a user with access all and no relation (it sees, but does not follow).
   */
  const ext = itemConv('external', ['x', 'w', 'r', 'm']);
  const int = itemConv('internal', ['w', 'r', 'm']);
  const ctx = itemCtx({ customerId: 'x', followerIds: ['f'], ownerId: 'o', responsibleId: 'rs' }, ['pf']);
  const MEMBER = 'a member';
  const ITEM_FOLLOWER = 'an explicit item follower';
  const OWNER = 'the item’s owner';
  const RESPONSIBLE = 'the item’s responsible user';
  const PROJECT_FOLLOWER = 'a project follower with access mine';
  const BYSTANDER = 'a user with access all and no relation';
  const IDS = { [MEMBER]: 'm', [ITEM_FOLLOWER]: 'f', [OWNER]: 'o', [RESPONSIBLE]: 'rs', [PROJECT_FOLLOWER]: 'pf', [BYSTANDER]: 'n' } as const;
  type Role = keyof typeof IDS;
  /** The recipient of a role with the given notification preferences; all but the bystander have access mine. */
  const recipient = (role: Role, notifications: Notifications) =>
    role === BYSTANDER ? user(IDS[role], { notifications }) : mineUser(IDS[role], notifications);

  describe('never notifies', () => {
    interface NeverCase {
      name: string;
      p: ParticipantRecord;
      sender: Sender;
      c: ConversationRecord;
      ctx: RulesContext;
    }
    const everything: Notifications = { fromCustomers: 'all', repliesToCustomers: 'all', followedInternal: true };
    it.each(named<NeverCase>([
      { name: 'a user of its own message in an external conversation', p: user('m', { notifications: everything }), sender: { id: 'm', kind: 'user' }, c: ext, ctx },
      { name: 'a user of its own message in an internal conversation', p: user('m', { notifications: everything }), sender: { id: 'm', kind: 'user' }, c: int, ctx },
      { name: 'a customer of its own message', p: customer('x'), sender: FROM_CUSTOMER, c: ext, ctx },
      { name: 'a disabled user member, whatever its preferences', p: user('m', { notifications: everything }, { disabled: true }), sender: FROM_CUSTOMER, c: ext, ctx },
      { name: 'a disabled customer member', p: customer('x', { disabled: true }), sender: FROM_USER, c: ext, ctx },
      { name: 'a bot member of an external conversation, of a customer’s message', p: bot('r'), sender: FROM_CUSTOMER, c: ext, ctx },
      { name: 'a bot member of an internal conversation, of a user’s message', p: bot('r'), sender: FROM_USER, c: int, ctx },
      { name: 'a bot member that carries user preferences asking for every message', p: bot('r', { preferences: GREEDY_PREFERENCES }), sender: FROM_CUSTOMER, c: ext, ctx },
      { name: 'a bot member, of another bot’s message', p: bot('b'), sender: FROM_BOT, c: itemConv('internal', ['b', 'r']), ctx },
      { name: 'a customer not a member of the conversation', p: customer('y'), sender: FROM_USER, c: ext, ctx },
      { name: 'a customer listed as a member of an internal conversation', p: customer('x'), sender: FROM_USER, c: itemConv('internal', ['x', 'w']), ctx },
      { name: 'the item’s customer, of a message in an internal conversation', p: customer('x'), sender: FROM_BOT, c: int, ctx },
      { name: 'a user with access mine and no relation, though it wants every message', p: mineUser('u', everything), sender: FROM_CUSTOMER, c: ext, ctx },
      { name: 'a user not a member of a direct conversation, though it wants every message', p: user('u', { notifications: everything }), sender: FROM_CUSTOMER, c: direct('external', ['w', 'x']), ctx: NO_ITEM },
    ]))('%s', (_name, { p, sender, c, ctx }) => {
      expect(notify(p, sender, c, ctx)).toBeNull();
    });
  });

  describe('always notifies a customer who may see', () => {
    interface CustomerCase {
      name: string;
      p: ParticipantRecord;
      sender: Sender;
      c: ConversationRecord;
      ctx: RulesContext;
      expected: NotifyReason;
    }
    it.each(named<CustomerCase>([
      { name: 'of a user’s message, with reason reply_to_customer', p: customer('x'), sender: FROM_USER, c: ext, ctx, expected: 'reply_to_customer' },
      { name: 'of a bot’s message, with reason reply_to_customer', p: customer('x'), sender: FROM_BOT, c: ext, ctx, expected: 'reply_to_customer' },
      { name: 'of another customer’s message, with reason from_customer', p: customer('y'), sender: FROM_CUSTOMER, c: itemConv('external', ['x', 'y']), ctx, expected: 'from_customer' },
      { name: 'as the item’s customer not listed as a member, with reason reply_to_customer', p: customer('x'), sender: FROM_USER, c: itemConv('external', ['w']), ctx, expected: 'reply_to_customer' },
      { name: 'in its inbox conversation, with reason reply_to_customer', p: customer('x'), sender: FROM_USER, c: inbox(['x', 'w']), ctx: NO_ITEM, expected: 'reply_to_customer' },
      { name: 'in an external direct conversation, of a bot’s message, with reason reply_to_customer', p: customer('x'), sender: FROM_BOT, c: direct('external', ['w', 'x', 'r']), ctx: NO_ITEM, expected: 'reply_to_customer' },
    ]))('%s', (_name, { p, sender, c, ctx, expected }) => {
      expect(notify(p, sender, c, ctx)).toBe(expected);
    });
  });

  describe('a user, of a customer’s message, by fromCustomers', () => {
    it.each([
      ['all', MEMBER, 'from_customer'],
      ['all', BYSTANDER, 'from_customer'],
      ['all', PROJECT_FOLLOWER, 'from_customer'],
      ['mine', MEMBER, 'from_customer'],
      ['mine', ITEM_FOLLOWER, 'from_customer'],
      ['mine', OWNER, 'from_customer'],
      ['mine', RESPONSIBLE, 'from_customer'],
      ['mine', BYSTANDER, null],
      ['mine', PROJECT_FOLLOWER, null],
      ['none', MEMBER, null],
      ['none', ITEM_FOLLOWER, null],
      ['none', BYSTANDER, null],
    ] as const)('fromCustomers %s notifies %s → %s', (fromCustomers, role, expected) => {
      expect(notify(recipient(role, { fromCustomers }), FROM_CUSTOMER, ext, ctx)).toBe(expected);
    });

    it.each([
      ['all', 'a member', 'from_customer', ['x', 'u']],
      ['all', 'a non-member with access all', 'from_customer', ['x']],
      ['mine', 'a member', 'from_customer', ['x', 'u']],
      ['mine', 'a non-member with access all', null, ['x']],
      ['none', 'a member', null, ['x', 'u']],
    ] as const)('fromCustomers %s tells %s of an inbox conversation → %s', (fromCustomers, _who, expected, members) => {
      expect(notify(user('u', { notifications: { fromCustomers } }), FROM_CUSTOMER, inbox([...members]), NO_ITEM)).toBe(expected);
    });
  });

  describe('a user, of a user’s or bot’s message in an external conversation, by repliesToCustomers', () => {
    const rows = [
      ['all', MEMBER, 'reply_to_customer'],
      ['all', BYSTANDER, 'reply_to_customer'],
      ['all', PROJECT_FOLLOWER, 'reply_to_customer'],
      ['followed', MEMBER, 'reply_to_customer'],
      ['followed', ITEM_FOLLOWER, 'reply_to_customer'],
      ['followed', OWNER, 'reply_to_customer'],
      ['followed', RESPONSIBLE, 'reply_to_customer'],
      ['followed', BYSTANDER, null],
      ['followed', PROJECT_FOLLOWER, null],
      ['none', MEMBER, null],
      ['none', ITEM_FOLLOWER, null],
      ['none', BYSTANDER, null],
    ] as const;
    it.each(AGENT_SENDERS.flatMap(([kind, sender]) => rows.map(([pref, role, expected]) => [kind, pref, role, expected, sender] as const)))(
      'from a %s: repliesToCustomers %s notifies %s → %s',
      (_kind, repliesToCustomers, role, expected, sender) => {
        expect(notify(recipient(role, { repliesToCustomers }), sender, ext, ctx)).toBe(expected);
      },
    );

    it.each([
      ['followed', 'a member of an external direct conversation', 'reply_to_customer', direct('external', ['u', 'w', 'x'])],
      ['none', 'a member of an external direct conversation', null, direct('external', ['u', 'w', 'x'])],
      ['followed', 'a member of an inbox conversation', 'reply_to_customer', inbox(['x', 'w', 'u'])],
      ['followed', 'a non-member of an inbox conversation with access all', null, inbox(['x', 'w'])],
      ['all', 'a non-member of an inbox conversation with access all', 'reply_to_customer', inbox(['x', 'w'])],
    ] as const)('repliesToCustomers %s tells %s → %s', (repliesToCustomers, _who, expected, c) => {
      expect(notify(user('u', { notifications: { repliesToCustomers } }), FROM_USER, c, NO_ITEM)).toBe(expected);
    });
  });

  describe('a user, of a message in an internal conversation, by followedInternal', () => {
    const rows = [
      [true, MEMBER, 'internal'],
      [true, ITEM_FOLLOWER, 'internal'],
      [true, OWNER, 'internal'],
      [true, RESPONSIBLE, 'internal'],
      [true, BYSTANDER, null],
      [true, PROJECT_FOLLOWER, null],
      [false, MEMBER, null],
      [false, ITEM_FOLLOWER, null],
      [false, OWNER, null],
    ] as const;
    it.each(AGENT_SENDERS.flatMap(([kind, sender]) => rows.map(([pref, role, expected]) => [kind, pref, role, expected, sender] as const)))(
      'from a %s: followedInternal %s notifies %s → %s',
      (_kind, followedInternal, role, expected, sender) => {
        expect(notify(recipient(role, { followedInternal }), sender, int, ctx)).toBe(expected);
      },
    );

    it.each([
      [true, 'internal'],
      [false, null],
    ] as const)('followedInternal %s tells a member of an internal direct conversation → %s', (followedInternal, expected) => {
      expect(notify(user('u', { notifications: { followedInternal } }), FROM_USER, direct('internal', ['w', 'u']), NO_ITEM)).toBe(expected);
    });
  });

  describe('each preference governs only its own case', () => {
    it.each([
      ['fromCustomers none does not silence a user’s reply', BYSTANDER, { fromCustomers: 'none', repliesToCustomers: 'all' }, FROM_USER, ext, 'reply_to_customer'],
      ['fromCustomers all does not bring a user’s reply', MEMBER, { fromCustomers: 'all', repliesToCustomers: 'none' }, FROM_USER, ext, null],
      ['repliesToCustomers all does not bring a customer’s message', BYSTANDER, { fromCustomers: 'none', repliesToCustomers: 'all' }, FROM_CUSTOMER, ext, null],
      ['repliesToCustomers none does not silence a customer’s message', MEMBER, { fromCustomers: 'all', repliesToCustomers: 'none' }, FROM_CUSTOMER, ext, 'from_customer'],
      ['followedInternal false does not silence a reply to a customer', MEMBER, { followedInternal: false, repliesToCustomers: 'followed' }, FROM_BOT, ext, 'reply_to_customer'],
      ['followedInternal true does not bring a reply the user opted out of', MEMBER, { followedInternal: true, repliesToCustomers: 'none' }, FROM_USER, ext, null],
      ['repliesToCustomers none does not silence an internal message', MEMBER, { followedInternal: true, repliesToCustomers: 'none' }, FROM_USER, int, 'internal'],
      ['repliesToCustomers all does not bring an internal message to one who does not follow', BYSTANDER, { followedInternal: true, repliesToCustomers: 'all' }, FROM_USER, int, null],
      ['fromCustomers all does not bring an internal message from a bot', MEMBER, { fromCustomers: 'all', followedInternal: false }, FROM_BOT, int, null],
    ] as const)('%s', (_name, role, notifications, sender, c, expected) => {
      expect(notify(recipient(role, notifications), sender, c, ctx)).toBe(expected);
    });
  });
});

describe('relationSince', () => {
  interface SinceCase {
    name: string;
    p: ParticipantRecord;
    c: ConversationRecord;
    ctx: RulesContext;
    expected: number | null;
  }
  const mine = (id: string, createdAt = 0) => mineUser(id, {}, { createdAt });

  it.each(named<SinceCase>([
    { name: 'is the membership time for a member', p: mine('u'), c: itemConv('internal', [], { members: at({ u: 15 }) }), ctx: itemCtx(), expected: 15 },
    { name: 'is the item follow time for an explicit item follower', p: mine('u'), c: itemConv('internal'), ctx: itemCtx({ followers: at({ u: 25 }) }), expected: 25 },
    { name: 'is the owner’s roleSince for the owner', p: mine('u'), c: itemConv('external'), ctx: itemCtx({ ownerId: 'u' }), expected: 40 },
    { name: 'is the responsible user’s roleSince for the responsible user', p: mine('u'), c: itemConv('external'), ctx: itemCtx({ responsibleId: 'u' }), expected: 50 },
    { name: 'is the participant’s creation for a user with access all and no other relation', p: user('u', {}, { createdAt: 7 }), c: itemConv('internal'), ctx: itemCtx(), expected: 7 },
    { name: 'is the participant’s creation for a user with access all in an inbox conversation', p: user('u', {}, { createdAt: 7 }), c: inbox(['x']), ctx: NO_ITEM, expected: 7 },
    { name: 'is the project follow time for a project follower with access mine', p: mine('u'), c: itemConv('internal'), ctx: itemCtx({}, ['u']), expected: 60 },
    {
      name: 'is the earliest of membership, item follow, ownership, responsibility and project follow (item follow first)',
      p: mine('u'),
      c: itemConv('internal', [], { members: at({ u: 35 }) }),
      ctx: itemCtx({ followers: at({ u: 25 }), ownerId: 'u', responsibleId: 'u' }, ['u']),
      expected: 25,
    },
    {
      name: 'is the earliest of several relations (ownership first)',
      p: mine('u'),
      c: itemConv('internal', [], { members: at({ u: 45 }) }),
      ctx: itemCtx({ followers: at({ u: 55 }), ownerId: 'u', responsibleId: 'u' }, ['u']),
      expected: 40,
    },
    {
      name: 'is the earliest of several relations (project follow first)',
      p: mine('u'),
      c: itemConv('internal', [], { members: at({ u: 90 }) }),
      ctx: { item: item({ followers: at({ u: 80 }) }), project: { ...project(), followers: at({ u: 5 }) } },
      expected: 5,
    },
    { name: 'is a membership earlier than the creation of a user with access all', p: user('u', {}, { createdAt: 100 }), c: itemConv('internal', ['u']), ctx: itemCtx(), expected: 10 },
    { name: 'is the creation of a user with access all when earlier than its membership', p: user('u', {}, { createdAt: 3 }), c: itemConv('internal', ['u']), ctx: itemCtx({ followerIds: ['u'] }), expected: 3 },
    { name: 'is the membership time in a direct conversation, where access all does not count', p: user('u', {}, { createdAt: 3 }), c: direct('internal', ['u']), ctx: NO_ITEM, expected: 10 },
    { name: 'is the membership time for a bot', p: bot('b'), c: itemConv('internal', [], { members: at({ b: 12 }) }), ctx: itemCtx({ followers: at({ b: 2 }) }), expected: 12 },
    { name: 'is the item’s roleSince.customer for the item’s customer in an external item conversation', p: customer('x'), c: itemConv('external'), ctx: itemCtx({ customerId: 'x' }), expected: 30 },
    { name: 'is a customer’s membership when earlier than its role as the item’s customer', p: customer('x'), c: itemConv('external', ['x']), ctx: itemCtx({ customerId: 'x' }), expected: 10 },
    {
      name: 'is a customer’s role as the item’s customer when earlier than its membership',
      p: customer('x'),
      c: itemConv('external', [], { members: at({ x: 45 }) }),
      ctx: itemCtx({ customerId: 'x' }),
      expected: 30,
    },
    { name: 'is the membership time for a customer in its inbox conversation', p: customer('x'), c: inbox([], { members: at({ x: 8 }) }), ctx: NO_ITEM, expected: 8 },
    { name: 'is null for a user with access mine and no relation', p: mine('u'), c: itemConv('internal', ['v']), ctx: itemCtx({ followerIds: ['v'] }, ['v']), expected: null },
    { name: 'is null for a user with access all not a member of a direct conversation', p: user('u'), c: direct('internal', ['v']), ctx: NO_ITEM, expected: null },
    { name: 'is null for a user with access mine not a member of an inbox conversation', p: mine('u'), c: inbox(['x']), ctx: NO_ITEM, expected: null },
    { name: 'is null for a bot not a member, though it follows the item', p: bot('b'), c: itemConv('internal'), ctx: itemCtx({ followerIds: ['b'] }), expected: null },
    { name: 'is null for a customer listed as a member of an internal conversation', p: customer('x'), c: itemConv('internal', ['x']), ctx: itemCtx({ customerId: 'x' }), expected: null },
    { name: 'is null for the item’s customer in an internal item conversation', p: customer('x'), c: itemConv('internal'), ctx: itemCtx({ customerId: 'x' }), expected: null },
    { name: 'is null for a customer not a member of an external conversation', p: customer('x'), c: itemConv('external', ['y']), ctx: itemCtx({ customerId: 'y', followerIds: ['x'] }), expected: null },
  ]))('%s', (_name, { p, c, ctx, expected }) => {
    expect(relationSince(p, c, ctx)).toBe(expected);
  });
});
