import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestHub } from '../support/hub.js';
import { DEFAULT_ENV, connectWith, hello, jitToken } from '../support/abuse.js';
import { expectError, expectType, open } from '../support/ws.js';

/** Finding 8: text must be well-formed and not blank (SPEC §3 Text). */
describe('finding 8: text', () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await TestHub.start({ env: { ...DEFAULT_ENV } });
  });
  afterAll(async () => {
    await hub?.stop();
  });

  it('a body with a lone surrogate is invalid', async () => {
    const customer = await connectWith(hub, await jitToken('tx-surrogate', 'customer'));
    const inbox = await open(customer, []);
    // The raw JSON text: JSON.stringify would escape the surrogate the same way, but say it plainly.
    for (const [id, body] of [
      ['ls1', String.raw`a\ud800b`],
      ['ls2', String.raw`\udc00`],
      ['ls3', String.raw`ok \ud83d`],
    ] as const) {
      customer.send(`{"t":"send","id":"${id}","conversationId":"${inbox.id}","clientMsgId":"${id}","body":"${body}"}`);
      expectError(await customer.next((f) => 're' in f && f.re === id), 'invalid', id);
    }
    // A well-formed pair is fine.
    customer.send(`{"t":"send","id":"ok1","conversationId":"${inbox.id}","clientMsgId":"ok1","body":"${String.raw`\ud83d\ude00`}"}`);
    expectType(await customer.next((f) => 're' in f && f.re === 'ok1'), 'ack');
    const history = expectType(await customer.request({ t: 'history', conversationId: inbox.id }, 'history'), 'history');
    expect(history.messages.map((m) => m.body)).toEqual(['😀']);
  });

  it('bodies of only U+200B, U+3164 or U+2800 (with or without spaces) are invalid', async () => {
    const customer = await connectWith(hub, await jitToken('tx-blank', 'customer'));
    const inbox = await open(customer, []);
    const blanks = ['\u200b', '\u3164', '\u2800', '\u200b\u200b\u200b', ' \u3164 \n', '\u2800\u00a0\u2800', '\u2060\ufeff\u115f\u1160\uffa0'];
    for (const [i, body] of blanks.entries()) {
      const r = await customer.request({ t: 'send', conversationId: inbox.id, clientMsgId: `b${i}`, body }, 'ack');
      expectError(r, 'invalid');
    }
    const ok = await customer.request({ t: 'send', conversationId: inbox.id, clientMsgId: 'visible', body: '\u3164hi\u200b' }, 'ack');
    expectType(ok, 'ack');
    const history = expectType(await customer.request({ t: 'history', conversationId: inbox.id }, 'history'), 'history');
    expect(history.messages.map((m) => m.body)).toEqual(['\u3164hi\u200b']);
  });

  it('whitespace-only and blank look-alike names over HTTP PUT are 400; a lone surrogate too', async () => {
    for (const [i, name] of ['   ', '\t\n', '\u3164', '\u200b\u2800', '\u00a0\u115f'].entries()) {
      const r = await hub.api('PUT', `/v1/participants/tx-name-${i}`, { kind: 'user', name });
      expect(r.status, JSON.stringify(name)).toBe(400);
      expect(r.body.error.code).toBe('invalid');
      expect((await hub.api('GET', `/v1/participants/tx-name-${i}`)).status).toBe(404);
    }
    const raw = await hub.api('PUT', '/v1/participants/tx-name-s', `{"kind":"user","name":"${String.raw`Eve\ud800`}"}`);
    expect(raw.status).toBe(400);
    expect(raw.body.error.code).toBe('invalid');
  });

  it('a just-in-time token with a blank name creates nobody', async () => {
    const { client, first } = await hello(hub, await jitToken('tx-jit-blank', 'customer', { name: '\u3164' }));
    expectError(first, 'unauthenticated');
    expect((await client.waitClose()).code).toBe(4001);
    expect((await hub.api('GET', '/v1/participants/tx-jit-blank')).status).toBe(404);
  });
});
