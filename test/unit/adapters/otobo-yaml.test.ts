import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DefinitionInputSchema, ProtocolError } from '../../../protocol/index.js';
import { MAX_NOTIFICATION_YAML_BYTES, parseNotificationYaml, stringifyNotificationYaml } from '../../../server/adapters/yaml/otobo-yaml.js';
import { fromOtoboEntries, toOtoboEntry, type ImportedDefinition } from '../../../server/core/notifications/otobo.js';
import { Random, randomDefinition } from '../../fixtures/otobo/random-definitions.js';
import { ROOT } from '../../support/hub.js';

const fixture = (name: string): string => readFileSync(join(ROOT, 'test/fixtures/otobo', name), 'utf8');
const importFile = (name: string) => fromOtoboEntries(parseNotificationYaml(fixture(name)));

function rejects(text: string, code: 'invalid' | 'too_large', message: RegExp, maxBytes?: number): void {
  let caught: unknown;
  try {
    parseNotificationYaml(text, maxBytes);
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(ProtocolError);
  expect((caught as ProtocolError).code).toBe(code);
  expect((caught as ProtocolError).message).toMatch(message);
}

/** The format cannot say "present but empty" for these two: both read as absent. */
function normalise(d: ImportedDefinition): ImportedDefinition {
  const out = structuredClone(d);
  if (out.otobo && !Object.keys(out.otobo.data).length && !Object.keys(out.otobo.entry).length) delete out.otobo;
  if (out.filter.fields && !Object.keys(out.filter.fields).length) delete out.filter.fields;
  return out;
}

describe('parseNotificationYaml', () => {
  it('reads an OTOBO export into its list of entries, dates and ids as text', () => {
    const entries = parseNotificationYaml(fixture('ticket-notifications.yml'));
    expect(entries).toHaveLength(2);
    expect(entries[0]).toMatchObject({ ID: '14', ChangeTime: '2024-03-11 09:12:44', ValidID: '1', Data: { VisibleForAgent: ['2'], SendOnOutOfOffice: [] } });
  });

  it.each([
    ['a mapping', 'bad-not-a-list.yml', /must be a YAML list/],
    ['an alias', 'bad-alias.yml', /alias|anchor/],
    ['a !!js/function tag', 'bad-tag.yml', /tag/i],
  ])('rejects a file with %s as invalid', (_label, file, message) => {
    rejects(fixture(file), 'invalid', message);
  });

  it.each([
    ['an empty file', '', /must be a YAML list/],
    ['a scalar', 'just text\n', /must be a YAML list/],
    ['a syntax error', '- a: [1, 2\n', /not a valid notification export/],
    ['two documents', '- a\n---\n- b\n', /not a valid notification export/],
    ['an anchor without alias', '- &x {Name: a}\n', /anchor/],
    ['a local tag', '- !ruby/object {Name: a}\n', /tag/i],
    ['!!binary', '- !!binary aGk=\n', /tag/i],
    ['!!set', '- !!set {a}\n', /tag/i],
    ['a merge key', '- &a {x: 1}\n- <<: *a\n', /alias|anchor/],
    ['a duplicate key', '- {Name: a, Name: b}\n', /not a valid notification export/],
    ['a collection as a key', '- ? [a, b]\n  : c\n', /key/],
  ])('rejects %s as invalid', (_label, text, message) => {
    rejects(text, 'invalid', message);
  });

  it('accepts the core schema tags, which build nothing new', () => {
    expect(parseNotificationYaml('- !!str 1\n- !!map {a: !!int "2"}\n- !!seq [~]\n')).toEqual(['1', { a: 2 }, [null]]);
  });

  it('answers too_large over the byte limit (1 MiB by default), counting UTF-8 bytes', () => {
    expect(MAX_NOTIFICATION_YAML_BYTES).toBe(1024 * 1024);
    const big = `- "${'x'.repeat(MAX_NOTIFICATION_YAML_BYTES)}"\n`;
    rejects(big, 'too_large', /at most 1048576/);
    rejects('- "ää"\n', 'too_large', /at most 8/, 8);
    expect(parseNotificationYaml('- "ää"\n', 9)).toEqual(['ää']);
  });
});

describe('OTOBO fixtures → definitions', () => {
  it('imports the ticket notifications with every mapping and warns of what it keeps', () => {
    const r = importFile('ticket-notifications.yml');
    expect(r.errors).toEqual([]);
    const [note, widget] = r.definitions.map((d) => d.input);
    expect(note).toMatchObject({
      name: 'Ticket note added (owner, watchers)',
      valid: 'valid',
      type: 'ticket',
      events: ['ArticleCreate'],
      filter: { lock: ['unlock', 'tmp_lock'], fields: { PriorityID: ['4', '5'], QueueID: ['2'], StateID: ['1', '4'] } },
      articleFilter: { senderKind: ['user', 'customer'], channel: ['internal'], visibleForCustomer: false, subject: 'urgent' },
      recipients: { relations: ['AgentOwner', 'AgentWatcher', 'AgentResponsible'], groups: ['support'] },
      sendOnOutOfOffice: false,
      oncePerDay: true,
      transports: { email: { enabled: true, template: 'default' }, web: { enabled: true } },
      agentPreferences: { visible: 'mandatory', enabledByDefault: ['email', 'web'] },
    });
    expect(Object.keys(note!.messages)).toEqual(['de', 'en', 'pt_BR']);
    expect(note!.messages.en).toMatchObject({ subject: 'New note: &lt;OTOBO_TICKET_Title&gt;', contentType: 'text/html' });
    expect(note!.messages.en!.body).toContain('&lt;OTOBO_AGENT_BODY[5]&gt;');
    expect(note!.otobo).toEqual({ data: {}, entry: { ChangeBy: '1', ChangeTime: '2024-03-11 09:12:44', CreateBy: '1', CreateTime: '2023-11-02 16:40:03', ID: '14' } });

    expect(widget).toMatchObject({
      valid: 'invalid-temporarily',
      events: ['NotificationNewTicket', 'TicketQueueUpdate'],
      filter: { customerCompany: ['acme'], fields: { Product: ['Widget Pro', 'Widget Lite'], Region: ['EMEA'] } },
      recipients: { relations: ['AgentMyQueues', 'Customer'], agents: ['3', '7'], roles: ['on-call'] },
      transports: {
        email: { enabled: true, extraAddresses: ['escalations@example.com', 'lead@example.com'], visibleForCustomer: true, security: { mode: 'PGPSignCrypt', missingSigningKeys: 'skip', missingCryptingKeys: 'send_unencrypted' } },
        sms: { enabled: true },
      },
      agentPreferences: { visible: 'no' },
    });
    expect(widget!.otobo!.data).toEqual({ SLAID: ['2'], XSiteEscalationHint: ['gold customers first'] });
    expect(r.warnings).toEqual([
      ...['ChangeBy', 'ChangeTime', 'CreateBy', 'CreateTime', 'ID'].map((key) => ({ name: 'Ticket note added (owner, watchers)', key })),
      ...['ChangeBy', 'ChangeTime', 'CreateBy', 'CreateTime', 'ID', 'SLAID', 'XSiteEscalationHint'].map((key) => ({ name: 'New ticket for Widget products', key })),
    ]);
  });

  it('imports appointment notifications as appointments and keeps them', () => {
    const r = importFile('appointment-notifications.yml');
    expect(r.errors).toEqual([]);
    expect(r.definitions.map((d) => d.input)).toMatchObject([
      {
        name: 'Appointment reminder (on-site)',
        type: 'appointment',
        events: ['AppointmentNotification'],
        filter: { calendarId: ['2'], location: ['Berlin office'], resourceId: ['5'] },
        recipients: { relations: ['AppointmentAgentReadPermissions', 'AppointmentResource'] },
        agentPreferences: { visible: 'yes', enabledByDefault: ['email'] },
      },
      { name: 'Maintenance window changes', type: 'appointment', valid: 'invalid', comment: '', filter: { title: ['Maintenance window'] }, transports: { web: { enabled: true } } },
    ]);
  });

  it('imports the good entries of a file with bad ones and names each error', () => {
    const r = importFile('mixed-entries.yml');
    expect(r.definitions.map((d) => d.name)).toEqual(['Owner update', 'Responsible update']);
    expect(r.errors.map((e) => e.name)).toEqual(['Data value not a list', 'entry 3', 'Bad event name', 'Bad language', 'No message', 'entry 7']);
    for (const e of r.errors) expect(e.error).not.toBe('');
  });

  it.each(['ticket-notifications.yml', 'appointment-notifications.yml'])('exports %s again with nothing lost', (file) => {
    const entries = parseNotificationYaml(fixture(file));
    const again = parseNotificationYaml(stringifyNotificationYaml(fromOtoboEntries(entries).definitions.map((d) => toOtoboEntry(d.input))));
    // Every key and value OTOBO wrote comes back (LanguageID and NotificationType may be added, false flags dropped).
    for (const [i, raw] of entries.entries()) {
      const before = raw as Record<string, unknown> & { Data: Record<string, string[]> };
      const after = again[i] as Record<string, unknown> & { Data: Record<string, string[]> };
      const { Data, Comment, ...top } = before;
      expect(after).toMatchObject({ ...top, Comment: Comment ?? '' });
      for (const [key, values] of Object.entries(Data)) {
        if (key === 'ArticleAttachmentInclude' && values[0] === '0') continue;
        if (values.length === 0) continue;
        if (key.startsWith('Search_DynamicField_')) {
          expect(after.Data[key.slice('Search_'.length)], key).toEqual(values);
          continue;
        }
        if (key === 'RecipientEmail') continue; // written as one comma-separated value, as OTOBO's form does
        if (key === 'LanguageID') {
          expect([...after.Data[key]!].sort(), key).toEqual([...values].sort()); // in the messages' order
          continue;
        }
        expect(after.Data[key], key).toEqual(values);
      }
    }
  });
});

describe('stringifyNotificationYaml', () => {
  it('writes a YAML list that starts with --- and has no anchors', () => {
    const shared = ['x'];
    const text = stringifyNotificationYaml([{ Name: 'a', Data: { A: shared, B: shared } }]);
    expect(text.startsWith('---\n- ')).toBe(true);
    expect(text).not.toMatch(/[&*]\w/);
    expect(parseNotificationYaml(text)).toEqual([{ Name: 'a', Data: { A: ['x'], B: ['x'] } }]);
  });

  it('gives every random definition back equal through YAML text (stringify → parse → import)', () => {
    const inputs = Array.from({ length: 200 }, (_, i) => DefinitionInputSchema.parse({ ...randomDefinition(new Random(10_000 + i)), name: `definition ${i}` }));
    const text = stringifyNotificationYaml(inputs.map((d) => toOtoboEntry(d)));
    const r = fromOtoboEntries(parseNotificationYaml(text));
    expect(r.errors).toEqual([]);
    expect(r.definitions.map((d) => normalise(d.input))).toEqual(inputs.map(normalise));
  });

  it('keeps each random definition equal on its own, naming the seed that fails', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const input = DefinitionInputSchema.parse(randomDefinition(new Random(seed)));
      const r = fromOtoboEntries(parseNotificationYaml(stringifyNotificationYaml([toOtoboEntry(input)])));
      expect(r.errors, `seed ${seed}`).toEqual([]);
      expect(normalise(r.definitions[0]!.input), `seed ${seed}`).toEqual(normalise(input));
    }
  });
});
