import { describe, expect, it } from 'vitest';
import { Directory } from '../../../server/core/directory.js';
import { participant } from '../../support/records.js';

describe('Directory.usersInQueue', () => {
  it('lists the users of a queue in users() order, each once, and follows every participant change', () => {
    const dir = new Directory();
    dir.setParticipant(participant('ada', 'user', { queues: ['Raw', 'Sales'] }));
    dir.setParticipant(participant('bob', 'user', { queues: ['Raw', 'Raw'] }));
    dir.setParticipant(participant('cy', 'customer', { queues: ['Raw'] }));
    dir.setParticipant(participant('dee', 'user'));
    expect(dir.usersInQueue('Raw').map((p) => p.id)).toEqual(['ada', 'bob']);
    expect(dir.usersInQueue('Sales').map((p) => p.id)).toEqual(['ada']);
    expect(dir.usersInQueue('None')).toEqual([]);

    dir.setParticipant(participant('ada', 'user', { queues: ['Sales'] }));
    dir.setParticipant(participant('dee', 'user', { queues: ['Raw'] }));
    expect(dir.usersInQueue('Raw').map((p) => p.id)).toEqual(['bob', 'dee']);
    dir.deleteParticipant('bob');
    expect(dir.usersInQueue('Raw').map((p) => p.id)).toEqual(['dee']);
    expect(dir.usersInQueue('Raw').map((p) => p.id)).toEqual(dir.users().filter((u) => u.queues.includes('Raw')).map((p) => p.id));
  });
});
