import { describe, expect, it } from 'vitest';
import type { Connection } from '../../../server/core/ports/index.js';
import { Session } from '../../../server/core/session.js';

const conn: Connection = {
  send: () => true,
  sendAfterPublished: () => {},
  bufferedAmount: () => 0,
  subscribe: () => {},
  unsubscribe: () => {},
  close: () => {},
};

describe('Session topics', () => {
  it('shares a small set of topics equal to another session’s, and an empty one', () => {
    const a = new Session('a', conn);
    const b = new Session('b', conn);
    const empty = new Session('e', conn);
    a.setTopics(new Set(['all:item', 'all:inbox']));
    b.setTopics(new Set(['all:inbox', 'all:item']));
    empty.setTopics(new Set());
    expect(b.topics).toBe(a.topics);
    expect(empty.topics).toBe(new Session('f', conn).topics);
    expect(empty.topics.size).toBe(0);
  });

  it('adds a topic to its own copy of a shared set, and to a large set of its own in place', () => {
    const a = new Session('a', conn);
    const b = new Session('b', conn);
    a.setTopics(new Set(['all:item', 'all:inbox']));
    b.setTopics(new Set(['all:item', 'all:inbox']));
    b.addTopic('c:1');
    expect([...b.topics]).toEqual(['all:item', 'all:inbox', 'c:1']);
    expect([...a.topics]).toEqual(['all:item', 'all:inbox']);
    const own = b.topics;
    b.addTopic('c:2');
    expect(b.topics).toBe(own);
    expect(b.topics.has('c:2')).toBe(true);
    const none = new Session('n', conn);
    none.addTopic('c:3');
    expect([...none.topics]).toEqual(['c:3']);
    expect(new Session('m', conn).topics.size).toBe(0);
  });

  it('keeps a set larger than the shared ones as its own', () => {
    const a = new Session('a', conn);
    const b = new Session('b', conn);
    const big = ['c:1', 'c:2', 'c:3'];
    a.setTopics(new Set(big));
    b.setTopics(new Set(big));
    expect(b.topics).not.toBe(a.topics);
    b.addTopic('c:4');
    expect(a.topics.has('c:4')).toBe(false);
  });
});
