import { describe, expect, it } from 'vitest';
import { sameItem } from '../../../server/core/host-directory.js';
import type { ItemRecord } from '../../../server/core/model.js';

const base = (): ItemRecord => ({
  id: 'i1',
  kind: 'ticket',
  title: 'Printer',
  projectId: 'p1',
  number: '42',
  status: 'open',
  priority: '3 normal',
  queue: 'Q1',
  customerId: 'c1',
  ownerId: 'u1',
  responsibleId: null,
  followers: new Map([
    ['u2', 10],
    ['u3', 20],
  ]),
  lock: null,
  service: null,
  type: null,
  createdBy: null,
  customerCompany: null,
  fields: { Product: 'X', Tags: ['a', 'b'] },
  createdAt: 1,
  roleSince: { customer: 1, owner: 2, responsible: null },
});

describe('sameItem: an event snapshot that repeats the stored item writes and tells nothing', () => {
  it('is the same for an equal copy, and for the same followers in another order', () => {
    expect(sameItem(base(), base())).toBe(true);
    const b = base();
    b.followers = new Map([
      ['u3', 20],
      ['u2', 10],
    ]);
    expect(sameItem(base(), b)).toBe(true);
  });

  it.each<[string, (i: ItemRecord) => void]>([
    ['the title', (i) => (i.title = 'Printer!')],
    ['the queue', (i) => (i.queue = 'Q2')],
    ['the owner', (i) => (i.ownerId = 'u9')],
    ['a null becoming a value', (i) => (i.responsibleId = 'u4')],
    ['a value becoming null', (i) => (i.projectId = null)],
    ['a dynamic field', (i) => (i.fields = { Product: 'Y', Tags: ['a', 'b'] })],
    ['a dynamic field list', (i) => (i.fields = { Product: 'X', Tags: ['a'] })],
    ['a follower more', (i) => i.followers.set('u5', 30)],
    ['a follower less', (i) => i.followers.delete('u2')],
    ['a follower since another time', (i) => i.followers.set('u2', 11)],
    ['a follower replaced', (i) => (i.followers = new Map([['u2', 10], ['u4', 20]]))],
    ['when a role was taken', (i) => (i.roleSince = { customer: 1, owner: 3, responsible: null })],
  ])('differs in %s', (_what, change) => {
    const b = base();
    change(b);
    expect(sameItem(base(), b)).toBe(false);
    expect(sameItem(b, base())).toBe(false);
  });
});
