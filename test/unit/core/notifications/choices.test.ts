import { describe, expect, it } from 'vitest';
import { MAX_CHOICE_ENTITIES, type NotificationDefinition } from '../../../../protocol/index.js';
import { Directory } from '../../../../server/core/directory.js';
import { InProcessEvents } from '../../../../server/core/events.js';
import { DefinitionChoices } from '../../../../server/core/notifications/choices.js';
import type { AppointmentRecord } from '../../../../server/core/notifications/types.js';
import type { Logger } from '../../../../server/core/ports/index.js';
import { item, participant } from '../../../support/records.js';

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };
const NOW = 1_000_000_000;

function appointment(id: string, startAt: number, endAt: number): AppointmentRecord {
  return { id, calendarId: 'cal', title: `Meeting ${id}`, description: null, location: null, startAt, endAt, allDay: false, recurring: false, resourceIds: [], reminderAt: null };
}

function setup(appointments: AppointmentRecord[] = [], definitions: NotificationDefinition[] = []) {
  const directory = new Directory();
  const events = new InProcessEvents(quiet);
  const choices = new DefinitionChoices({ directory, definitions: { all: () => definitions }, appointments: { all: () => appointments }, events, clock: { now: () => NOW }, defaultLocale: 'en' });
  /** The host writes an item: the directory holds it, and ItemChanged says so (as HostDirectory.putItem does). */
  const write = (id: string, createdAt: number) => {
    const previous = directory.items.get(id) ?? null;
    const next = item({ id, title: `Title ${id}`, createdAt });
    directory.setItem(next);
    events.publish('ItemChanged', { item: next, previous });
  };
  return { directory, choices, write };
}

describe('DefinitionChoices', () => {
  it('lists the items changed most recently first, then the newest created, at most 200', () => {
    const { directory, choices, write } = setup();
    // 300 items the hub loaded at start (no change seen), created at 0…299.
    for (let n = 0; n < 300; n++) directory.setItem(item({ id: `old${n}`, title: `Old ${n}`, createdAt: n }));
    write('old5', 5);
    write('old7', 7);
    write('old5', 5);
    const ids = choices.list().items.map((i) => i.id);
    expect(ids).toHaveLength(MAX_CHOICE_ENTITIES);
    expect(ids.slice(0, 4)).toEqual(['old5', 'old7', 'old299', 'old298']);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('remembers at most 200 changed items, the last ones', () => {
    const { choices, write } = setup();
    for (let n = 0; n < 250; n++) write(`i${n}`, 0);
    const ids = choices.list().items.map((i) => i.id);
    expect(ids).toHaveLength(MAX_CHOICE_ENTITIES);
    expect(ids[0]).toBe('i249');
    expect(ids[MAX_CHOICE_ENTITIES - 1]).toBe('i50');
  });

  it('lists appointments not yet ended, soonest first', () => {
    const { choices } = setup([appointment('later', NOW + 2000, NOW + 3000), appointment('past', NOW - 2000, NOW - 1000), appointment('now', NOW - 500, NOW + 500), appointment('soon', NOW + 1000, NOW + 1500)]);
    expect(choices.list().appointments.map((a) => a.id)).toEqual(['now', 'soon', 'later']);
  });

  it('names people by id and name only: users as agents, never an address or phone', () => {
    const { directory, choices } = setup();
    directory.setParticipant(participant('u1', 'user', { name: 'Una', phone: '+491701234567', groups: [{ id: 'g-ro', permission: 'ro' }, 'g-rw'], roles: ['r1'], locale: 'pl' }));
    directory.setParticipant(participant('c1', 'customer', { name: 'Cleo', phone: '+491709876543', groups: ['g-cust'], roles: ['ignored-for-customers'] }));
    directory.setParticipant(participant('b1', 'bot', { name: 'Bot', groups: ['g-bot'] }));
    directory.queues.set('Raw', 'g-queue');
    const c = choices.list();
    expect(c.agents).toEqual([{ id: 'u1', name: 'Una' }]);
    expect(c.groups.map((g) => g.id)).toEqual(['g-cust', 'g-queue', 'g-ro', 'g-rw']);
    expect(c.roles).toEqual([{ id: 'r1', name: 'r1' }]);
    expect(c.languages).toEqual(['en', 'pl']);
    const text = JSON.stringify(c);
    expect(text).not.toMatch(/@|4917/);
  });
});
