import { describe, expect, it } from 'vitest';
import type { Article, DefinitionFilter, GroupMembership, PersonalTransport, RecipientRelation } from '../../../../protocol/index.js';
import type { ParticipantRecord } from '../../../../server/core/model.js';
import { matchDefinition, ONCE_PER_DAY_MS, RECIPIENT_RELATIONS } from '../../../../server/core/notifications/matcher.js';
import type { MatchResult, PlannedDelivery, RuleEvent } from '../../../../server/core/notifications/types.js';
import { appointment, calendar, definition, MemoryDeliveryHistory, MemoryRulesDirectory, person, ticket } from '../../../support/rules-directory.js';

/**
 * Invariants of NOTIFICATIONS §2–§3 over random worlds: random directories (users, customers and bots,
 * disabled, out of office, without address or phone, in random groups and roles, with random
 * preferences), random definitions (relations, agents, groups, roles, extra addresses — people's own
 * among them — transports, preference visibility) and random events (actors, articles visible or not,
 * items whose roles and followers name anyone, customers and bots included). A small seeded generator
 * makes every run the same; a failure names the seed of its world, to replay it alone.
 */

const WORLDS = 400;
const EVENTS_PER_WORLD = 3;
const DEFINITIONS_PER_WORLD = 3; // 400 × 3 × 3 = 3,600 cases
const BASE_SEED = 0x5eed_2026;
const NOW = 100 * ONCE_PER_DAY_MS;

/** mulberry32: a tiny, good-enough PRNG with 32 bits of state. */
function random(seed: number) {
  let s = seed >>> 0;
  const next = (): number => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const chance = (p: number) => next() < p;
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  const some = <T>(xs: readonly T[], p: number): T[] => xs.filter(() => chance(p));
  return { int, chance, pick, some };
}
type Rng = ReturnType<typeof random>;

const GROUPS = ['g1', 'g2', 'g3'];
const ROLES = ['r1', 'r2'];
const QUEUES = ['Q1', 'Q2'];
const SERVICES = ['S1', 'S2'];
const OUTSIDE = ['x@outside.example', 'Y <y@outside.example>'];
const TRANSPORTS: PersonalTransport[] = ['email', 'web', 'sms'];

function population(rng: Rng): ParticipantRecord[] {
  const n = 4 + rng.int(9);
  return Array.from({ length: n }, (_, i) => {
    const kind = rng.pick(['user', 'user', 'customer', 'customer', 'bot'] as const);
    const groups: GroupMembership[] = rng.some(GROUPS, 0.4).map((id) => (rng.chance(0.3) ? id : { id, permission: rng.pick(['ro', 'rw'] as const) }));
    const prefs = {
      email: { optOut: rng.chance(0.15), assignmentChanges: rng.chance(0.5), newMembersInMyProjects: rng.chance(0.5) },
      notificationDefinitions: rng.chance(0.5)
        ? { d0: Object.fromEntries(rng.some(TRANSPORTS, 0.6).map((t) => [t, rng.chance(0.5)])), d1: { email: rng.chance(0.5) } }
        : undefined,
    };
    return person(`p${i}`, kind, {
      disabled: rng.chance(0.2),
      outOfOffice: rng.chance(0.2),
      email: rng.chance(0.85) ? `p${i}@example.com` : null,
      phone: rng.chance(0.7) ? `+4930${i}` : null,
      groups,
      roles: rng.some(ROLES, 0.3),
      queues: rng.some(QUEUES, 0.4),
      services: rng.some(SERVICES, 0.4),
      prefs,
    });
  });
}

function directory(rng: Rng, people: ParticipantRecord[]): MemoryRulesDirectory {
  const dir = new MemoryRulesDirectory(people, Object.fromEntries(QUEUES.filter(() => rng.chance(0.7)).map((q) => [q, rng.pick(GROUPS)])));
  const addresses = [...people.map((p) => `${p.id}@example.com`), ...OUTSIDE];
  for (const itemId of ['T1', 'T2']) {
    if (rng.chance(0.3)) continue;
    dir.recordArticle(itemId, rng.some(addresses, 0.3));
    if (rng.chance(0.5)) dir.recordArticle(itemId, rng.some(addresses, 0.3));
  }
  return dir;
}

function history(rng: Rng, people: ParticipantRecord[]): MemoryDeliveryHistory {
  const h = new MemoryDeliveryHistory();
  for (const p of people) {
    if (rng.chance(0.2)) h.bounce(`${p.id}@example.com`);
    if (rng.chance(0.3)) h.delivered(rng.pick(['d0', 'd1']), rng.pick(['T1', 'T2', 'A1']), p.id, rng.pick(TRANSPORTS), NOW - rng.int(2 * ONCE_PER_DAY_MS));
  }
  return h;
}

const EVENT_TYPES = ['TicketCreate', 'ArticleCreate'];

function ruleEvent(rng: Rng, people: ParticipantRecord[], n: number): RuleEvent {
  const ids = [...people.map((p) => p.id), 'ghost'];
  const someone = () => (rng.chance(0.8) ? rng.pick(ids) : null);
  const art: Article | null = rng.chance(0.7)
    ? {
        senderKind: rng.pick(['user', 'customer', 'system'] as const),
        channel: rng.pick(['email', 'phone', 'internal', 'chat'] as const),
        visibleForCustomer: rng.chance(0.5),
        subject: rng.pick(['Help', 'Invoice']),
        body: 'body',
      }
    : null;
  const withItem = rng.chance(0.8);
  const withAppt = !withItem || rng.chance(0.3);
  return {
    id: `e${n}`,
    type: rng.pick(EVENT_TYPES),
    occurredAt: NOW,
    actorId: rng.chance(0.6) ? rng.pick(ids) : null,
    item: withItem
      ? ticket({
          id: rng.pick(['T1', 'T2']),
          queue: rng.chance(0.9) ? rng.pick(QUEUES) : null,
          service: rng.chance(0.9) ? rng.pick(SERVICES) : null,
          customerId: someone(),
          ownerId: someone(),
          responsibleId: someone(),
          createdBy: someone(),
          followerIds: rng.some(ids, 0.3),
        })
      : null,
    article: art,
    appointment: withAppt ? appointment({ resourceIds: rng.some(ids, 0.3) }) : null,
    calendar: withAppt ? calendar({ groupId: rng.chance(0.8) ? rng.pick(GROUPS) : null }) : null,
  };
}

function randomDefinition(rng: Rng, people: ParticipantRecord[], n: number) {
  const ids = [...people.map((p) => p.id), 'ghost'];
  const filter: DefinitionFilter = rng.chance(0.2) ? { queue: [rng.pick(QUEUES)] } : {};
  const builtIn = rng.chance(0.2);
  return definition({
    id: builtIn ? rng.pick(['builtin-assignment-changes', 'builtin-new-members']) : `d${n}`,
    builtIn,
    type: rng.chance(0.8) ? 'ticket' : 'appointment',
    events: rng.chance(0.9) ? EVENT_TYPES : ['Other'],
    filter,
    articleFilter: rng.chance(0.15) ? { visibleForCustomer: rng.chance(0.5) } : {},
    recipients: {
      relations: rng.some(RECIPIENT_RELATIONS, 0.25) as RecipientRelation[],
      agents: rng.some(ids, 0.2),
      groups: rng.some([...GROUPS, 'g-none'], 0.2),
      roles: rng.some([...ROLES, 'r-none'], 0.2),
    },
    sendOnOutOfOffice: rng.chance(0.3),
    oncePerDay: rng.chance(0.3),
    transports: {
      email: { enabled: rng.chance(0.8), extraAddresses: rng.some([...people.map((p) => `${p.id}@example.com`), 'team@corp.example'], 0.15) },
      web: { enabled: rng.chance(0.6) },
      sms: { enabled: rng.chance(0.4) },
    },
    agentPreferences: { visible: rng.pick(['no', 'yes', 'mandatory'] as const), enabledByDefault: rng.some(TRANSPORTS, 0.5) },
  });
}

interface Case {
  seed: number;
  event: RuleEvent;
  result: MatchResult;
  people: Map<string, ParticipantRecord>;
  byEmail: Map<string, ParticipantRecord>;
}

/** Every case of every world, generated once and shared by the properties below. */
const cases: Case[] = [];
for (let w = 0; w < WORLDS; w++) {
  const seed = BASE_SEED + w;
  const rng = random(seed);
  const people = population(rng);
  const dir = directory(rng, people);
  const hist = history(rng, people);
  const defs = Array.from({ length: DEFINITIONS_PER_WORLD }, (_, n) => randomDefinition(rng, people, n));
  for (let e = 0; e < EVENTS_PER_WORLD; e++) {
    const ev = ruleEvent(rng, people, e);
    for (const d of defs) {
      cases.push({ seed, event: ev, result: matchDefinition(ev, d, dir, hist, NOW), people: dir.byId, byEmail: dir.byEmail });
    }
  }
}

/** The participant a delivery reaches: its own, or the owner of its address. */
const reached = (c: Case, d: PlannedDelivery): ParticipantRecord | undefined =>
  d.participantId !== null ? c.people.get(d.participantId) : c.byEmail.get(d.address!.toLowerCase());

/** Runs `check` on every delivery of every case; returns how many deliveries `relevant` held for. */
function everyDelivery(relevant: (c: Case, d: PlannedDelivery) => boolean, check: (c: Case, d: PlannedDelivery) => void): number {
  let seen = 0;
  for (const c of cases) {
    for (const d of c.result.deliveries) {
      if (!relevant(c, d)) continue;
      seen++;
      check(c, d);
    }
  }
  return seen;
}

const hidden = (c: Case) => c.event.article !== null && !c.event.article.visibleForCustomer;

describe('the matcher over random worlds', () => {
  it(`generates at least 2,000 cases, most of them matching with deliveries`, () => {
    expect(cases.length).toBeGreaterThanOrEqual(2000);
    expect(cases.filter((c) => c.result.deliveries.length > 0).length).toBeGreaterThan(cases.length / 3);
    expect(cases.filter((c) => c.result.deliveries.some((d) => d.reason === null)).length).toBeGreaterThan(cases.length / 4);
  });

  it('never tells a customer (or a customer\u2019s address) about an article customers may not see', () => {
    const seen = everyDelivery(
      (c, d) => hidden(c) && reached(c, d)?.kind === 'customer',
      (c, d) => expect(d.reason, `seed ${c.seed}`).not.toBeNull(),
    );
    expect(seen).toBeGreaterThan(100);
  });

  it('treats an article address nobody in the directory has as a customer\u2019s', () => {
    const seen = everyDelivery(
      (c, d) => hidden(c) && d.address !== null && d.address.endsWith('@outside.example'),
      (c, d) => expect(d.reason, `seed ${c.seed}`).not.toBeNull(),
    );
    expect(seen).toBeGreaterThan(50);
  });

  it('gives customers email only, never web or SMS', () => {
    const seen = everyDelivery(
      (c, d) => d.participantId !== null && c.people.get(d.participantId)?.kind === 'customer',
      (c, d) => expect(d.transport, `seed ${c.seed}`).toBe('email'),
    );
    expect(seen).toBeGreaterThan(100);
  });

  it('never tells the actor about what they did', () => {
    const seen = everyDelivery(
      (c, d) => c.event.actorId !== null && reached(c, d)?.id === c.event.actorId,
      (c, d) => expect(d.reason, `seed ${c.seed}`).not.toBeNull(),
    );
    expect(seen).toBeGreaterThan(100);
  });

  it('plans each (recipient, transport) at most once per definition, and each person through one identity', () => {
    let multi = 0;
    for (const c of cases) {
      const keys = c.result.deliveries.map((d) => `${reached(c, d)?.id ?? d.address!.toLowerCase()}/${d.transport}`);
      expect(new Set(keys).size, `seed ${c.seed}: ${keys.join(' ')}`).toBe(keys.length);
      if (keys.length > 3) multi++;
    }
    expect(multi).toBeGreaterThan(100);
  });

  it('never tells a disabled participant anything', () => {
    const seen = everyDelivery(
      (c, d) => reached(c, d)?.disabled === true,
      (c, d) => expect(d.reason, `seed ${c.seed}`).not.toBeNull(),
    );
    expect(seen).toBeGreaterThan(100);
  });

  it('never plans a delivery to a bot, and none for a definition that did not match', () => {
    for (const c of cases) {
      if (!c.result.matched) expect(c.result.deliveries, `seed ${c.seed}`).toEqual([]);
      for (const d of c.result.deliveries) if (d.participantId !== null) expect(c.people.get(d.participantId)?.kind, `seed ${c.seed}`).not.toBe('bot');
    }
  });
});
