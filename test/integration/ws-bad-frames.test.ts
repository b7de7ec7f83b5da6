import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestHub } from '../support/hub.js';
import { direct, expectError, expectNoViolations, expectType } from '../support/ws.js';

const MAX_FRAME_BYTES = 4096;

/** SPEC §3 Bad frames and the frame size limit. */
describe('bad frames', () => {
  let hub: TestHub;
  let convId: string;
  beforeAll(async () => {
    hub = await TestHub.start({ env: { PARLEY_MAX_FRAME_BYTES: String(MAX_FRAME_BYTES) } });
    await hub.user('alice');
    await hub.user('bob');
    convId = (await direct(hub, 'alice', ['bob'])).id;
  });
  afterAll(() => hub.stop());

  /** Send one bad frame on a fresh session; expect bad_frame (with `re` or without) and the session still open. */
  async function expectBadFrame(frame: string | Buffer, re: string | null) {
    const alice = await hub.connect('alice');
    alice.ws.send(frame);
    expectError(await alice.next('error'), 'bad_frame', re);
    await alice.sync();
    expect(alice.closed).toBeNull();
    expectNoViolations(alice);
  }

  it('a binary frame is answered bad_frame', async () => {
    await expectBadFrame(Buffer.from(JSON.stringify({ t: 'ping', id: 'bin-1' })), null);
  });

  it('a frame that is not JSON is answered bad_frame without re', async () => {
    await expectBadFrame('{"t":"ping","id":"x1"', null);
  });

  it('a JSON value that is not an object is answered bad_frame', async () => {
    await expectBadFrame('["ping"]', null);
  });

  it('an unknown t is answered bad_frame with re', async () => {
    await expectBadFrame(JSON.stringify({ t: 'dance', id: 'unk-1' }), 'unk-1');
  });

  it('a frame without t is answered bad_frame with re', async () => {
    await expectBadFrame(JSON.stringify({ id: 'no-t-1' }), 'no-t-1');
  });

  it('a missing field is answered bad_frame with re', async () => {
    await expectBadFrame(JSON.stringify({ t: 'send', id: 'miss-1', conversationId: convId, body: 'no clientMsgId' }), 'miss-1');
  });

  it('an extra field is answered bad_frame with re', async () => {
    await expectBadFrame(JSON.stringify({ t: 'ping', id: 'extra-1', color: 'blue' }), 'extra-1');
  });

  it('a wrongly typed field is answered bad_frame with re', async () => {
    await expectBadFrame(JSON.stringify({ t: 'history', id: 'type-1', conversationId: convId, limit: '10' }), 'type-1');
  });

  it('a value outside an enum is answered bad_frame', async () => {
    await expectBadFrame(JSON.stringify({ t: 'presence', state: 'asleep' }), null);
  });

  it('a bad frame whose id is not a string is answered bad_frame without re', async () => {
    await expectBadFrame(JSON.stringify({ t: 'ping', id: 42 }), null);
  });

  it('a request without its id is answered bad_frame without re', async () => {
    await expectBadFrame(JSON.stringify({ t: 'ping' }), null);
  });

  it('ten bad frames in a minute are answered and tolerated; the eleventh closes the connection with 4400', async () => {
    const alice = await hub.connect('alice');
    for (let i = 1; i <= 10; i++) alice.send({ t: 'nonsense', id: `bad-${i}` });
    for (let i = 1; i <= 10; i++) expectError(await alice.next((f) => f.t === 'error' && f.re === `bad-${i}`), 'bad_frame', `bad-${i}`);
    await alice.sync();
    expect(alice.closed).toBeNull();
    alice.send('not json');
    expect((await alice.waitClose()).code).toBe(4400);
    expectNoViolations(alice);
  });

  it('invalid frames are not counted: twelve whitespace bodies are each answered invalid and the connection stays open', async () => {
    const alice = await hub.connect('alice');
    for (let i = 1; i <= 12; i++) alice.send({ t: 'send', id: `inv-${i}`, conversationId: convId, clientMsgId: `inv-${i}`, body: '   ' });
    for (let i = 1; i <= 12; i++) expectError(await alice.next((f) => f.t === 'error' && f.re === `inv-${i}`), 'invalid', `inv-${i}`);
    await alice.sync();
    expect(alice.closed).toBeNull();
    // Only real bad frames count: ten more are still tolerated.
    for (let i = 1; i <= 10; i++) alice.send({ t: 'nonsense', id: `bad-${i}` });
    for (let i = 1; i <= 10; i++) await alice.next((f) => f.t === 'error' && f.re === `bad-${i}`);
    await alice.sync();
    expect(alice.closed).toBeNull();
    expectNoViolations(alice);
  });

  it('the welcome announces the configured PARLEY_MAX_FRAME_BYTES', async () => {
    const client = await hub.raw();
    client.send({ t: 'hello', v: 1, token: await hub.token('alice') });
    expect((await client.next('welcome')).limits).toEqual({ maxBodyChars: 16000, maxFrameBytes: MAX_FRAME_BYTES });
  });

  it('a frame larger than PARLEY_MAX_FRAME_BYTES closes the connection with 1009', async () => {
    const alice = await hub.connect('alice');
    alice.send({ t: 'send', id: 'big-1', conversationId: convId, clientMsgId: 'big-1', body: 'x'.repeat(MAX_FRAME_BYTES + 100) });
    expect((await alice.waitClose()).code).toBe(1009);
    expect(alice.queued('ack')).toEqual([]);
    expect((await hub.ok('GET', `/v1/conversations/${convId}/messages`)).messages.filter((m: { clientMsgId: string }) => m.clientMsgId === 'big-1')).toEqual([]);
  });

  it('a frame just under PARLEY_MAX_FRAME_BYTES is accepted', async () => {
    const alice = await hub.connect('alice');
    const frame = { t: 'send', id: 'near-1', conversationId: convId, clientMsgId: 'near-1', body: '' };
    frame.body = 'y'.repeat(MAX_FRAME_BYTES - Buffer.byteLength(JSON.stringify(frame)) - 1);
    expect(Buffer.byteLength(JSON.stringify(frame))).toBe(MAX_FRAME_BYTES - 1);
    const r = await alice.request(frame, 'ack');
    expect(expectType(r, 'ack').re).toBe('near-1');
    expect(alice.closed).toBeNull();
    expectNoViolations(alice);
  });
});

/** Rate limits (server/README: per connection token buckets, PARLEY_RATE_*). */
describe('rate limits', () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await TestHub.start({
      env: { PARLEY_RATE_SEND_PER_S: '1', PARLEY_RATE_SEND_BURST: '2', PARLEY_RATE_TYPING_PER_S: '1', PARLEY_RATE_TYPING_BURST: '1' },
    });
    await hub.user('alice');
    await hub.user('bob');
  });
  afterAll(() => hub.stop());

  it('with 1 send per second and a burst of 2, the third quick send is answered rate_limited with re and not stored', async () => {
    const conv = await direct(hub, 'alice', ['bob']);
    const alice = await hub.connect('alice');
    alice.send({ t: 'send', id: 'rl-1', conversationId: conv.id, clientMsgId: 'rl-1', body: 'one' });
    alice.send({ t: 'send', id: 'rl-2', conversationId: conv.id, clientMsgId: 'rl-2', body: 'two' });
    alice.send({ t: 'send', id: 'rl-3', conversationId: conv.id, clientMsgId: 'rl-3', body: 'three' });
    expect(await alice.next((f) => 're' in f && f.re === 'rl-1')).toMatchObject({ t: 'ack', seq: 1 });
    expect(await alice.next((f) => 're' in f && f.re === 'rl-2')).toMatchObject({ t: 'ack', seq: 2 });
    expectError(await alice.next((f) => 're' in f && f.re === 'rl-3'), 'rate_limited', 'rl-3');
    const stored = await hub.ok('GET', `/v1/conversations/${conv.id}/messages`);
    expect(stored.messages.map((m: { body: string }) => m.body)).toEqual(['one', 'two']);
    // A rate-limited send is not a bad frame and does not end the session.
    await alice.sync();
    expect(alice.closed).toBeNull();
    expectNoViolations(alice);
  });

  it('with 1 typing per second and a burst of 1, the second quick typing is answered rate_limited without re and not relayed', async () => {
    const conv = await direct(hub, 'alice', ['bob']);
    const alice = await hub.connect('alice');
    const bob = await hub.connect('bob');
    alice.send({ t: 'typing', conversationId: conv.id });
    alice.send({ t: 'typing', conversationId: conv.id });
    expectError(await alice.next('error'), 'rate_limited', null);
    expect(await bob.next('typing')).toEqual({ t: 'typing', conversationId: conv.id, participantId: 'alice' });
    await bob.sync();
    expect(bob.queued('typing')).toEqual([]);
    expectNoViolations(alice, bob);
  });
});
