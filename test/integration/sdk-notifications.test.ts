import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Notification } from '../../client-sdk/node.js';
import { TestHub } from '../support/hub.js';
import { SdkHarness } from '../support/sdk.js';
import { until } from '../support/until.js';

/** The client SDK's web notifications (SPEC §3 `notification`, `notifications`, `notification_seen`) against the real hub. */
describe('client SDK: web notifications', () => {
  let hub: TestHub;
  let n = 0;
  const harnesses: SdkHarness[] = [];
  const connect = async (sub: string) => {
    const h = await SdkHarness.connect(hub, sub);
    harnesses.push(h);
    return h;
  };
  /** An event of the test's definition about one ticket of carla's; `actorId` bob, so alice and dave are told. */
  const event = async (title: string) => {
    const id = `sdk-ev-${++n}`;
    const answer = await hub.ok<{ deliveries: number }>('POST', '/v1/events', {
      id,
      type: 'SdkTicketUpdate',
      actorId: 'bob',
      itemId: `T-${n}`,
      item: { kind: 'ticket', title, number: String(1000 + n), customerId: 'carla' },
      article: { senderKind: 'customer', channel: 'email', visibleForCustomer: true, body: `About ${title}` },
    });
    expect(answer.deliveries).toBeGreaterThan(0);
    return id;
  };
  const unseenOf = async (h: SdkHarness) => (await h.client.notifications({ limit: 1 })).unseen;

  beforeAll(async () => {
    hub = await TestHub.start();
    await hub.user('alice', { name: 'Alice Agent' });
    await hub.user('bob', { name: 'Bob Agent' });
    await hub.user('dave', { name: 'Dave Agent' });
    await hub.customer('carla', { name: 'Carla Customer' });
    await hub.ok('POST', '/v1/notification-definitions', {
      name: 'Ticket updated (SDK test)',
      events: ['SdkTicketUpdate'],
      // The customer is a recipient too: customers get email only, never a web notification.
      recipients: { relations: ['Customer'], agents: ['alice', 'bob', 'dave'] },
      transports: { web: { enabled: true }, email: { enabled: true } },
      messages: { en: { subject: 'Ticket <OTOBO_TICKET_TicketNumber>: <OTOBO_TICKET_Title>', body: 'Hi <OTOBO_NOTIFICATION_RECIPIENT_UserFirstname>,\n<OTOBO_CUSTOMER_BODY>' } },
    });
  });
  afterEach(() => {
    for (const h of harnesses.splice(0)) h.close();
  });
  afterAll(() => hub.stop());

  it('an event posted through the API reaches the SDK live as a typed notification event', async () => {
    const alice = await connect('alice');
    const pushed = alice.next('notification', (x) => x.subject.includes('Live one'));
    const eventId = await event('Live one');
    const [notification]: [Notification] = await pushed;
    expect(notification).toMatchObject({ eventId, subject: `Ticket ${1000 + n}: Live one`, itemId: `T-${n}`, broadcastId: null, appointmentId: null, seenAt: null });
    expect(notification.body).toBe('Hi Alice,\nAbout Live one');
    expect(notification.definitionId).toEqual(expect.any(String));
  });

  it('lists notifications newest first in pages, with the unseen count and hasMore', async () => {
    const alice = await connect('alice');
    for (const title of ['Page A', 'Page B', 'Page C']) await event(title);
    const first = await alice.client.notifications({ limit: 2 });
    expect(first.notifications.map((x) => x.subject.split(': ')[1])).toEqual(['Page C', 'Page B']);
    expect(first.hasMore).toBe(true);
    // Every unseen notification of alice's, not just this page's (the live one of the first test too).
    expect(first.unseen).toBe(4);
    const second = await alice.client.notifications({ before: first.notifications[1]!.id, limit: 2 });
    expect(second.notifications.map((x) => x.subject.split(': ')[1])).toEqual(['Page A', 'Live one']);
    expect(second.unseen).toBe(4);
    const rest = await alice.client.notifications({ before: second.notifications[1]!.id });
    expect(rest).toEqual({ notifications: [], unseen: 4, hasMore: false });
  });

  it('markNotificationsSeen lowers the unseen count and sets seenAt; ids sent while offline go after the reconnect', async () => {
    const alice = await connect('alice');
    const { notifications, unseen } = await alice.client.notifications({ limit: 200 });
    expect(unseen).toBeGreaterThanOrEqual(2);
    const [newest, next] = notifications;
    alice.client.markNotificationsSeen([newest!.id]);
    await until(async () => (await unseenOf(alice)) === unseen - 1, 'one seen');
    const after = await alice.client.notifications({ limit: 200 });
    expect(after.notifications.find((x) => x.id === newest!.id)?.seenAt).toEqual(expect.any(Number));
    expect(after.notifications.find((x) => x.id === next!.id)?.seenAt).toBeNull();

    // Offline: the ids wait, and are sent once the client is back.
    alice.block();
    const down = alice.next('state', (s) => s === 'reconnecting');
    alice.cut();
    await down;
    alice.client.markNotificationsSeen(notifications.map((x) => x.id));
    alice.unblock();
    await alice.next('welcome');
    await until(async () => (await unseenOf(alice)) === 0, 'all seen after the reconnect');
    // Dave's are his own: alice marking hers changed nothing of his (bob, the actor, got none).
    const dave = await connect('dave');
    expect(await unseenOf(dave)).toBe(4);
  });

  it('a customer’s SDK never gets a web notification, live or listed', async () => {
    const carla = await connect('carla');
    const alice = await connect('alice');
    const got: Notification[] = [];
    carla.client.on('notification', (x) => got.push(x));
    const alicePushed = alice.next('notification', (x) => x.subject.includes('Customer test'));
    const eventId = await event('Customer test');
    await alicePushed;
    // The audit names carla as a recipient (by email), so she was considered and left without a web one.
    const audit = await hub.ok<{ deliveries: Array<{ participantId: string | null; transport: string }> }>('GET', `/v1/events/${eventId}`);
    expect(audit.deliveries.some((d) => d.participantId === 'carla' && d.transport === 'email')).toBe(true);
    expect(audit.deliveries.some((d) => d.participantId === 'carla' && d.transport === 'web')).toBe(false);
    // A round trip on carla's own connection after alice's push: anything pushed to carla came before it.
    await carla.client.ping();
    expect(got).toEqual([]);
    expect(await carla.client.notifications()).toEqual({ notifications: [], unseen: 0, hasMore: false });
  });
});
