import { describe, expect, it } from 'vitest';
import type { ArticleFilter, DefinitionFilter, RecipientRelation } from '../../../../protocol/index.js';
import type { ItemRecord, ParticipantRecord } from '../../../../server/core/model.js';
import { BUILTIN_PREFERENCE, itemFollowers, matchDefinition, ONCE_PER_DAY_MS, RECIPIENT_RELATIONS } from '../../../../server/core/notifications/matcher.js';
import type { MatchResult, RuleEvent } from '../../../../server/core/notifications/types.js';
import {
  appointment,
  article,
  calendar,
  definition,
  event,
  MemoryDeliveryHistory,
  MemoryRulesDirectory,
  person,
  ticket,
} from '../../../support/rules-directory.js';

/**
 * Table tests of NOTIFICATIONS §2–§3 for the matcher. Unless a row says otherwise: the event is
 * `TicketCreate` about ticket T1 (queue Support, service Printing, status open, …), the definition is
 * valid, for `TicketCreate`, email only, and `now` is one day and a bit after 0.
 */

const NOW = 10 * ONCE_PER_DAY_MS;
type Def = Parameters<typeof definition>[0];

function run(def: Def, ev: Partial<RuleEvent> = {}, dir = new MemoryRulesDirectory(), history = new MemoryDeliveryHistory()): MatchResult {
  return matchDefinition(event(ev), definition(def), dir, history, NOW);
}
/** `who/transport:reason` for each delivery, in the matcher's order. */
const rows = (r: MatchResult) => r.deliveries.map((d) => `${d.participantId ?? d.address}/${d.transport}:${d.reason}`);
/** Each recipient once, sorted. */
const who = (r: MatchResult) => [...new Set(r.deliveries.map((d) => d.participantId ?? d.address))].sort();
const dirOf = (...people: ParticipantRecord[]) => new MemoryRulesDirectory(people);
const agents = (...ids: string[]): Def => ({ recipients: { relations: [], agents: ids, groups: [], roles: [] } });
const relation = (r: RecipientRelation, type: 'ticket' | 'appointment' = 'ticket'): Def => ({
  type,
  events: ['E'],
  recipients: { relations: [r], agents: [], groups: [], roles: [] },
});

describe('whether a definition matches', () => {
  it.each<[string, Def, Partial<RuleEvent>, boolean]>([
    ['a valid definition for the event type', {}, {}, true],
    ['an invalid one', { valid: 'invalid' }, {}, false],
    ['an invalid-temporarily one', { valid: 'invalid-temporarily' }, {}, false],
    ['another event type', { events: ['TicketQueueUpdate'] }, {}, false],
    ['the type among several', { events: ['A', 'TicketCreate', 'B'] }, {}, true],
    ['the type in another case (exact match)', { events: ['ticketcreate'] }, {}, false],
    ['a ticket definition, an event without item', {}, { item: null }, false],
    ['an appointment definition, an event without appointment', { type: 'appointment' }, {}, false],
    ['an appointment definition, an event with one', { type: 'appointment' }, { item: null, appointment: appointment() }, true],
  ])('%s → %s', (_, def, ev, matched) => {
    const r = run({ ...def, ...agents('u1') }, ev, dirOf(person('u1')));
    expect(r.matched).toBe(matched);
    expect(r.deliveries.length > 0).toBe(matched);
  });

  const item = (over: Partial<ItemRecord>) => ({ item: ticket(over) });
  it.each<[string, DefinitionFilter, Partial<RuleEvent>, boolean]>([
    ['no filter', {}, {}, true],
    ['an empty list', { status: [] }, {}, true],
    ['status listed', { status: ['new', 'open'] }, {}, true],
    ['status not listed', { status: ['closed'] }, {}, false],
    ['status exact (case)', { status: ['Open'] }, {}, false],
    ['status null on the item', { status: ['open'] }, item({ status: null }), false],
    ['priority listed', { priority: ['3 normal'] }, {}, true],
    ['priority not listed', { priority: ['5 very high'] }, {}, false],
    ['queue listed', { queue: ['Support'] }, {}, true],
    ['queue not listed', { queue: ['Sales'] }, {}, false],
    ['service listed', { service: ['Printing'] }, {}, true],
    ['service not listed', { service: ['Email'] }, {}, false],
    ['type listed', { type: ['Incident'] }, {}, true],
    ['type not listed', { type: ['Problem'] }, {}, false],
    ['lock listed', { lock: ['unlock', 'tmp_lock'] }, {}, true],
    ['lock not listed', { lock: ['lock'] }, {}, false],
    ['customerId listed', { customerId: ['c1'] }, item({ customerId: 'c1' }), true],
    ['customerId not listed', { customerId: ['c2'] }, item({ customerId: 'c1' }), false],
    ['customerId absent', { customerId: ['c1'] }, {}, false],
    ['customerCompany listed', { customerCompany: ['ACME'] }, {}, true],
    ['customerCompany not listed', { customerCompany: ['Initech'] }, {}, false],
    ['a field listed', { fields: { Severity: ['high'] } }, item({ fields: { Severity: 'high' } }), true],
    ['a field not listed', { fields: { Severity: ['high'] } }, item({ fields: { Severity: 'low' } }), false],
    ['a list field with one element listed', { fields: { Tags: ['vip'] } }, item({ fields: { Tags: ['x', 'vip'] } }), true],
    ['a list field with none listed', { fields: { Tags: ['vip'] } }, item({ fields: { Tags: ['x', 'y'] } }), false],
    ['a field the item lacks', { fields: { Severity: ['high'] } }, {}, false],
    ['a field with an empty list', { fields: { Severity: [] } }, {}, true],
    ['two fields, both listed', { fields: { A: ['1'], B: ['2'] } }, item({ fields: { A: '1', B: '2' } }), true],
    ['two fields, one not listed', { fields: { A: ['1'], B: ['2'] } }, item({ fields: { A: '1', B: '3' } }), false],
    ['two keys, both hold', { status: ['open'], queue: ['Support'] }, {}, true],
    ['two keys, one fails', { status: ['open'], queue: ['Sales'] }, {}, false],
    ['an appointment key on a ticket event (lacks it)', { calendarId: ['cal1'] }, {}, false],
  ])('ticket filter: %s → %s', (_, filter, ev, matched) => {
    expect(run({ filter, ...agents('u1') }, ev, dirOf(person('u1'))).matched).toBe(matched);
  });

  const appt = (over: Parameters<typeof appointment>[0] = {}) => ({ item: null, appointment: appointment(over) });
  it.each<[string, DefinitionFilter, Partial<RuleEvent>, boolean]>([
    ['calendarId listed', { calendarId: ['cal1'] }, appt(), true],
    ['calendarId not listed', { calendarId: ['cal2'] }, appt(), false],
    ['title listed', { title: ['Maintenance'] }, appt(), true],
    ['title not listed', { title: ['Standup'] }, appt(), false],
    ['location listed', { location: ['Berlin'] }, appt(), true],
    ['location not listed', { location: ['Paris'] }, appt(), false],
    ['location null', { location: ['Berlin'] }, appt({ location: null }), false],
    ['a resource listed', { resourceId: ['r2'] }, appt({ resourceIds: ['r1', 'r2'] }), true],
    ['no resource listed', { resourceId: ['r3'] }, appt({ resourceIds: ['r1', 'r2'] }), false],
    ['no resources at all', { resourceId: ['r3'] }, appt(), false],
    ['an item key on an event without item (lacks it)', { status: ['open'] }, appt(), false],
    ['an item key on an appointment event that carries an item', { status: ['open'] }, { appointment: appointment() }, true],
  ])('appointment filter: %s → %s', (_, filter, ev, matched) => {
    expect(run({ type: 'appointment', filter, ...agents('u1') }, ev, dirOf(person('u1'))).matched).toBe(matched);
  });

  const withArticle = (over: Parameters<typeof article>[0] = {}) => ({ article: article(over) });
  it.each<[string, ArticleFilter, Partial<RuleEvent>, boolean]>([
    ['no article filter, no article', {}, {}, true],
    ['empty lists, no article', { senderKind: [], channel: [] }, {}, true],
    ['senderKind listed', { senderKind: ['customer', 'system'] }, withArticle(), true],
    ['senderKind not listed', { senderKind: ['user'] }, withArticle(), false],
    ['senderKind, no article', { senderKind: ['customer'] }, {}, false],
    ['channel listed', { channel: ['email'] }, withArticle(), true],
    ['channel not listed', { channel: ['phone', 'chat'] }, withArticle(), false],
    ['channel, no article', { channel: ['email'] }, {}, false],
    ['visibleForCustomer true, visible', { visibleForCustomer: true }, withArticle(), true],
    ['visibleForCustomer true, internal', { visibleForCustomer: true }, withArticle({ visibleForCustomer: false }), false],
    ['visibleForCustomer false, internal', { visibleForCustomer: false }, withArticle({ visibleForCustomer: false }), true],
    ['visibleForCustomer false, no article', { visibleForCustomer: false }, {}, false],
    ['hasAttachment true, with one', { hasAttachment: true }, withArticle({ attachments: [{ filename: 'a', contentType: 'text/plain', size: 1 }] }), true],
    ['hasAttachment true, with none', { hasAttachment: true }, withArticle({ attachments: [] }), false],
    ['hasAttachment false, with none', { hasAttachment: false }, withArticle(), true],
    ['hasAttachment false, with one', { hasAttachment: false }, withArticle({ attachments: [{ filename: 'a', contentType: 'text/plain', size: 1 }] }), false],
    ['hasAttachment false, no article', { hasAttachment: false }, {}, false],
    ['subject substring, other case', { subject: 'HEL' }, withArticle({ subject: 'Help me' }), true],
    ['subject not contained', { subject: 'urgent' }, withArticle({ subject: 'Help me' }), false],
    ['subject, article without subject', { subject: 'Help' }, withArticle({ subject: undefined }), false],
    ['subject, no article', { subject: 'Help' }, {}, false],
    ['body substring, other case', { body: 'BROKEN' }, withArticle(), true],
    ['body not contained', { body: 'fixed' }, withArticle(), false],
    ['body, no article', { body: 'broken' }, {}, false],
    ['all set, all hold', { senderKind: ['customer'], channel: ['email'], visibleForCustomer: true, hasAttachment: false, subject: 'help', body: 'is' }, withArticle(), true],
  ])('article filter: %s → %s', (_, articleFilter, ev, matched) => {
    expect(run({ articleFilter, ...agents('u1') }, ev, dirOf(person('u1'))).matched).toBe(matched);
  });

  it('reports nothing (no deliveries, no unknown ids) for a definition that does not match', () => {
    expect(run({ valid: 'invalid', ...agents('ghost') })).toEqual({ matched: false, deliveries: [], notFound: [] });
  });
});

describe('recipients', () => {
  const people = [
    person('creator'),
    person('owner'),
    person('resp'),
    person('watcher'),
    person('rw', 'user', { groups: ['g-support'] }),
    person('rw2', 'user', { groups: [{ id: 'g-support', permission: 'rw' }] }),
    person('ro', 'user', { groups: [{ id: 'g-support', permission: 'ro' }] }),
    person('q', 'user', { queues: ['Support'] }),
    person('s', 'user', { services: ['Printing'] }),
    person('qs', 'user', { queues: ['Sales', 'Support'], services: ['Printing'] }),
    person('cust', 'customer'),
    person('calrw', 'user', { groups: [{ id: 'g-cal', permission: 'rw' }] }),
    person('calro', 'user', { groups: [{ id: 'g-cal', permission: 'ro' }] }),
    person('res1'),
    person('bot1', 'bot'),
  ];
  const world = () => {
    const dir = new MemoryRulesDirectory(people, { Support: 'g-support' });
    dir.recordArticle('T1', ['first@outside.example', 'Watcher <WATCHER@example.com>', 'not an address']);
    dir.recordArticle('T1', ['last@outside.example', 'q@example.com']);
    return dir;
  };
  const tkt = ticket({ createdBy: 'creator', ownerId: 'owner', responsibleId: 'resp', followerIds: ['watcher', 'bot1'], customerId: 'cust' });
  const appt = appointment({ resourceIds: ['res1', 'nobody', 'bot1'] });

  it('covers every relation of the contract in the table below', () => {
    expect(RECIPIENT_RELATIONS).toHaveLength(14);
  });

  it.each<[RecipientRelation, 'ticket' | 'appointment', string[]]>([
    ['AgentCreateBy', 'ticket', ['creator']],
    ['AgentOwner', 'ticket', ['owner']],
    ['AgentResponsible', 'ticket', ['resp']],
    ['AgentWatcher', 'ticket', ['owner', 'resp', 'watcher']],
    ['AgentWritePermissions', 'ticket', ['rw', 'rw2']],
    ['AgentMyQueues', 'ticket', ['q', 'qs']],
    ['AgentMyServices', 'ticket', ['qs', 's']],
    ['AgentMyQueuesMyServices', 'ticket', ['qs']],
    ['AllRecipientsFirstArticle', 'ticket', ['first@outside.example', 'watcher']],
    ['AllRecipientsLastArticle', 'ticket', ['last@outside.example', 'q']],
    ['Customer', 'ticket', ['cust']],
    ['AppointmentAgentReadPermissions', 'appointment', ['calro', 'calrw']],
    ['AppointmentAgentWritePermissions', 'appointment', ['calrw']],
    ['AppointmentResource', 'appointment', ['res1']],
  ])('%s (%s) → %j', (r, type, expected) => {
    const ev: Partial<RuleEvent> = { type: 'E', item: tkt, appointment: appt, calendar: calendar({ groupId: 'g-cal' }) };
    const res = run(relation(r, type), ev, world());
    expect(who(res)).toEqual(expected);
    expect(res.notFound).toEqual([]);
  });

  it.each<[RecipientRelation, Partial<RuleEvent>]>([
    ['AgentOwner', { item: ticket({ ownerId: null }) }],
    ['AgentOwner', { item: ticket({ ownerId: 'unknown' }) }],
    ['AgentWritePermissions', { item: ticket({ queue: 'NoGroup' }) }],
    ['AgentWritePermissions', { item: ticket({ queue: null }) }],
    ['AgentMyQueues', { item: ticket({ queue: null }) }],
    ['AgentMyServices', { item: ticket({ service: null }) }],
    ['AgentMyQueuesMyServices', { item: ticket({ service: null }) }],
    ['AllRecipientsFirstArticle', { item: ticket({ id: 'T-no-articles' }) }],
    ['Customer', { item: ticket({ customerId: null }) }],
    ['AppointmentAgentReadPermissions', { appointment: appointment(), calendar: calendar({ groupId: null }) }],
    ['AppointmentAgentWritePermissions', { appointment: appointment(), calendar: null }],
  ])('%s names nobody when the event lacks what it reads (%#)', (r, ev) => {
    expect(run(relation(r), { type: 'E', ...ev }, world()).deliveries).toEqual([]);
  });

  it('itemFollowers lists explicit followers, then the owner and the responsible user, each once', () => {
    expect(itemFollowers(ticket({ followerIds: ['a', 'b'], ownerId: 'c', responsibleId: 'a' }))).toEqual(['a', 'b', 'c']);
    expect(itemFollowers(ticket({ ownerId: 'o', responsibleId: 'o' }))).toEqual(['o']);
    expect(itemFollowers(ticket())).toEqual([]);
  });

  it.each<[string, Def, string[], Array<{ kind: string; id: string }>]>([
    ['agents by id', agents('owner', 'cust'), ['cust', 'owner'], []],
    ['an unknown agent', agents('owner', 'ghost'), ['owner'], [{ kind: 'agent', id: 'ghost' }]],
    ['an unknown agent named twice, reported once', agents('ghost', 'ghost'), [], [{ kind: 'agent', id: 'ghost' }]],
    ['a group only customers and bots are in (not found: groups are agents\u2019)', { recipients: { relations: [], agents: [], groups: ['g-cust'], roles: [] } }, [], [{ kind: 'group', id: 'g-cust' }]],
    ['a bot named as agent (never a recipient, but known)', agents('bot1'), [], []],
    ['a group: rw and ro members alike', { recipients: { relations: [], agents: [], groups: ['g-support'], roles: [] } }, ['ro', 'rw', 'rw2'], []],
    ['an unknown group', { recipients: { relations: [], agents: [], groups: ['g-none'], roles: [] } }, [], [{ kind: 'group', id: 'g-none' }]],
    ['a role', { recipients: { relations: [], agents: [], groups: [], roles: ['lead'] } }, ['lead1', 'lead2'], []],
    ['an unknown role', { recipients: { relations: [], agents: [], groups: [], roles: ['lead', 'ceo'] } }, ['lead1', 'lead2'], [{ kind: 'role', id: 'ceo' }]],
  ])('%s', (_, def, expected, notFound) => {
    const dir = world().put(person('lead1', 'user', { roles: ['lead'] })).put(person('lead2', 'user', { roles: ['x', 'lead'] })).put(person('bot2', 'bot', { roles: ['lead'], groups: ['g-cust'] })).put(person('cust2', 'customer', { groups: ['g-cust'] }));
    const res = run(def, {}, dir);
    expect(who(res)).toEqual(expected);
    expect(res.notFound).toEqual(notFound.map((n) => ({ definitionId: 'd1', ...n })));
  });

  it('tells each person once across relations, agents, groups, roles and article addresses', () => {
    const dir = world().put(person('owner', 'user', { groups: ['g-support'], roles: ['lead'], queues: ['Support'] }));
    dir.recordArticle('T1', ['OWNER@example.com', 'owner@example.com']);
    const res = run(
      {
        transports: { email: { enabled: true, extraAddresses: ['owner@example.com', 'x@else.example', 'X@ELSE.example'] }, web: { enabled: true } },
        recipients: { relations: ['AgentOwner', 'AgentWatcher', 'AgentMyQueues', 'AllRecipientsLastArticle'], agents: ['owner', 'owner'], groups: ['g-support'], roles: ['lead'] },
      },
      { item: tkt },
      dir,
    );
    const keys = res.deliveries.map((d) => `${d.participantId ?? d.address?.toLowerCase()}/${d.transport}`);
    expect(new Set(keys).size).toBe(keys.length);
    expect(keys.filter((k) => k.startsWith('owner')).sort()).toEqual(['owner/email', 'owner/web']);
    expect(keys.filter((k) => k.startsWith('x@'))).toEqual(['x@else.example/email']);
  });

  it('scans the users only for definitions whose recipients need it', () => {
    const dir = world();
    run({ transports: { email: { enabled: true }, web: { enabled: true } }, recipients: { relations: ['AgentOwner', 'AgentWatcher', 'Customer', 'AllRecipientsLastArticle'], agents: ['q'], groups: [], roles: [] } }, { item: tkt }, dir);
    expect(dir.scans).toBe(0);
    expect(dir.queueReads).toBe(0);
    // My queues alone: the queue's own users, without a scan of everybody.
    run(relation('AgentMyQueues'), { type: 'E', item: tkt }, dir);
    expect(dir.scans).toBe(0);
    expect(dir.queueReads).toBe(1);
    run(relation('AgentMyServices'), { type: 'E', item: { ...tkt, service: 'vpn' } }, dir);
    expect(dir.scans).toBe(1);
  });
});

describe('transports per recipient', () => {
  const all: Def = { transports: { email: { enabled: true }, web: { enabled: true }, sms: { enabled: true }, message: { enabled: true, botId: 'bot1', visibility: 'internal' } } };
  it.each<[string, Def, string[]]>([
    ['a user gets every enabled personal transport (message is not per recipient)', { ...all, ...agents('u1') }, ['u1/email:null', 'u1/web:null', 'u1/sms:null']],
    ['a disabled transport is no delivery', { transports: { email: { enabled: false }, web: { enabled: true } }, ...agents('u1') }, ['u1/web:null']],
    ['a customer gets email only', { ...all, ...agents('c1') }, ['c1/email:null']],
    ['a customer gets nothing without email', { transports: { web: { enabled: true }, sms: { enabled: true } }, ...agents('c1') }, []],
    [
      'extra addresses get email, each once',
      { transports: { email: { enabled: true, extraAddresses: ['team@corp.example', 'TEAM@corp.example', 'boss@corp.example'] }, web: { enabled: true } } },
      ['team@corp.example/email:null', 'boss@corp.example/email:null'],
    ],
    ['extra addresses need email enabled', { transports: { email: { enabled: false, extraAddresses: ['team@corp.example'] }, web: { enabled: true } } }, []],
    [
      'an extra address of a recipient is that recipient',
      { transports: { email: { enabled: true, extraAddresses: ['u1@example.com'] } }, ...agents('u1') },
      ['u1/email:null'],
    ],
  ])('%s', (_, def, expected) => {
    expect(rows(run(def, {}, dirOf(person('u1'), person('c1', 'customer'))))).toEqual(expected);
  });

  it('gives an article address nobody has email only', () => {
    const dir = new MemoryRulesDirectory();
    dir.recordArticle('T1', ['someone@outside.example']);
    const def: Def = { ...all, recipients: { relations: ['AllRecipientsFirstArticle'], agents: [], groups: [], roles: [] } };
    expect(rows(run(def, {}, dir))).toEqual(['someone@outside.example/email:null']);
  });
});

describe('who is left out, and why', () => {
  const day = ONCE_PER_DAY_MS;
  const internal = { article: article({ visibleForCustomer: false }) };
  type Row = [string, ParticipantRecord, Def, Partial<RuleEvent>, (h: MemoryDeliveryHistory) => void, string[]];
  const none = () => {};
  const ew: Def = { transports: { email: { enabled: true }, web: { enabled: true } } };
  const ews: Def = { transports: { email: { enabled: true }, web: { enabled: true }, sms: { enabled: true } } };
  it.each<Row>([
    ['nobody: every transport goes', person('p'), ews, {}, none, ['email:null', 'web:null', 'sms:null']],
    ['actor', person('p'), ew, { actorId: 'p' }, none, ['email:actor', 'web:actor']],
    ['someone else acted', person('p'), ew, { actorId: 'q' }, none, ['email:null', 'web:null']],
    ['disabled', person('p', 'user', { disabled: true }), ew, {}, none, ['email:disabled', 'web:disabled']],
    ['a customer, internal article', person('p', 'customer'), ew, internal, none, ['email:not_visible_for_customer']],
    ['a customer, visible article', person('p', 'customer'), ew, { article: article() }, none, ['email:null']],
    ['a customer, no article', person('p', 'customer'), ew, {}, none, ['email:null']],
    ['a user, internal article', person('p'), ew, internal, none, ['email:null', 'web:null']],
    ['out of office', person('p', 'user', { outOfOffice: true }), ew, {}, none, ['email:out_of_office', 'web:out_of_office']],
    ['out of office, sendOnOutOfOffice', person('p', 'user', { outOfOffice: true }), { ...ew, sendOnOutOfOffice: true }, {}, none, ['email:null', 'web:null']],
    ['once per day, email sent 23 h ago', person('p'), { ...ew, oncePerDay: true }, {}, (h) => h.delivered('d1', 'T1', 'p', 'email', NOW - day + 3600_000), ['email:once_per_day', 'web:null']],
    ['once per day, sent 24 h ago', person('p'), { ...ew, oncePerDay: true }, {}, (h) => h.delivered('d1', 'T1', 'p', 'email', NOW - day), ['email:null', 'web:null']],
    ['once per day, another item', person('p'), { ...ew, oncePerDay: true }, {}, (h) => h.delivered('d1', 'T2', 'p', 'email', NOW - 1), ['email:null', 'web:null']],
    ['once per day, another definition', person('p'), { ...ew, oncePerDay: true }, {}, (h) => h.delivered('d2', 'T1', 'p', 'email', NOW - 1), ['email:null', 'web:null']],
    ['once per day off', person('p'), ew, {}, (h) => h.delivered('d1', 'T1', 'p', 'email', NOW - 1), ['email:null', 'web:null']],
    ['preference off', person('p', 'user', { prefs: { notificationDefinitions: { d1: { web: false } } } }), { ...ew, agentPreferences: { visible: 'yes', enabledByDefault: ['email', 'web'] } }, {}, none, ['email:null', 'web:preference_off']],
    ['opted out (email only)', person('p', 'user', { prefs: { email: { optOut: true } } }), ew, {}, none, ['email:opted_out', 'web:null']],
    ['a customer opted out', person('p', 'customer', { prefs: { email: { optOut: true } } }), ew, {}, none, ['email:opted_out']],
    ['bounced (email only)', person('p'), ew, {}, (h) => h.bounce('P@example.com'), ['email:bounced', 'web:null']],
    ['no address (email only)', person('p', 'user', { email: null }), ew, {}, none, ['email:no_address', 'web:null']],
    ['no phone (sms only)', person('p', 'user', { phone: null }), ews, {}, none, ['email:null', 'web:null', 'sms:no_phone']],
  ])('%s', (_, p, def, ev, setup, expected) => {
    const history = new MemoryDeliveryHistory();
    setup(history);
    const res = run({ ...def, ...agents('p') }, ev, dirOf(p), history);
    expect(res.deliveries.map((d) => `${d.transport}:${d.reason}`)).toEqual(expected);
  });

  // A recipient to whom everything applies, with one more reason removed per row: the first left wins.
  const worst = (drop: number) =>
    person('p', 'customer', {
      disabled: drop < 2,
      outOfOffice: drop < 4,
      email: drop < 8 ? 'p@example.com' : null,
      prefs: { email: { optOut: drop < 7 } },
    });
  it.each<[number, string]>([
    [0, 'actor'],
    [1, 'disabled'],
    [2, 'not_visible_for_customer'],
    [3, 'out_of_office'],
    [4, 'once_per_day'],
    [6, 'opted_out'],
    [7, 'bounced'],
    [8, 'no_address'],
  ])('a customer to whom all from #%i on apply gets %s', (drop, reason) => {
    const history = new MemoryDeliveryHistory().bounce('p@example.com');
    if (drop < 5) history.delivered('d1', 'T1', 'p', 'email', NOW - 1);
    const ev = { actorId: drop < 1 ? 'p' : 'x', article: article({ visibleForCustomer: drop >= 3 }) };
    const res = run({ oncePerDay: true, ...agents('p') }, ev, dirOf(worst(drop)), history);
    expect(res.deliveries.map((d) => d.reason)).toEqual([reason]);
  });

  const userWorst = (drop: number) =>
    person('p', 'user', {
      disabled: drop < 2,
      outOfOffice: drop < 4,
      email: drop < 8 ? 'p@example.com' : null,
      phone: null,
      prefs: { email: { optOut: drop < 7 }, notificationDefinitions: drop < 6 ? { d1: { email: false, sms: false } } : {} },
    });
  it.each<[number, string, string]>([
    [0, 'actor', 'actor'],
    [1, 'disabled', 'disabled'],
    [2, 'out_of_office', 'out_of_office'],
    [4, 'once_per_day', 'once_per_day'],
    [5, 'preference_off', 'preference_off'],
    [6, 'opted_out', 'no_phone'],
    [7, 'bounced', 'no_phone'],
    [8, 'no_address', 'no_phone'],
  ])('a user to whom all from #%i on apply gets %s for email, %s for sms', (drop, email, sms) => {
    const history = new MemoryDeliveryHistory().bounce('p@example.com');
    if (drop < 5) history.delivered('d1', 'T1', 'p', 'email', NOW - 1).delivered('d1', 'T1', 'p', 'sms', NOW - 1);
    const def: Def = {
      oncePerDay: true,
      transports: { email: { enabled: true }, sms: { enabled: true } },
      agentPreferences: { visible: 'yes', enabledByDefault: ['email', 'sms'] },
      ...agents('p'),
    };
    const res = run(def, { actorId: drop < 1 ? 'p' : 'x', article: article({ visibleForCustomer: false }) }, dirOf(userWorst(drop)), history);
    expect(res.deliveries.map((d) => d.reason)).toEqual([email, sms]);
  });

  it.each<[string, (h: MemoryDeliveryHistory) => void, Partial<RuleEvent>, string | null]>([
    ['goes', none, {}, null],
    ['once per day, keyed by the lowercased address', (h) => h.delivered('d1', 'T1', 'team@corp.example', 'email', NOW - 1), {}, 'once_per_day'],
    ['bounced', (h) => h.bounce('team@corp.example'), {}, 'bounced'],
    ['an internal article does not stop an admin-listed address', none, internal, null],
  ])('an extra address: %s', (_, setup, ev, reason) => {
    const history = new MemoryDeliveryHistory();
    setup(history);
    const res = run({ oncePerDay: true, transports: { email: { enabled: true, extraAddresses: ['Team@corp.example'] } } }, ev, new MemoryRulesDirectory(), history);
    expect(res.deliveries).toEqual([{ definitionId: 'd1', participantId: null, address: 'Team@corp.example', transport: 'email', reason }]);
  });

  it.each<[string, ParticipantRecord, Partial<RuleEvent>, string]>([
    ['the actor', person('o'), { actorId: 'o' }, 'actor'],
    ['disabled', person('o', 'user', { disabled: true }), {}, 'disabled'],
    ['a customer, internal article', person('o', 'customer'), internal, 'not_visible_for_customer'],
    ['opted out', person('o', 'user', { prefs: { email: { optOut: true } } }), {}, 'opted_out'],
  ])('an extra address whose owner is %s inherits it', (_, owner, ev, reason) => {
    const res = run({ transports: { email: { enabled: true, extraAddresses: ['o@example.com'] } } }, ev, dirOf(owner));
    expect(res.deliveries.map((d) => [d.participantId, d.address, d.reason])).toEqual([[null, 'o@example.com', reason]]);
  });

  it('keeps an internal article from article addresses nobody in the directory has (they may be customers)', () => {
    const dir = new MemoryRulesDirectory([person('u1')]);
    dir.recordArticle('T1', ['cc@outside.example', 'u1@example.com']);
    const res = run({ recipients: { relations: ['AllRecipientsLastArticle'], agents: [], groups: [], roles: [] } }, internal, dir);
    expect(rows(res)).toEqual(['cc@outside.example/email:not_visible_for_customer', 'u1/email:null']);
  });
});

describe('agent preferences', () => {
  const ews: Def = { transports: { email: { enabled: true }, web: { enabled: true }, sms: { enabled: true } } };
  type Visible = 'no' | 'yes' | 'mandatory';
  type Pref = { email?: boolean; web?: boolean; sms?: boolean } | undefined;
  it.each<[Visible, Array<'email' | 'web' | 'sms'>, Pref, string[]]>([
    ['no', [], undefined, ['email:null', 'web:null', 'sms:null']],
    ['no', [], { email: false, web: false }, ['email:null', 'web:null', 'sms:null']],
    ['yes', [], undefined, ['email:preference_off', 'web:preference_off', 'sms:preference_off']],
    ['yes', ['web'], undefined, ['email:preference_off', 'web:null', 'sms:preference_off']],
    ['yes', ['web'], { email: true }, ['email:null', 'web:null', 'sms:preference_off']],
    ['yes', ['email', 'web', 'sms'], { web: false }, ['email:null', 'web:preference_off', 'sms:null']],
    ['mandatory', ['email'], undefined, ['email:null', 'web:preference_off', 'sms:preference_off']],
    ['mandatory', ['email'], { email: false, sms: true }, ['email:preference_off', 'web:preference_off', 'sms:null']],
  ])('visible %s, enabledByDefault %j, user says %j', (visible, enabledByDefault, pref, expected) => {
    const p = person('p', 'user', { prefs: { notificationDefinitions: pref ? { d1: pref, other: { email: true, web: true, sms: true } } : {} } });
    const res = run({ ...ews, agentPreferences: { visible, enabledByDefault }, ...agents('p') }, {}, dirOf(p));
    expect(res.deliveries.map((d) => `${d.transport}:${d.reason}`)).toEqual(expected);
  });

  it('never applies a user preference to a customer', () => {
    const res = run({ agentPreferences: { visible: 'yes', enabledByDefault: [] }, ...agents('c') }, {}, dirOf(person('c', 'customer')));
    expect(rows(res)).toEqual(['c/email:null']);
  });

  it('names the two built-ins', () => {
    expect(BUILTIN_PREFERENCE).toEqual({ 'builtin-assignment-changes': 'assignmentChanges', 'builtin-new-members': 'newMembersInMyProjects' });
  });

  const builtin = (id: string, events: string[], builtIn = true): Def => ({
    id,
    builtIn,
    events,
    transports: { email: { enabled: true }, web: { enabled: true } },
    ...agents('p'),
  });
  it.each<[string, Def, string, Partial<{ assignmentChanges: boolean; newMembersInMyProjects: boolean }>, string[]]>([
    ['assignment changes, on', builtin('builtin-assignment-changes', ['ItemAssignmentUpdate']), 'ItemAssignmentUpdate', { assignmentChanges: true }, ['email:null', 'web:null']],
    ['assignment changes, off (email only)', builtin('builtin-assignment-changes', ['ItemAssignmentUpdate']), 'ItemAssignmentUpdate', { assignmentChanges: false }, ['email:preference_off', 'web:null']],
    ['assignment changes ignores the other key', builtin('builtin-assignment-changes', ['ItemAssignmentUpdate']), 'ItemAssignmentUpdate', { assignmentChanges: true, newMembersInMyProjects: false }, ['email:null', 'web:null']],
    ['new members, off (the default)', builtin('builtin-new-members', ['ProjectMemberAdd']), 'ProjectMemberAdd', {}, ['email:preference_off', 'web:null']],
    ['new members, on', builtin('builtin-new-members', ['ProjectMemberAdd']), 'ProjectMemberAdd', { newMembersInMyProjects: true }, ['email:null', 'web:null']],
    ['a non-built-in definition with that id', builtin('builtin-new-members', ['ProjectMemberAdd'], false), 'ProjectMemberAdd', {}, ['email:null', 'web:null']],
    ['another built-in id', builtin('builtin-other', ['ProjectMemberAdd']), 'ProjectMemberAdd', { assignmentChanges: false }, ['email:null', 'web:null']],
  ])('%s', (_, def, type, email, expected) => {
    const res = run(def, { type }, dirOf(person('p', 'user', { prefs: { email } })));
    expect(res.deliveries.map((d) => `${d.transport}:${d.reason}`)).toEqual(expected);
  });
});
