import { describe, expect, it } from 'vitest';
import { DefinitionInputSchema, ProtocolError, type DefinitionInput, type NotificationDefinition } from '../../../../protocol/index.js';
import { fromOtoboEntries, toOtoboEntry, type ImportedDefinition } from '../../../../server/core/notifications/otobo.js';
import { Random, randomDefinition } from '../../../fixtures/otobo/random-definitions.js';

const parse = (input: DefinitionInput): ImportedDefinition => DefinitionInputSchema.parse(input);
const base: DefinitionInput = { name: 'N', events: ['NotificationNewTicket'], messages: { en: { subject: 'S', body: 'B' } } };
const def = (over: Partial<DefinitionInput> = {}): ImportedDefinition => parse({ ...base, ...over });
const data = (over: Partial<DefinitionInput>): Record<string, string[]> => toOtoboEntry(def(over)).Data as Record<string, string[]>;

/** An entry as OTOBO exports it, with the Data keys given. */
const entry = (Data: Record<string, unknown>, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  Name: 'N',
  Comment: '',
  ValidID: '1',
  Data: { Events: ['NotificationNewTicket'], ...Data },
  Message: { en: { Subject: 'S', Body: 'B', ContentType: 'text/plain' } },
  ...extra,
});
const importOne = (e: unknown) => {
  const r = fromOtoboEntries([e]);
  expect(r.errors).toEqual([]);
  return { def: r.definitions[0]!.input, warnings: r.warnings.map((w) => w.key) };
};

/** The format cannot say "present but empty" for these two: both read as absent. */
function normalise(d: ImportedDefinition): ImportedDefinition {
  const out = structuredClone(d);
  if (out.otobo && !Object.keys(out.otobo.data).length && !Object.keys(out.otobo.entry).length) delete out.otobo;
  if (out.filter.fields && !Object.keys(out.filter.fields).length) delete out.filter.fields;
  return out;
}

describe('toOtoboEntry', () => {
  it('writes Name, Comment, ValidID, Data and Message as OTOBO does', () => {
    const e = toOtoboEntry(def({ comment: 'c', valid: 'invalid-temporarily', messages: { de: { subject: 'Hallo', body: 'Welt', contentType: 'text/html' } } }));
    expect(e).toEqual({
      Name: 'N',
      Comment: 'c',
      ValidID: '3',
      Data: { Events: ['NotificationNewTicket'], NotificationType: ['Ticket'], VisibleForAgent: ['0'], LanguageID: ['de'] },
      Message: { de: { Subject: 'Hallo', Body: 'Welt', ContentType: 'text/html' } },
    });
  });

  it.each<[string, Partial<DefinitionInput>, Record<string, string[]>]>([
    ['type appointment', { type: 'appointment' }, { NotificationType: ['Appointment'] }],
    ['relations', { recipients: { relations: ['AgentOwner', 'Customer'] } }, { Recipients: ['AgentOwner', 'Customer'] }],
    ['agents, groups, roles', { recipients: { agents: ['u1'], groups: ['g1'], roles: ['r1'] } }, { RecipientAgents: ['u1'], RecipientGroups: ['g1'], RecipientRoles: ['r1'] }],
    ['sendOnOutOfOffice', { sendOnOutOfOffice: true }, { SendOnOutOfOffice: ['1'] }],
    ['oncePerDay', { oncePerDay: true }, { OncePerDay: ['1'] }],
    ['enabled transports', { transports: { email: { enabled: true }, web: { enabled: true }, sms: { enabled: true } } }, { Transports: ['Email', 'Web', 'SMS'], TransportEmailTemplate: ['Default'] }],
    ['switched-off web and sms', { transports: { web: { enabled: false }, sms: { enabled: false } } }, { ParleyDisabledTransports: ['Web', 'SMS'] }],
    ['switched-off email keeps its settings', { transports: { email: { enabled: false, extraAddresses: ['a@example.com', 'b@example.com'] } } }, { RecipientEmail: ['a@example.com, b@example.com'], TransportEmailTemplate: ['Default'] }],
    ['email visible for customer', { transports: { email: { enabled: true, visibleForCustomer: false } } }, { IsVisibleForCustomer: ['0'] }],
    ['email security', { transports: { email: { enabled: true, security: { mode: 'SMIMESignCrypt', missingSigningKeys: 'send_unsigned' } } } }, { EmailSecuritySettings: ['1'], EmailSigningCrypting: ['SMIMESignCrypt'], EmailMissingSigningKeys: ['Send'], EmailMissingCryptingKeys: ['Skip'] }],
    ['email only if unseen', { transports: { email: { enabled: true, onlyIfUnseenMs: 60_000 } } }, { ParleyEmailOnlyIfUnseenMs: ['60000'] }],
    ['message transport', { transports: { message: { enabled: false, botId: 'bot-1', visibility: 'internal' } } }, { ParleyMessageEnabled: ['0'], ParleyMessageBotID: ['bot-1'], ParleyMessageVisibility: ['internal'] }],
    ['visible for agent: mandatory', { agentPreferences: { visible: 'mandatory', tooltip: 'Tip', enabledByDefault: ['email', 'sms'] } }, { VisibleForAgent: ['2'], VisibleForAgentTooltip: ['Tip'], AgentEnabledByDefault: ['Email', 'SMS'] }],
    ['visible for agent: yes', { agentPreferences: { visible: 'yes' } }, { VisibleForAgent: ['1'] }],
    ['filters by name', { filter: { status: ['open'], priority: ['3 normal'], queue: ['Raw'], service: ['IT'], type: [] } }, { ParleyState: ['open'], ParleyPriority: ['3 normal'], ParleyQueue: ['Raw'], ParleyService: ['IT'], ParleyType: [] }],
    ['lock', { filter: { lock: ['unlock', 'lock', 'tmp_lock'] } }, { LockID: ['1', '2', '3'] }],
    ['customer and company', { filter: { customerId: ['c-9'], customerCompany: ['acme'] } }, { CustomerUserID: ['c-9'], CustomerID: ['acme'] }],
    ['id fields and dynamic fields', { filter: { fields: { StateID: ['1'], QueueID: ['2'], PriorityID: ['3'], ServiceID: ['4'], TypeID: ['5'], Product: ['W'] } } }, { StateID: ['1'], QueueID: ['2'], PriorityID: ['3'], ServiceID: ['4'], TypeID: ['5'], DynamicField_Product: ['W'] }],
    ['appointment filters', { filter: { calendarId: ['2'], title: ['T'], location: ['L'], resourceId: ['5'] } }, { CalendarID: ['2'], Title: ['T'], Location: ['L'], ResourceID: ['5'] }],
    ['article sender and channel', { articleFilter: { senderKind: ['user', 'system', 'customer'], channel: ['email', 'phone', 'internal', 'chat'] } }, { ArticleSenderTypeID: ['1', '2', '3'], ArticleCommunicationChannelID: ['1', '2', '3', '4'] }],
    ['article visibility, attachment, subject, body', { articleFilter: { visibleForCustomer: true, hasAttachment: false, subject: 'sub', body: 'bod' } }, { ArticleIsVisibleForCustomer: ['1'], ParleyArticleHasAttachment: ['0'], MIMEBase_Subject: ['sub'], MIMEBase_Body: ['bod'] }],
  ])('maps %s', (_label, over, expected) => {
    expect(data(over)).toMatchObject(expected);
  });

  it("leaves Parley's id, builtIn and timestamps out", () => {
    const stored: NotificationDefinition = { ...def(), id: 'def-1', builtIn: true, createdAt: 1, updatedAt: 2 };
    expect(Object.keys(toOtoboEntry(stored))).toEqual(['Name', 'Comment', 'ValidID', 'Data', 'Message']);
  });

  it('writes nothing for false flags and absent filters', () => {
    expect(Object.keys(data({})).sort()).toEqual(['Events', 'LanguageID', 'NotificationType', 'VisibleForAgent']);
  });

  it('writes kept keys again, after its own, without letting them rename Name or Data', () => {
    const e = toOtoboEntry(
      def({
        transports: { email: { enabled: true } },
        otobo: { data: { SLAID: ['2'], Transports: ['Webview'], TransportEmailTemplate: ['Alert'] }, entry: { ID: '14', Name: 'other', Data: {} } },
      }),
    );
    expect(e.Name).toBe('N');
    expect(e.ID).toBe('14');
    expect(e.Data).toMatchObject({ SLAID: ['2'], Transports: ['Email', 'Webview'], TransportEmailTemplate: ['Alert'] });
  });
});

describe('fromOtoboEntries', () => {
  it.each<[string, Record<string, unknown>, Partial<ImportedDefinition>]>([
    ['NotificationType Appointment', { NotificationType: ['Appointment'] }, { type: 'appointment' }],
    ['appointment events without NotificationType', { Events: ['AppointmentCreate', 'AppointmentNotification'] }, { type: 'appointment' }],
    ['Recipients', { Recipients: ['AgentOwner', 'AgentMyQueuesMyServices'] }, { recipients: { relations: ['AgentOwner', 'AgentMyQueuesMyServices'], agents: [], groups: [], roles: [] } }],
    ['RecipientAgents/Groups/Roles', { RecipientAgents: ['1', '2'], RecipientGroups: ['users'], RecipientRoles: ['admins'] }, { recipients: { relations: [], agents: ['1', '2'], groups: ['users'], roles: ['admins'] } }],
    ['SendOnOutOfOffice [1]', { SendOnOutOfOffice: ['1'] }, { sendOnOutOfOffice: true }],
    ['SendOnOutOfOffice [0]', { SendOnOutOfOffice: ['0'] }, { sendOnOutOfOffice: false }],
    ['SendOnOutOfOffice []', { SendOnOutOfOffice: [] }, { sendOnOutOfOffice: false }],
    ['OncePerDay [1]', { OncePerDay: ['1'] }, { oncePerDay: true }],
    ['OncePerDay as a YAML number', { OncePerDay: [1] }, { oncePerDay: true }],
    ['Transports', { Transports: ['Email', 'Web', 'SMS'] }, { transports: { email: { enabled: true, extraAddresses: [], template: 'default' }, web: { enabled: true }, sms: { enabled: true } } }],
    ['email settings without the Email transport', { Transports: ['SMS'], TransportEmailTemplate: ['Default'], RecipientEmail: ['a@example.com; b@example.com'] }, { transports: { email: { enabled: false, extraAddresses: ['a@example.com', 'b@example.com'], template: 'default' }, sms: { enabled: true } } }],
    ['IsVisibleForCustomer', { Transports: ['Email'], IsVisibleForCustomer: ['1'] }, { transports: { email: { enabled: true, extraAddresses: [], template: 'default', visibleForCustomer: true } } }],
    ['email security', { Transports: ['Email'], EmailSecuritySettings: ['1'], EmailSigningCrypting: ['PGPSign'], EmailMissingSigningKeys: ['Send'], EmailMissingCryptingKeys: ['Send'] }, { transports: { email: { enabled: true, extraAddresses: [], template: 'default', security: { mode: 'PGPSign', missingSigningKeys: 'send_unsigned', missingCryptingKeys: 'send_unencrypted' } } } }],
    ['VisibleForAgent 2 → mandatory', { VisibleForAgent: ['2'], VisibleForAgentTooltip: ['Tip'], AgentEnabledByDefault: ['Email', 'Web'] }, { agentPreferences: { visible: 'mandatory', tooltip: 'Tip', enabledByDefault: ['email', 'web'] } }],
    ['VisibleForAgent 1 → yes', { VisibleForAgent: ['1'] }, { agentPreferences: { visible: 'yes', enabledByDefault: [] } }],
    ['VisibleForAgent 0 → no', { VisibleForAgent: ['0'] }, { agentPreferences: { visible: 'no', enabledByDefault: [] } }],
    ['LockID', { LockID: ['1', '3'] }, { filter: { lock: ['unlock', 'tmp_lock'] } }],
    ['StateID … TypeID → fields', { StateID: ['1', '4'], PriorityID: ['5'], QueueID: ['2'], ServiceID: ['9'], TypeID: ['1'] }, { filter: { fields: { StateID: ['1', '4'], PriorityID: ['5'], QueueID: ['2'], ServiceID: ['9'], TypeID: ['1'] } } }],
    ['DynamicField_<Name>', { DynamicField_Product: ['Widget'] }, { filter: { fields: { Product: ['Widget'] } } }],
    ['Search_DynamicField_<Name>', { Search_DynamicField_Region: ['EMEA'] }, { filter: { fields: { Region: ['EMEA'] } } }],
    ['CustomerID and CustomerUserID', { CustomerID: ['acme'], CustomerUserID: ['jdoe'] }, { filter: { customerCompany: ['acme'], customerId: ['jdoe'] } }],
    ['appointment filters', { CalendarID: ['1'], Title: ['T'], Location: ['L'], ResourceID: ['3'] }, { filter: { calendarId: ['1'], title: ['T'], location: ['L'], resourceId: ['3'] } }],
    ['ArticleSenderTypeID', { ArticleSenderTypeID: ['1', '2', '3'] }, { articleFilter: { senderKind: ['user', 'system', 'customer'] } }],
    ['ArticleCommunicationChannelID', { ArticleCommunicationChannelID: ['4', '1'] }, { articleFilter: { channel: ['chat', 'email'] } }],
    ['ArticleIsVisibleForCustomer [0]', { ArticleIsVisibleForCustomer: ['0'] }, { articleFilter: { visibleForCustomer: false } }],
    ['MIMEBase_Subject and _Body', { MIMEBase_Subject: ['urgent'], MIMEBase_Body: ['outage'] }, { articleFilter: { subject: 'urgent', body: 'outage' } }],
    ['ArticleAttachmentInclude [0] (means nothing)', { ArticleAttachmentInclude: ['0'] }, { articleFilter: {} }],
  ])('maps %s', (_label, Data, expected) => {
    const { def: d, warnings } = importOne(entry(Data));
    expect(d).toMatchObject(expected);
    expect(warnings).toEqual([]);
    expect(d.otobo).toBeUndefined();
  });

  it('maps ValidID 1, 2, 3 (as text or number) to the validity', () => {
    const r = fromOtoboEntries([entry({}, { Name: 'a', ValidID: '1' }), entry({}, { Name: 'b', ValidID: 2 }), entry({}, { Name: 'c', ValidID: '3' })]);
    expect(r.definitions.map((d) => d.input.valid)).toEqual(['valid', 'invalid', 'invalid-temporarily']);
  });

  it('keeps message languages, HTML bodies and their escaped tags verbatim', () => {
    const body = 'Hi &lt;OTOBO_NOTIFICATION_RECIPIENT_UserFirstname&gt;,<br />\n&lt;OTOBO_TICKET_Title&gt;';
    const { def: d } = importOne(
      entry({}, { Message: { en: { Subject: 'S', Body: body, ContentType: 'text/html' }, de: { Subject: 'D', Body: 'x', ContentType: 'text/plain' }, pt_BR: { Subject: 'P', Body: 'y', ContentType: 'text/html; charset=utf-8' } } }),
    );
    expect(d.messages).toEqual({
      en: { subject: 'S', body, contentType: 'text/html' },
      de: { subject: 'D', body: 'x', contentType: 'text/plain' },
      pt_BR: { subject: 'P', body: 'y', contentType: 'text/html' },
    });
  });

  it('keeps unknown Data keys and top-level keys, one warning each', () => {
    const { def: d, warnings } = importOne(entry({ SLAID: ['2'], XMadeUp: [] }, { ID: '14', ChangeTime: '2024-01-01 00:00:00', CreateBy: 1 }));
    expect(d.otobo).toEqual({ data: { SLAID: ['2'], XMadeUp: [] }, entry: { ID: '14', ChangeTime: '2024-01-01 00:00:00', CreateBy: 1 } });
    expect(warnings.sort()).toEqual(['ChangeTime', 'CreateBy', 'ID', 'SLAID', 'XMadeUp']);
  });

  it.each<[string, Record<string, unknown>, Record<string, string[]>]>([
    ['an unknown relation', { Recipients: ['AgentOwner', 'AgentReadPermissions'] }, { Recipients: ['AgentReadPermissions'] }],
    ['an unknown transport', { Transports: ['Email', 'Webview'] }, { Transports: ['Webview'] }],
    ['another email template', { Transports: ['Email'], TransportEmailTemplate: ['Alert'] }, { TransportEmailTemplate: ['Alert'] }],
    ['security settings without a mode', { Transports: ['Email'], EmailSecuritySettings: ['1'], EmailMissingSigningKeys: ['Skip'] }, { EmailSecuritySettings: ['1'], EmailMissingSigningKeys: ['Skip'] }],
    ['a lock id OTOBO does not have', { LockID: ['2', '9'] }, { LockID: ['9'] }],
    ['an unknown sender type', { ArticleSenderTypeID: ['7'] }, { ArticleSenderTypeID: ['7'] }],
    ['a second subject match', { MIMEBase_Subject: ['a', 'b'] }, { MIMEBase_Subject: ['b'] }],
    ['attachments to include', { ArticleAttachmentInclude: ['1'] }, { ArticleAttachmentInclude: ['1'] }],
    ['VisibleForAgent 5', { VisibleForAgent: ['5'] }, { VisibleForAgent: ['5'] }],
    ['a dynamic field shadowing an id filter', { DynamicField_StateID: ['x'] }, { DynamicField_StateID: ['x'] }],
  ])('keeps the values Parley cannot represent: %s', (_label, Data, kept) => {
    const { def: d, warnings } = importOne(entry(Data));
    expect(d.otobo?.data).toEqual(kept);
    expect(warnings.sort()).toEqual(Object.keys(kept).sort());
    // … and writes them back where they were.
    expect(toOtoboEntry(d).Data).toMatchObject(Data);
  });

  it('drops message keys other than Subject, Body and ContentType, with a warning each', () => {
    const { def: d, warnings } = importOne(entry({}, { Message: { en: { Subject: 'S', Body: 'B', ContentType: 'text/plain', Language: 'en' } } }));
    expect(d.messages.en).toEqual({ subject: 'S', body: 'B', contentType: 'text/plain' });
    expect(warnings).toEqual(['Message.en.Language']);
  });

  it('reads LanguageID as the languages the messages already name, without a warning', () => {
    const { warnings } = importOne(entry({ LanguageID: ['en'] }));
    expect(warnings).toEqual([]);
  });

  it('turns a bad entry into an error and still imports the others', () => {
    const r = fromOtoboEntries([
      entry({}, { Name: 'good' }),
      entry({ Events: ['not an event!'] }, { Name: 'bad event' }),
      entry({ Transports: { Email: 1 } }, { Name: 'bad data' }),
      entry({}, { Name: undefined }),
      'a string',
      entry({}, { Name: 'bad validity', ValidID: 9 }),
      entry({}, { Name: 'no message', Message: {} }),
      entry({}, { Name: 'bad language', Message: { 'english (UK)': { Subject: 'S', Body: 'B', ContentType: 'text/plain' } } }),
      entry({}, { Name: 'bad content type', Message: { en: { Subject: 'S', Body: 'B', ContentType: 'application/pdf' } } }),
      entry({ SLAID: ['1'] }, { Name: 'bad bot', Data: { Events: ['A'], ParleyMessageEnabled: ['1'] } }),
      entry({}, { Name: 'good' }),
      entry({}, { Name: 'proto', Data: JSON.parse('{"Events": ["A"], "__proto__": ["x"]}') }),
      entry({}, { Name: 'last good' }),
    ]);
    expect(r.definitions.map((d) => d.name)).toEqual(['good', 'last good']);
    expect(r.errors.map((e) => e.name)).toEqual(['bad event', 'bad data', 'entry 4', 'entry 5', 'bad validity', 'no message', 'bad language', 'bad content type', 'bad bot', 'good', 'proto']);
    const byName = Object.fromEntries(r.errors.map((e) => [e.name, e.error]));
    expect(byName['bad event']).toMatch(/^events\.0: /);
    expect(byName['bad data']).toBe('Data.Transports: must be a list of strings');
    expect(byName['entry 4']).toBe('Name: missing');
    expect(byName['entry 5']).toMatch(/mapping/);
    expect(byName['bad validity']).toMatch(/^ValidID/);
    expect(byName['no message']).toMatch(/^messages: at least one language/);
    expect(byName['bad language']).toMatch(/^messages\.english \(UK\)/);
    expect(byName['bad content type']).toMatch(/^messages\.en\.contentType/);
    expect(byName['bad bot']).toMatch(/transports\.message\.botId/);
    expect(byName.good).toMatch(/another notification of this name/);
    expect(byName.proto).toMatch(/__proto__/);
    expect(r.warnings).toEqual([]);
  });

  it('rejects anything but a list as invalid', () => {
    expect(() => fromOtoboEntries({ Name: 'x' })).toThrow(ProtocolError);
    expect(() => fromOtoboEntries(null)).toThrow(expect.objectContaining({ code: 'invalid' }));
  });

  it('imports what it exports, for a definition using every key', () => {
    const full = def({
      comment: 'All of it',
      valid: 'invalid',
      type: 'appointment',
      events: ['AppointmentNotification', 'AppointmentCreate'],
      filter: { status: ['open'], priority: [], queue: ['Q'], service: ['S'], type: ['T'], lock: ['lock'], customerId: ['c'], customerCompany: ['co'], fields: { StateID: ['1'], Product: ['P', ''] }, calendarId: ['1'], title: ['t'], location: ['l'], resourceId: ['r'] },
      articleFilter: { senderKind: ['customer'], channel: ['chat'], visibleForCustomer: false, hasAttachment: true, subject: 's', body: 'b' },
      recipients: { relations: ['AppointmentResource'], agents: ['a'], groups: ['g'], roles: ['r'] },
      sendOnOutOfOffice: true,
      oncePerDay: true,
      transports: {
        email: { enabled: false, extraAddresses: ['x@example.com'], visibleForCustomer: true, onlyIfUnseenMs: 5000, security: { mode: 'PGPCrypt', missingCryptingKeys: 'send_unencrypted' } },
        web: { enabled: false },
        sms: { enabled: true },
        message: { enabled: true, botId: 'bot', visibility: 'external' },
      },
      agentPreferences: { visible: 'mandatory', tooltip: '', enabledByDefault: ['sms'] },
      messages: { en: { subject: 's', body: '', contentType: 'text/html' }, pt_BR: { subject: 'p', body: 'b' } },
      otobo: { data: { SLAID: ['1'] }, entry: { ID: 3 } },
    });
    const r = fromOtoboEntries([toOtoboEntry(def()), toOtoboEntry(full)].map((e, i) => ({ ...e, Name: `n${i}` })));
    expect(r.errors).toEqual([]);
    expect(r.definitions[1]!.input).toEqual({ ...full, name: 'n1' });
  });

  it('gives every random definition back equal (export → import)', () => {
    for (let seed = 1; seed <= 600; seed++) {
      const input = parse(randomDefinition(new Random(seed)));
      const r = fromOtoboEntries([toOtoboEntry(input)]);
      expect(r.errors, `seed ${seed}`).toEqual([]);
      expect(normalise(r.definitions[0]!.input), `seed ${seed}`).toEqual(normalise(input));
      // Only the kept keys warn.
      expect(r.warnings.length, `seed ${seed}`).toBe(Object.keys(input.otobo?.data ?? {}).length + Object.keys(input.otobo?.entry ?? {}).length);
    }
  });
});
