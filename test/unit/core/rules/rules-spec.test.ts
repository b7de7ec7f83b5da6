import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isFollowing, isMember, mayPostApi, mayPostWs, maySee, notify, relationSince } from '../../../../server/core/rules/rules.js';
import { conversation, item, participant, project } from '../../../support/records.js';

const user = (id: string, prefs = {}) => participant(id, 'user', { prefs });
const customer = (id: string) => participant(id, 'customer');
const bot = (id: string) => participant(id, 'bot');
const ctx = (i = item(), p = project()) => ({ item: i, project: p });

describe('may-see (SPEC §2)', () => {
  it.each([
    ['a customer member of an external conversation', customer('x'), conversation({ memberIds: ['x'] }), true],
    ['a customer member of an internal conversation', customer('x'), conversation({ visibility: 'internal', memberIds: ['x'] }), false],
    ['a customer not a member of an external conversation', customer('x'), conversation(), false],
    ['a bot member', bot('b'), conversation({ visibility: 'internal', memberIds: ['b'] }), true],
    ['a bot not a member', bot('b'), conversation(), false],
    ['a user member of a direct conversation', user('u'), conversation({ kind: 'direct', itemId: null, memberIds: ['u'] }), true],
    ['a user with access all, not a member of a direct conversation', user('u'), conversation({ kind: 'direct', itemId: null }), false],
    ['a user with access all, of an inbox conversation', user('u'), conversation({ kind: 'inbox', itemId: null }), true],
    ['a user with access mine, not a member of an inbox conversation', user('u', { access: { viewConversations: 'mine' } }), conversation({ kind: 'inbox', itemId: null }), false],
    ['a user with access all, of an internal item conversation', user('u'), conversation({ visibility: 'internal' }), true],
    ['a user with access mine, nothing else', user('u', { access: { viewConversations: 'mine' } }), conversation(), false],
  ])('%s → %s', (_name, p, c, expected) => {
    expect(maySee(p, c, ctx())).toBe(expected);
  });

  it('lets a user with access mine see an item conversation through its item or project', () => {
    const u = user('u', { access: { viewConversations: 'mine' } });
    const c = conversation({ visibility: 'internal' });
    expect(maySee(u, c, ctx(item({ followerIds: ['u'] })))).toBe(true);
    expect(maySee(u, c, ctx(item({ ownerId: 'u' })))).toBe(true);
    expect(maySee(u, c, ctx(item({ responsibleId: 'u' })))).toBe(true);
    expect(maySee(u, c, ctx(item(), project(['u'])))).toBe(true);
    expect(maySee(u, c, ctx(item(), project(['other'])))).toBe(false);
  });

  it('makes the item’s customer a member of external item conversations only', () => {
    const x = customer('x');
    const withCustomer = ctx(item({ customerId: 'x' }));
    expect(isMember(x, conversation(), withCustomer)).toBe(true);
    expect(maySee(x, conversation(), withCustomer)).toBe(true);
    expect(isMember(x, conversation({ visibility: 'internal' }), withCustomer)).toBe(false);
    expect(maySee(x, conversation({ visibility: 'internal' }), withCustomer)).toBe(false);
    // Only a customer becomes a member that way.
    expect(isMember(user('x'), conversation(), withCustomer)).toBe(false);
  });
});

describe('may-post', () => {
  it('forbids bots over WebSocket, lets any enabled bot post over the API, and never a disabled one', () => {
    const c = conversation({ visibility: 'internal', memberIds: ['b'] });
    expect(mayPostWs(bot('b'), c, ctx())).toBe(false);
    expect(mayPostApi(bot('other'), c, ctx())).toBe(true);
    expect(mayPostApi(participant('b', 'bot', { disabled: true }), c, ctx())).toBe(false);
    expect(mayPostWs(participant('u', 'user', { disabled: true }), c, ctx())).toBe(false);
    expect(mayPostWs(user('u'), c, ctx())).toBe(true);
    expect(mayPostApi(customer('x'), c, ctx())).toBe(false);
  });
});

describe('notify (SPEC §2)', () => {
  const ext = conversation({ memberIds: ['x', 'm'] });
  const int = conversation({ visibility: 'internal', memberIds: ['m'] });
  const cust = { id: 'x', kind: 'customer' as const };
  const agent = { id: 'w', kind: 'user' as const };
  const robot = { id: 'r', kind: 'bot' as const };

  it('never tells the sender, a disabled participant, a bot or one who may not see', () => {
    expect(notify(user('w'), agent, ext, ctx())).toBeNull();
    expect(notify(participant('u', 'user', { disabled: true }), cust, ext, ctx())).toBeNull();
    expect(notify(participant('r2', 'bot'), cust, conversation({ memberIds: ['r2'] }), ctx())).toBeNull();
    expect(notify(customer('y'), agent, ext, ctx())).toBeNull();
  });

  it('always tells a customer, with the reason of the sender’s kind', () => {
    expect(notify(customer('x'), agent, ext, ctx())).toBe('reply_to_customer');
    expect(notify(customer('x'), robot, ext, ctx())).toBe('reply_to_customer');
    expect(notify(customer('x'), { id: 'y', kind: 'customer' }, ext, ctx())).toBe('from_customer');
  });

  it.each([
    ['all', 'u', 'from_customer'],
    ['mine', 'm', 'from_customer'],
    ['mine', 'u', null],
    ['none', 'm', null],
  ] as const)('fromCustomers %s for %s → %s', (fromCustomers, id, expected) => {
    expect(notify(user(id, { notifications: { fromCustomers } }), cust, ext, ctx())).toBe(expected);
  });

  it.each([
    ['all', 'u', 'reply_to_customer'],
    ['followed', 'm', 'reply_to_customer'],
    ['followed', 'u', null],
    ['none', 'm', null],
  ] as const)('repliesToCustomers %s for %s → %s (user and bot senders alike)', (repliesToCustomers, id, expected) => {
    expect(notify(user(id, { notifications: { repliesToCustomers } }), agent, ext, ctx())).toBe(expected);
    expect(notify(user(id, { notifications: { repliesToCustomers } }), robot, ext, ctx())).toBe(expected);
  });

  it.each([
    [true, 'm', 'internal'],
    [true, 'u', null],
    [false, 'm', null],
  ] as const)('followedInternal %s for %s → %s', (followedInternal, id, expected) => {
    expect(notify(user(id, { notifications: { followedInternal } }), agent, int, ctx())).toBe(expected);
  });

  it('counts following the item as following', () => {
    const u = user('f', { notifications: { followedInternal: true } });
    expect(isFollowing(u, int, ctx(item({ followerIds: ['f'] })))).toBe(true);
    expect(notify(u, agent, int, ctx(item({ followerIds: ['f'] })))).toBe('internal');
  });
});

describe('relationSince', () => {
  it('is the earliest relation, the creation time for access all, and null without one', () => {
    const mine = { access: { viewConversations: 'mine' as const } };
    expect(relationSince(user('m', mine), conversation({ memberIds: ['m'] }), ctx())).toBe(10);
    expect(relationSince(user('f', mine), conversation(), ctx(item({ followerIds: ['f'] })))).toBe(20);
    expect(relationSince(user('o', mine), conversation(), ctx(item({ ownerId: 'o' })))).toBe(40);
    expect(relationSince(user('r', mine), conversation(), ctx(item({ responsibleId: 'r' })))).toBe(50);
    expect(relationSince(user('p', mine), conversation(), ctx(item(), project(['p'])))).toBe(60);
    expect(relationSince(participant('a', 'user', { createdAt: 5 }), conversation(), ctx())).toBe(5);
    expect(relationSince(customer('x'), conversation(), ctx(item({ customerId: 'x' })))).toBe(30);
    expect(relationSince(user('n', mine), conversation(), ctx())).toBeNull();
    expect(relationSince(user('f', mine), conversation({ memberIds: ['f'] }), ctx(item({ followerIds: ['f'] })))).toBe(10);
  });
});

describe('invariants over random populations', () => {
  const kinds = fc.constantFrom('user', 'customer', 'bot') as fc.Arbitrary<'user' | 'customer' | 'bot'>;
  const ids = ['a', 'b', 'c', 'd', 'e', 'f'];
  const id = fc.constantFrom(...ids);
  const prefs = fc.record({
    notifications: fc.record({
      fromCustomers: fc.constantFrom('all', 'mine', 'none'),
      repliesToCustomers: fc.constantFrom('all', 'followed', 'none'),
      followedInternal: fc.boolean(),
    }),
    access: fc.record({ viewConversations: fc.constantFrom('all', 'mine') }),
  });
  const world = fc.record({
    people: fc.tuple(...ids.map((i) => fc.record({ id: fc.constant(i), kind: kinds, disabled: fc.boolean(), createdAt: fc.nat(100), prefs }))),
    conv: fc.record({
      kind: fc.constantFrom('item', 'direct', 'inbox') as fc.Arbitrary<'item' | 'direct' | 'inbox'>,
      visibility: fc.constantFrom('internal', 'external') as fc.Arbitrary<'internal' | 'external'>,
      memberIds: fc.subarray(ids),
    }),
    item: fc.record({
      customerId: fc.option(id, { nil: null }),
      ownerId: fc.option(id, { nil: null }),
      responsibleId: fc.option(id, { nil: null }),
      followerIds: fc.subarray(ids),
    }),
    projectFollowers: fc.subarray(ids),
    sender: id,
  });
  const build = (w: fc.RecordValue<typeof world> extends never ? never : any) => {
    const people = w.people.map((p: any) => participant(p.id, p.kind, { disabled: p.disabled, createdAt: p.createdAt, prefs: p.prefs }));
    const c = conversation({ ...w.conv, itemId: w.conv.kind === 'item' ? 'i' : null });
    return { people, c, context: ctx(item(w.item), project(w.projectFollowers)), sender: people.find((p: any) => p.id === w.sender)! };
  };

  it('never lets a customer see or be told anything of an internal conversation', () => {
    fc.assert(
      fc.property(world, (w) => {
        const { people, c, context, sender } = build(w);
        for (const p of people) {
          if (p.kind !== 'customer' || c.visibility !== 'internal') continue;
          if (maySee(p, c, context) || notify(p, sender, c, context) !== null || relationSince(p, c, context) !== null) return false;
        }
        return true;
      }),
      { numRuns: 500 },
    );
  });

  it('never notifies anybody of their own message, a disabled participant or a bot, and only those who may see', () => {
    fc.assert(
      fc.property(world, (w) => {
        const { people, c, context, sender } = build(w);
        for (const p of people) {
          const n = notify(p, sender, c, context);
          if (p.id === sender.id && n !== null) return false;
          if ((p.disabled || p.kind === 'bot') && n !== null) return false;
          if (n !== null && !maySee(p, c, context)) return false;
          if ((relationSince(p, c, context) !== null) !== maySee(p, c, context)) return false;
        }
        return true;
      }),
      { numRuns: 500 },
    );
  });
});
