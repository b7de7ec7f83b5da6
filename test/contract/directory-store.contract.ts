import { describe, expect, it } from 'vitest';
import type { DirectoryStore, MessageStore } from '../../server/core/ports/index.js';
import { conversation, item, participant, project } from '../support/records.js';
import { type StoreFactory, withStore, writers } from './factory.js';

export type DirectoryStoreUnderTest = DirectoryStore & Pick<MessageStore, 'appendMessage'>;

/** The DirectoryStore contract (server/core/ports/directory-store.ts). */
export function describeDirectoryStore(name: string, factory: StoreFactory<DirectoryStoreUnderTest>): void {
  const run = (fn: Parameters<typeof withStore<DirectoryStoreUnderTest>>[1]) => () => withStore(factory, fn);

  describe(`DirectoryStore contract: ${name}`, () => {
    it(
      'insertParticipantIfAbsent keeps the first, also when inserts race',
      run(async (s) => {
        const first = participant('u1', 'user', { name: 'First', enabledAt: null });
        expect(await s.store.insertParticipantIfAbsent(first)).toEqual(first);
        expect(await s.store.insertParticipantIfAbsent({ ...first, name: 'Second' })).toEqual(first);
        const ws = writers(s);
        const racing = await Promise.all(
          Array.from({ length: 10 }, (_, i) => ws[i % ws.length]!.insertParticipantIfAbsent(participant('u2', 'customer', { name: `N${i}`, enabledAt: null }))),
        );
        expect(new Set(racing.map((p) => p.name)).size).toBe(1);
        const dir = await s.store.loadDirectory();
        expect(dir.participants.map((p) => [p.id, p.name]).sort()).toEqual([['u1', 'First'], ['u2', racing[0]!.name]]);
      }),
    );

    it(
      'putParticipant and putPreferences replace; loadDirectory returns them',
      run(async (s) => {
        const p = participant('u1', 'user', {
          enabledAt: null,
          groups: ['rw-group', { id: 'ro-group', permission: 'ro' }],
          phone: '+4930123456',
          queues: ['Raw'],
          services: ['Printing'],
          pgpPublicKey: 'pgp',
          smimeCertificate: 'pem',
        });
        await s.store.putParticipant(p);
        await s.store.putParticipant({ ...p, name: 'Renamed', disabled: true });
        const prefs = structuredClone(p.preferences);
        (prefs.email as { optOut: boolean }).optOut = true;
        await s.store.putPreferences('u1', prefs);
        const [stored] = (await s.store.loadDirectory()).participants;
        expect(stored).toEqual({ ...p, name: 'Renamed', disabled: true, preferences: prefs });
      }),
    );

    it(
      'stores projects, items and conversations with their whole relation sets',
      run(async (s) => {
        await s.store.putProject(project(['a', 'b']));
        await s.store.putProject({ ...project(['c']), name: 'Renamed' });
        await s.store.putItem(item({ followerIds: ['a', 'b'] }));
        await s.store.putItem(item({ followerIds: ['b'], title: 'New title', lock: 'lock', service: 'Printing', type: 'Incident', createdBy: 'a', customerCompany: 'ACME', fields: { Product: ['A', 'B'], Tier: 'gold' } }));
        await s.store.createConversation(conversation({ id: 'C1', memberIds: ['a', 'b'] }));
        await expect(s.store.createConversation(conversation({ id: 'C1' }))).rejects.toThrow();
        await s.store.appendMessage({ conversationId: 'C1', senderId: 'z', senderKind: 'user', body: 'x', format: 'text', clientMsgId: 'm', source: 'ws', createdAt: 5_000 }, 4_000);
        const dir = await s.store.loadDirectory();
        expect(dir.projects).toEqual([{ ...project(['c']), name: 'Renamed' }]);
        expect(dir.items).toEqual([
          item({ followerIds: ['b'], title: 'New title', lock: 'lock', service: 'Printing', type: 'Incident', createdBy: 'a', customerCompany: 'ACME', fields: { Product: ['A', 'B'], Tier: 'gold' } }),
        ]);
        await s.store.putQueue('Raw', 'g1');
        await s.store.putQueue('Raw', 'g2');
        expect((await s.store.loadDirectory()).queues).toEqual([{ name: 'Raw', groupId: 'g2' }]);
        expect(dir.conversations).toHaveLength(1);
        const c = dir.conversations[0]!;
        expect([...c.members].sort()).toEqual([['a', 10], ['b', 10], ['z', 4_000]]);
        expect([c.lastSeq, c.lastMessageAt]).toEqual([1, 5_000]);
      }),
    );
  });
}
