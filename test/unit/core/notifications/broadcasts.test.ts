import { describe, expect, it } from 'vitest';
import { BroadcastPostSchema, parseMailbox } from '../../../../protocol/index.js';
import type { ParticipantRecord } from '../../../../server/core/model.js';
import { selectBroadcastRecipients, type BroadcastDirectory } from '../../../../server/core/notifications/broadcasts.js';
import { person } from '../../../support/rules-directory.js';

/** A directory of these people, with these addresses hard-bounced. */
function directory(people: ParticipantRecord[], bounced: string[] = []): BroadcastDirectory {
  const byId = new Map(people.map((p) => [p.id, p]));
  return { participant: (id) => byId.get(id), all: () => byId.values(), isBounced: (a) => bounced.includes(a.toLowerCase()) };
}

const audience = (over: Partial<Parameters<typeof selectBroadcastRecipients>[0]> = {}) => ({ users: [], groups: [], roles: [], customersInGroups: false, web: false, ...over });

const people = [
  person('ada', 'user', { groups: ['ops', { id: 'sales', permission: 'ro' }], roles: ['admin'] }),
  person('bob', 'user', { groups: [{ id: 'ops', permission: 'ro' }], roles: ['admin'] }),
  person('cy', 'user', { groups: [{ id: 'sales', permission: 'rw' }] }),
  person('dee', 'user', { roles: ['oncall'] }),
  person('carla', 'customer', { groups: ['ops'] }),
  person('cora', 'customer', { groups: [{ id: 'ops', permission: 'ro' }] }),
  person('robo', 'bot', { groups: ['ops'], roles: ['admin'] }),
];
const ids = (rs: Array<{ participant: { id: string } }>) => rs.map((r) => r.participant.id);

describe('selectBroadcastRecipients (NOTIFICATIONS §7)', () => {
  const cases: Array<[string, ReturnType<typeof audience>, string[]]> = [
    ['overlapping users, groups and roles reach each person once, listed users first', audience({ users: ['dee', 'ada'], groups: [{ id: 'ops', permission: 'ro' }], roles: ['admin', 'oncall'] }), ['dee', 'ada', 'bob']],
    ['ro asks any membership: rw and ro members', audience({ groups: [{ id: 'ops', permission: 'ro' }] }), ['ada', 'bob']],
    ['rw asks rw: ro members are left out (a bare group id is rw)', audience({ groups: [{ id: 'ops', permission: 'rw' }] }), ['ada']],
    ['rw of another group', audience({ groups: [{ id: 'sales', permission: 'rw' }] }), ['cy']],
    ['a group listed twice asks the weaker permission', audience({ groups: [{ id: 'sales', permission: 'rw' }, { id: 'sales', permission: 'ro' }] }), ['ada', 'cy']],
    ['customersInGroups adds the customers of those groups, with the same permission', audience({ groups: [{ id: 'ops', permission: 'ro' }], customersInGroups: true }), ['ada', 'bob', 'carla', 'cora']],
    ['customersInGroups with rw leaves ro customers out', audience({ groups: [{ id: 'ops', permission: 'rw' }], customersInGroups: true }), ['ada', 'carla']],
    ['without customersInGroups no customer is chosen by group', audience({ groups: [{ id: 'ops', permission: 'ro' }] }), ['ada', 'bob']],
    ['roles choose users only, never bots', audience({ roles: ['admin'] }), ['ada', 'bob']],
    ['users names users: customers, bots and unknown ids are left out', audience({ users: ['carla', 'robo', 'nobody', 'cy', 'cy'] }), ['cy']],
    ['nothing named, nobody chosen', audience(), []],
  ];
  it.each(cases)('%s', (_name, a, expected) => {
    expect(ids(selectBroadcastRecipients(a, directory(people)))).toEqual(expected);
  });

  it('skips the email of the disabled, the opted out, the bounced and those without an address, in that order', () => {
    const dir = directory(
      [
        person('on', 'user'),
        person('off', 'user', { disabled: true, prefs: { email: { optOut: true } } }),
        person('out', 'user', { prefs: { email: { optOut: true } } }),
        person('bounce', 'user', { email: 'Bounce@Example.com' }),
        person('none', 'user', { email: null }),
        person('cust', 'customer', { prefs: { email: { optOut: true } } }),
      ],
      ['bounce@example.com'],
    );
    const rs = selectBroadcastRecipients(audience({ users: ['on', 'off', 'out', 'bounce', 'none'], web: true }), dir);
    expect(rs.map((r) => [r.participant.id, r.email, r.skip])).toEqual([
      ['on', true, null],
      ['off', false, 'disabled'],
      ['out', false, 'opted_out'],
      ['bounce', false, 'bounced'],
      ['none', false, 'no_address'],
    ]);
    // The web notification is not an email: only the disabled lose it.
    expect(rs.map((r) => r.web)).toEqual([true, false, true, true, true]);
  });

  it('sends web notifications to users only, and only when asked', () => {
    const a = audience({ groups: [{ id: 'ops', permission: 'ro' }], customersInGroups: true });
    expect(selectBroadcastRecipients(a, directory(people)).some((r) => r.web)).toBe(false);
    const web = selectBroadcastRecipients({ ...a, web: true }, directory(people));
    expect(web.filter((r) => r.web).map((r) => r.participant.id)).toEqual(['ada', 'bob']);
    expect(web.filter((r) => r.participant.kind === 'customer').every((r) => r.email && !r.web)).toBe(true);
  });
});

describe('BroadcastPostSchema', () => {
  const ok = { subject: 'Maintenance tonight', body: 'The hub is down from 22:00.' };
  it('takes a minimal broadcast and fills the defaults', () => {
    expect(BroadcastPostSchema.parse(ok)).toEqual({ ...ok, contentType: 'text/plain', users: [], groups: [], roles: [], customersInGroups: false, web: false });
  });
  it.each([
    ['an unknown field', { ...ok, surprise: 1 }],
    ['an empty subject', { ...ok, subject: '' }],
    ['a blank body', { ...ok, body: ' \u200b ' }],
    ['a subject over 1,000 characters', { ...ok, subject: 'x'.repeat(1001) }],
    ['a body over 100,000 characters', { ...ok, body: 'x'.repeat(100_001) }],
    ['more than 10,000 users', { ...ok, users: Array.from({ length: 10_001 }, (_, i) => `u${i}`) }],
    ['a bad permission', { ...ok, groups: [{ id: 'ops', permission: 'admin' }] }],
    ['a from that is no mailbox', { ...ok, from: 'IT team' }],
    ['a from with a line break', { ...ok, from: 'IT <it@example.com>\r\nBcc: x@example.com' }],
    ['another content type', { ...ok, contentType: 'text/markdown' }],
  ])('refuses %s', (_name, body) => {
    expect(BroadcastPostSchema.safeParse(body).success).toBe(false);
  });
  it('reads the mailboxes a From header takes', () => {
    expect(parseMailbox('it@example.com')).toEqual({ name: null, address: 'it@example.com' });
    expect(parseMailbox('IT Team <it@example.com>')).toEqual({ name: 'IT Team', address: 'it@example.com' });
    expect(parseMailbox('"Ops, \\"night\\" shift" <ops@example.com>')).toEqual({ name: 'Ops, "night" shift', address: 'ops@example.com' });
    expect(parseMailbox('<it@example.com>')).toEqual({ name: null, address: 'it@example.com' });
    expect(parseMailbox('a <b@example.com> <c@example.com>')).toBeNull();
  });
});
