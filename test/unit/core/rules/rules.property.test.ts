import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CustomerPreferences, UserPreferences } from '../../../../protocol/index.js';
import type { ConversationRecord, ItemRecord, ParticipantRecord, ProjectRecord, Relations } from '../../../../server/core/model.js';
import { mayPostApi, mayPostEmail, mayPostWs, maySee, notify, relationSince, type RulesContext } from '../../../../server/core/rules/rules.js';
import { conversation, item, participant } from '../../../support/records.js';

/**
 * Invariants of SPEC §2 over random worlds: a population of users, customers and bots with random
 * preferences, projects and items with random followers and roles, and conversations of every kind and
 * visibility with random members — customers listed in internal conversations included, since the
 * rules must keep them out whatever the data says.
 */

const RUNS = 300;

const PEOPLE = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];
const PROJECTS = ['p1', 'p2'];
const ITEMS = ['i1', 'i2', 'i3'];

const personId = fc.constantFrom(...PEOPLE);
const time = fc.integer({ min: 0, max: 1_000 });
/** participant id → the time the relation began. */
const relations: fc.Arbitrary<Relations> = fc
  .uniqueArray(fc.tuple(personId, time), { selector: ([id]) => id, maxLength: PEOPLE.length })
  .map((entries) => new Map(entries));

const userPreferences: fc.Arbitrary<UserPreferences> = fc.record({
  notifications: fc.record({
    fromCustomers: fc.constantFrom('all', 'mine', 'none'),
    repliesToCustomers: fc.constantFrom('all', 'followed', 'none'),
    followedInternal: fc.boolean(),
  }),
  email: fc.record({
    optOut: fc.boolean(),
    assignmentChanges: fc.boolean(),
    newMembersInMyProjects: fc.boolean(),
    autoAcceptInvitations: fc.boolean(),
  }),
  access: fc.record({ viewConversations: fc.constantFrom('all', 'mine'), showFromCustomers: fc.boolean() }),
});
const customerPreferences: fc.Arbitrary<CustomerPreferences> = fc.record({ email: fc.record({ optOut: fc.boolean() }) });

/**
 * A participant of a random kind. One in five carries the other shape of preferences (a bot or customer
 * with user preferences, a user with customer ones): kind alone must decide what a participant may do.
 */
const person = (id: string): fc.Arbitrary<ParticipantRecord> =>
  fc
    .record({
      kind: fc.constantFrom('user', 'customer', 'bot'),
      disabled: fc.boolean(),
      createdAt: time,
      asUser: userPreferences,
      asOther: customerPreferences,
      swapped: fc.nat(4).map((n) => n === 0),
    })
    .map(({ kind, disabled, createdAt, asUser, asOther, swapped }) =>
      participant(id, kind, { disabled, createdAt, preferences: (kind === 'user') !== swapped ? asUser : asOther }),
    );

const projectRecord = (id: string): fc.Arbitrary<ProjectRecord> =>
  relations.map((followers) => ({ id, name: id, followers, createdAt: 0 }));

/** A role on an item: who holds it (anyone, of any kind, or an unknown id) and since when; or nobody. */
const role = fc.option(fc.tuple(fc.constantFrom(...PEOPLE, 'nobody'), time), { nil: null });

const itemRecord = (id: string): fc.Arbitrary<ItemRecord> =>
  fc
    .record({
      projectId: fc.option(fc.constantFrom(...PROJECTS), { nil: null }),
      customer: role,
      owner: role,
      responsible: role,
      followers: relations,
    })
    .map(({ projectId, customer, owner, responsible, followers }) =>
      item({
        id,
        projectId,
        customerId: customer?.[0] ?? null,
        ownerId: owner?.[0] ?? null,
        responsibleId: responsible?.[0] ?? null,
        followers,
        roleSince: { customer: customer?.[1] ?? null, owner: owner?.[1] ?? null, responsible: responsible?.[1] ?? null },
      }),
    );

const conversationDraft = fc.record({
  kind: fc.constantFrom('item', 'direct', 'inbox'),
  visibility: fc.constantFrom('internal', 'external'),
  itemId: fc.constantFrom(...ITEMS),
  members: relations,
  /** Also list every customer of the population as a member, to put customers into internal conversations often. */
  listCustomers: fc.boolean(),
});

interface World {
  people: ParticipantRecord[];
  /** Each conversation with the context the hub would pass: its item and that item's project. */
  conversations: Array<{ c: ConversationRecord; ctx: RulesContext }>;
}

const world: fc.Arbitrary<World> = fc
  .record({
    people: fc.tuple(...PEOPLE.map(person)),
    projects: fc.tuple(...PROJECTS.map(projectRecord)),
    items: fc.tuple(...ITEMS.map(itemRecord)),
    drafts: fc.array(conversationDraft, { minLength: 1, maxLength: 6 }),
  })
  .map(({ people, projects, items, drafts }) => ({
    people,
    conversations: drafts.map((d, n) => {
      const members = new Map(d.members);
      if (d.listCustomers) for (const p of people) if (p.kind === 'customer') members.set(p.id, p.createdAt);
      const c = conversation({ id: `c${n}`, kind: d.kind, visibility: d.visibility, itemId: d.kind === 'item' ? d.itemId : null, members });
      if (d.kind !== 'item') return { c, ctx: { item: null, project: null } };
      const i = items.find((x) => x.id === d.itemId) ?? null;
      return { c, ctx: { item: i, project: projects.find((p) => p.id === i?.projectId) ?? null } };
    }),
  }));

/** Runs `check` for every (participant, conversation) pair of every generated world. */
function forEveryPair(check: (p: ParticipantRecord, c: ConversationRecord, ctx: RulesContext, w: World) => void): void {
  fc.assert(
    fc.property(world, (w) => {
      for (const { c, ctx } of w.conversations) for (const p of w.people) check(p, c, ctx, w);
    }),
    { numRuns: RUNS },
  );
}

describe('rules over random populations', () => {
  it('never lets a bot or a disabled participant post by email, whatever the data', () => {
    let bots = 0;
    forEveryPair((p, c, ctx) => {
      if (p.kind === 'bot') bots++;
      if (p.kind === 'bot' || p.disabled) expect(mayPostEmail(p, c, ctx)).toBe(false);
      else expect(mayPostEmail(p, c, ctx)).toBe(maySee(p, c, ctx));
    });
    expect(bots).toBeGreaterThan(0);
  });

  it('never lets a customer see, post in, be notified of or relate to an internal conversation, whatever the data', () => {
    let listedCustomers = 0;
    let itemCustomers = 0;
    forEveryPair((p, c, ctx, w) => {
      if (p.kind !== 'customer' || c.visibility !== 'internal') return;
      if (c.members.has(p.id)) listedCustomers++;
      if (c.kind === 'item' && ctx.item?.customerId === p.id) itemCustomers++;
      expect(maySee(p, c, ctx)).toBe(false);
      expect(mayPostWs(p, c, ctx)).toBe(false);
      expect(mayPostApi(p, c, ctx)).toBe(false);
      expect(mayPostEmail(p, c, ctx)).toBe(false);
      expect(relationSince(p, c, ctx)).toBeNull();
      for (const sender of w.people) expect(notify(p, sender, c, ctx)).toBeNull();
    });
    // The generator did put customers into internal conversations, both as listed members and as the item's customer.
    expect(listedCustomers).toBeGreaterThan(0);
    expect(itemCustomers).toBeGreaterThan(0);
  });

  it('never notifies anybody of their own message', () => {
    forEveryPair((p, c, ctx) => {
      expect(notify(p, p, c, ctx)).toBeNull();
    });
  });

  it('never notifies a disabled participant', () => {
    let seen = 0;
    forEveryPair((p, c, ctx, w) => {
      if (!p.disabled) return;
      if (maySee(p, c, ctx)) seen++;
      for (const sender of w.people) expect(notify(p, sender, c, ctx)).toBeNull();
    });
    expect(seen).toBeGreaterThan(0);
  });

  it('never notifies a bot', () => {
    let seen = 0;
    forEveryPair((p, c, ctx, w) => {
      if (p.kind !== 'bot') return;
      if (maySee(p, c, ctx) && !p.disabled) seen++;
      for (const sender of w.people) expect(notify(p, sender, c, ctx)).toBeNull();
    });
    expect(seen).toBeGreaterThan(0);
  });

  it('notifies only participants who may see the conversation', () => {
    let notified = 0;
    forEveryPair((p, c, ctx, w) => {
      for (const sender of w.people) {
        if (notify(p, sender, c, ctx) === null) continue;
        notified++;
        expect(maySee(p, c, ctx)).toBe(true);
      }
    });
    expect(notified).toBeGreaterThan(0);
  });

  it('gives the reason of the sender’s kind and the conversation’s visibility', () => {
    forEveryPair((p, c, ctx, w) => {
      for (const sender of w.people) {
        const reason = notify(p, sender, c, ctx);
        if (reason === null) continue;
        const expected = sender.kind === 'customer' ? 'from_customer' : c.visibility === 'external' ? 'reply_to_customer' : 'internal';
        expect(reason).toBe(expected);
      }
    });
  });

  it('always notifies an enabled customer who may see the conversation of others’ messages', () => {
    let customers = 0;
    forEveryPair((p, c, ctx, w) => {
      if (p.kind !== 'customer' || p.disabled || !maySee(p, c, ctx)) return;
      customers++;
      for (const sender of w.people) if (sender.id !== p.id) expect(notify(p, sender, c, ctx)).not.toBeNull();
    });
    expect(customers).toBeGreaterThan(0);
  });

  it('has a relation time exactly when the participant may see the conversation', () => {
    let related = 0;
    forEveryPair((p, c, ctx) => {
      const since = relationSince(p, c, ctx);
      expect(since !== null).toBe(maySee(p, c, ctx));
      if (since !== null) related++;
    });
    expect(related).toBeGreaterThan(0);
  });

  it('lets only enabled users and customers who may see post over WebSocket, and every enabled bot over the API', () => {
    forEveryPair((p, c, ctx) => {
      expect(mayPostWs(p, c, ctx)).toBe(p.kind !== 'bot' && !p.disabled && maySee(p, c, ctx));
      expect(mayPostApi(p, c, ctx)).toBe(!p.disabled && (p.kind === 'bot' || maySee(p, c, ctx)));
    });
  });
});
