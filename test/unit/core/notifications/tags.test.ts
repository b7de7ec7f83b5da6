import { describe, expect, it } from 'vitest';
import type { Article } from '../../../../protocol/index.js';
import type { ItemRecord } from '../../../../server/core/model.js';
import { compileTemplate, renderTemplate, tagConfig, type RenderOptions } from '../../../../server/core/notifications/tags.js';
import type { TagContext } from '../../../../server/core/notifications/types.js';
import { item, participant } from '../../../support/records.js';

const PLAIN: RenderOptions = { part: 'body', contentType: 'text/plain' };
const HTML: RenderOptions = { part: 'body', contentType: 'text/html' };
const SUBJECT: RenderOptions = { part: 'subject', contentType: 'text/plain' };
const HTML_SUBJECT: RenderOptions = { part: 'subject', contentType: 'text/html' };

const article: Article = {
  senderKind: 'customer',
  channel: 'email',
  visibleForCustomer: true,
  subject: 'Printer smokes',
  body: 'line 1\nline 2\r\nline 3\nline 4',
};

function context(over: Partial<TagContext> = {}): TagContext {
  const ticket: ItemRecord = {
    ...item({
      id: 'i-42',
      title: 'Printer on fire',
      number: '2026120710000017',
      status: 'open',
      priority: '3 normal',
      queue: 'Raw',
      customerId: 'cust-1',
      ownerId: 'u-olga',
      responsibleId: 'u-rita',
      fields: { Severity: 'high', Tags: ['red', 'urgent'], Blank: '  ', None: [], Severity_Value: 'High!' },
    }),
    lock: 'lock',
    service: 'IT::Printing',
    type: 'Incident',
    createdBy: null,
    customerCompany: null,
  };
  return {
    item: ticket,
    owner: participant('u-olga', 'user', { name: 'Olga Maria Owner', email: 'olga@example.com' }),
    responsible: participant('u-rita', 'user', { name: 'Rita', email: null }),
    customer: participant('cust-1', 'customer', { name: 'Carl Customer', email: 'carl@example.com' }),
    actor: participant('u-adam', 'user', { name: '  Adam   Actor  ', email: 'adam@example.com' }),
    recipient: { name: 'Rhea Recipient', email: 'rhea@example.com' },
    article,
    appointment: {
      id: 'ap-1',
      calendarId: 'cal-1',
      title: 'Maintenance',
      description: 'Swap the disks',
      location: 'Room 1',
      startAt: Date.UTC(2026, 11, 24, 9, 30, 5),
      endAt: Date.UTC(2026, 11, 24, 17, 0, 0),
      allDay: false,
      recurring: true,
      resourceIds: [],
      reminderAt: null,
    },
    calendar: { id: 'cal-1', name: 'Ops', color: '#3A87AD', groupId: null },
    config: tagConfig('https://support.example.com:8443/parley', '{"Custom":"value"}'),
    ...over,
  };
}

const ctx = context();

describe('renderTemplate: every tag', () => {
  it.each([
    // ticket
    ['<OTOBO_TICKET_TicketNumber>', '2026120710000017'],
    ['<OTOBO_TICKET_TicketID>', 'i-42'],
    ['<OTOBO_TICKET_Title>', 'Printer on fire'],
    ['<OTOBO_TICKET_Queue>', 'Raw'],
    ['<OTOBO_TICKET_State>', 'open'],
    ['<OTOBO_TICKET_Priority>', '3 normal'],
    ['<OTOBO_TICKET_Service>', 'IT::Printing'],
    ['<OTOBO_TICKET_Type>', 'Incident'],
    ['<OTOBO_TICKET_Lock>', 'lock'],
    ['<OTOBO_TICKET_Owner>', 'Olga Maria Owner'],
    ['<OTOBO_TICKET_OwnerID>', 'u-olga'],
    ['<OTOBO_TICKET_Responsible>', 'Rita'],
    ['<OTOBO_TICKET_ResponsibleID>', 'u-rita'],
    ['<OTOBO_TICKET_CustomerID>', 'cust-1'],
    ['<OTOBO_TICKET_CustomerUserID>', 'cust-1'],
    ['<OTOBO_TICKET_DynamicField_Severity>', 'high'],
    ['<OTOBO_TICKET_DynamicField_Tags>', 'red, urgent'],
    ['<OTOBO_TICKET_DynamicField_Severity_Value>', 'High!'],
    ['<OTOBO_TICKET_DynamicField_Tags_Value>', 'red, urgent'],
    // recipient
    ['<OTOBO_NOTIFICATION_RECIPIENT_UserFirstname>', 'Rhea'],
    ['<OTOBO_NOTIFICATION_RECIPIENT_UserLastname>', 'Recipient'],
    ['<OTOBO_NOTIFICATION_RECIPIENT_UserFullname>', 'Rhea Recipient'],
    ['<OTOBO_NOTIFICATION_RECIPIENT_UserEmail>', 'rhea@example.com'],
    ['<OTOBO_UserFirstname>', 'Rhea'],
    // current (the actor; the name is trimmed and split on the first run of spaces)
    ['<OTOBO_CURRENT_UserFirstname>', 'Adam'],
    ['<OTOBO_CURRENT_UserLastname>', 'Actor'],
    ['<OTOBO_CURRENT_UserFullname>', 'Adam   Actor'],
    ['<OTOBO_CURRENT_UserEmail>', 'adam@example.com'],
    // owner: the last name is everything after the first word
    ['<OTOBO_OWNER_UserFirstname>', 'Olga'],
    ['<OTOBO_OWNER_UserLastname>', 'Maria Owner'],
    ['<OTOBO_OWNER_UserFullname>', 'Olga Maria Owner'],
    ['<OTOBO_OWNER_UserEmail>', 'olga@example.com'],
    // responsible: one word, no email
    ['<OTOBO_RESPONSIBLE_UserFirstname>', 'Rita'],
    ['<OTOBO_RESPONSIBLE_UserLastname>', '-'],
    ['<OTOBO_RESPONSIBLE_UserFullname>', 'Rita'],
    ['<OTOBO_RESPONSIBLE_UserEmail>', '-'],
    // customer and article
    ['<OTOBO_CUSTOMER_REALNAME>', 'Carl Customer'],
    ['<OTOBO_CUSTOMER_DATA_UserFirstname>', 'Carl'],
    ['<OTOBO_CUSTOMER_DATA_UserEmail>', 'carl@example.com'],
    ['<OTOBO_CUSTOMER_SUBJECT>', 'Printer smokes'],
    ['<OTOBO_CUSTOMER_BODY>', 'line 1\nline 2\r\nline 3\nline 4'],
    ['<OTOBO_CUSTOMER_EMAIL>', 'line 1\nline 2\r\nline 3\nline 4'],
    // appointment and calendar
    ['<OTOBO_APPOINTMENT_TITLE>', 'Maintenance'],
    ['<OTOBO_APPOINTMENT_DESCRIPTION>', 'Swap the disks'],
    ['<OTOBO_APPOINTMENT_LOCATION>', 'Room 1'],
    ['<OTOBO_APPOINTMENT_STARTTIME>', '2026-12-24 09:30:05'],
    ['<OTOBO_APPOINTMENT_ENDTIME>', '2026-12-24 17:00:00'],
    ['<OTOBO_APPOINTMENT_ALLDAY>', 'No'],
    ['<OTOBO_APPOINTMENT_RECURRING>', 'Yes'],
    ['<OTOBO_APPOINTMENT_APPOINTMENTID>', 'ap-1'],
    ['<OTOBO_APPOINTMENT_CALENDARID>', 'cal-1'],
    ['<OTOBO_CALENDAR_CALENDARNAME>', 'Ops'],
    ['<OTOBO_CALENDAR_COLOR>', '#3A87AD'],
    ['<OTOBO_CALENDAR_CALENDARID>', 'cal-1'],
    // config
    ['<OTOBO_CONFIG_HttpType>', 'https'],
    ['<OTOBO_CONFIG_FQDN>', 'support.example.com:8443'],
    ['<OTOBO_CONFIG_ScriptAlias>', 'parley'],
    ['<OTOBO_CONFIG_NotificationSenderName>', 'Parley'],
    ['<OTOBO_CONFIG_Ticket::Hook>', 'Ticket#'],
    ['<OTOBO_CONFIG_Ticket::HookDivider>', '-'],
    ['<OTOBO_CONFIG_Custom>', 'value'],
  ])('%s renders %j', (template, expected) => {
    expect(renderTemplate(template, ctx, PLAIN)).toBe(expected);
  });

  it('renders tags among text, each in its place', () => {
    const t = '[<OTOBO_CONFIG_Ticket::Hook><OTOBO_TICKET_TicketNumber>] <OTOBO_TICKET_Title> for <OTOBO_NOTIFICATION_RECIPIENT_UserFirstname>.';
    expect(renderTemplate(t, ctx, PLAIN)).toBe('[Ticket#2026120710000017] Printer on fire for Rhea.');
  });

  it.each([
    ['owner', '<OTOBO_TICKET_Owner>', { owner: null }, 'u-olga'],
    ['responsible', '<OTOBO_TICKET_Responsible>', { responsible: null }, 'u-rita'],
  ])('renders the %s id when the caller found no participant for it', (_who, template, over, expected) => {
    expect(renderTemplate(template, context(over), PLAIN)).toBe(expected);
  });

  it.each([
    ['start', '<OTOBO_APPOINTMENT_STARTTIME>', '2026-12-24'],
    ['end', '<OTOBO_APPOINTMENT_ENDTIME>', '2026-12-24'],
    ['all-day flag', '<OTOBO_APPOINTMENT_ALLDAY>', 'Yes'],
  ])('renders an all-day appointment’s %s as a date', (_what, template, expected) => {
    const c = context({ appointment: { ...ctx.appointment!, allDay: true, recurring: false } });
    expect(renderTemplate(template, c, PLAIN)).toBe(expected);
    expect(renderTemplate('<OTOBO_APPOINTMENT_RECURRING>', c, PLAIN)).toBe('No');
  });
});

describe('renderTemplate: names', () => {
  it.each([
    ['the PARLEY_ prefix', '<PARLEY_TICKET_Title>', 'Printer on fire'],
    ['PARLEY_ with a recipient tag', '<PARLEY_NOTIFICATION_RECIPIENT_UserEmail>', 'rhea@example.com'],
    ['PARLEY_ with a config key', '<PARLEY_CONFIG_Ticket::Hook>', 'Ticket#'],
    ['PARLEY_ with a cut', '<PARLEY_TICKET_Title[7]>', 'Printer[...]'],
    ['an attribute in another case', '<OTOBO_TICKET_TITLE>', 'Printer on fire'],
    ['an attribute in lower case', '<OTOBO_NOTIFICATION_RECIPIENT_userfirstname>', 'Rhea'],
    ['a family in lower case', '<OTOBO_ticket_Title>', 'Printer on fire'],
    ['an appointment attribute in mixed case', '<OTOBO_APPOINTMENT_StartTime>', '2026-12-24 09:30:05'],
    ['a dynamic field in another case', '<OTOBO_TICKET_DynamicField_severity>', 'high'],
    ['a config key in another case', '<OTOBO_CONFIG_fqdn>', 'support.example.com:8443'],
  ])('accepts %s', (_case, template, expected) => {
    expect(renderTemplate(template, ctx, PLAIN)).toBe(expected);
  });

  it('prefers the exactly spelled dynamic field over one differing in case', () => {
    const c = context({ item: { ...ctx.item!, fields: { size: 'small', Size: 'large' } } });
    expect(renderTemplate('<OTOBO_TICKET_DynamicField_Size> <OTOBO_TICKET_DynamicField_size>', c, PLAIN)).toBe('large small');
  });
});

describe('renderTemplate: unknown tags and empty values render as -', () => {
  const empty = context({
    item: null,
    owner: null,
    responsible: null,
    customer: null,
    actor: null,
    recipient: null,
    article: null,
    appointment: null,
    calendar: null,
    config: {},
  });
  it.each([
    ['an unknown family', '<OTOBO_NOPE_X>', ctx],
    ['an unknown ticket attribute', '<OTOBO_TICKET_Nope>', ctx],
    ['an unknown person attribute', '<OTOBO_OWNER_UserShoeSize>', ctx],
    ['an unknown appointment attribute', '<OTOBO_APPOINTMENT_NOPE>', ctx],
    ['an unknown config key', '<OTOBO_CONFIG_Nope>', ctx],
    ['an inherited property as a config key', '<OTOBO_CONFIG_constructor>', ctx],
    ['an inherited property as a dynamic field', '<OTOBO_TICKET_DynamicField_toString>', ctx],
    ['a dynamic field without a name', '<OTOBO_TICKET_DynamicField_>', ctx],
    ['an absent dynamic field', '<OTOBO_TICKET_DynamicField_Missing>', ctx],
    ['a blank dynamic field', '<OTOBO_TICKET_DynamicField_Blank>', ctx],
    ['an empty list field', '<OTOBO_TICKET_DynamicField_None>', ctx],
    ['a null item attribute', '<OTOBO_TICKET_TicketNumber>', context({ item: { ...ctx.item!, number: null } })],
    ['an empty title', '<OTOBO_TICKET_Title>', context({ item: { ...ctx.item!, title: '' } })],
    ['an article without subject', '<OTOBO_CUSTOMER_SUBJECT>', context({ article: { ...article, subject: undefined } })],
    ['a calendar without color', '<OTOBO_CALENDAR_COLOR>', context({ calendar: { ...ctx.calendar!, color: null } })],
    ['no item', '<OTOBO_TICKET_Title>', empty],
    ['no owner', '<OTOBO_TICKET_Owner>', empty],
    ['no recipient', '<OTOBO_NOTIFICATION_RECIPIENT_UserFirstname>', empty],
    ['no actor', '<OTOBO_CURRENT_UserFullname>', empty],
    ['no owner person', '<OTOBO_OWNER_UserEmail>', empty],
    ['no responsible person', '<OTOBO_RESPONSIBLE_UserFullname>', empty],
    ['no customer', '<OTOBO_CUSTOMER_REALNAME>', empty],
    ['no article', '<OTOBO_CUSTOMER_BODY>', empty],
    ['no article, cut', '<OTOBO_CUSTOMER_BODY[3]>', empty],
    ['no appointment', '<OTOBO_APPOINTMENT_STARTTIME>', empty],
    ['no appointment flag', '<OTOBO_APPOINTMENT_ALLDAY>', empty],
    ['no calendar', '<OTOBO_CALENDAR_CALENDARNAME>', empty],
    ['no config', '<OTOBO_CONFIG_FQDN>', empty],
  ])('%s', (_case, template, c) => {
    expect(renderTemplate(`(${template})`, c, PLAIN)).toBe('(-)');
  });

  it.each([
    ['a tag without the closing bracket', '<OTOBO_TICKET_Title'],
    ['a tag with a space', '<OTOBO_TICKET_ Title>'],
    ['another prefix', '<OTRS_TICKET_Title>'],
    ['an escaped tag in plain text', '&lt;OTOBO_TICKET_Title&gt;'],
    ['mismatched delimiters', '&lt;OTOBO_TICKET_Title>'],
  ])('leaves what is not a tag alone: %s', (_case, template) => {
    expect(renderTemplate(template, ctx, PLAIN)).toBe(template);
  });
});

describe('renderTemplate: [n] cuts', () => {
  const withTitle = (title: string) => context({ item: { ...ctx.item!, title } });
  it.each([
    ['a body to its first lines', '<OTOBO_CUSTOMER_BODY[2]>', ctx, 'line 1\nline 2'],
    ['a body across CRLF', '<OTOBO_CUSTOMER_BODY[3]>', ctx, 'line 1\nline 2\r\nline 3'],
    ['a body to one line', '<OTOBO_CUSTOMER_BODY[1]>', ctx, 'line 1'],
    ['a body shorter than n, whole and unmarked', '<OTOBO_CUSTOMER_BODY[10]>', ctx, 'line 1\nline 2\r\nline 3\nline 4'],
    ['a body of exactly n lines', '<OTOBO_CUSTOMER_BODY[4]>', ctx, 'line 1\nline 2\r\nline 3\nline 4'],
    ['the older body name', '<OTOBO_CUSTOMER_EMAIL[1]>', ctx, 'line 1'],
    ['a title to its first characters', '<OTOBO_TICKET_Title[7]>', ctx, 'Printer[...]'],
    ['a title no longer than n, unmarked', '<OTOBO_TICKET_Title[15]>', ctx, 'Printer on fire'],
    ['a title far shorter than n, unmarked', '<OTOBO_TICKET_Title[200]>', ctx, 'Printer on fire'],
    ['the article subject (characters, not lines)', '<OTOBO_CUSTOMER_SUBJECT[3]>', ctx, 'Pri[...]'],
    ['a config value', '<OTOBO_CONFIG_FQDN[7]>', ctx, 'support[...]'],
    ['a dynamic field list', '<OTOBO_TICKET_DynamicField_Tags[5]>', ctx, 'red, [...]'],
    ['a person attribute', '<OTOBO_OWNER_UserLastname[3]>', ctx, 'Mar[...]'],
    ['an emoji kept whole (surrogate pair)', '<OTOBO_TICKET_Title[3]>', withTitle('ab😀cd'), 'ab😀[...]'],
    ['before an emoji, never half of it', '<OTOBO_TICKET_Title[2]>', withTitle('ab😀cd'), 'ab[...]'],
    ['an emoji with its skin tone kept whole', '<OTOBO_TICKET_Title[1]>', withTitle('👋🏽 hi'), '👋🏽[...]'],
    ['an emoji ZWJ sequence kept whole', '<OTOBO_TICKET_Title[2]>', withTitle('a👩‍👩‍👧b'), 'a👩‍👩‍👧[...]'],
    ['a letter with its combining accent', '<OTOBO_TICKET_Title[4]>', withTitle('Cafe\u0301 au lait'), 'Cafe\u0301[...]'],
    ['before a letter with its combining accent', '<OTOBO_TICKET_Title[3]>', withTitle('Cafe\u0301 au lait'), 'Caf[...]'],
    ['a flag (two regional indicators) kept whole', '<OTOBO_TICKET_Title[2]>', withTitle('🇩🇪🇫🇷🇮🇹'), '🇩🇪🇫🇷[...]'],
    ['a variation selector kept with its symbol', '<OTOBO_TICKET_Title[1]>', withTitle('❤️ love'), '❤️[...]'],
    ['a CRLF counted as one character', '<OTOBO_CUSTOMER_SUBJECT[3]>', context({ article: { ...article, subject: 'a\r\nbc' } }), 'a\r\nb[...]'],
    ['emoji counted as one character each', '<OTOBO_TICKET_Title[2]>', withTitle('😀😀😀'), '😀😀[...]'],
    ['only emoji, none cut', '<OTOBO_TICKET_Title[3]>', withTitle('😀😀😀'), '😀😀😀'],
  ])('cuts %s', (_case, template, c, expected) => {
    expect(renderTemplate(template, c, PLAIN)).toBe(expected);
  });

  it('cuts with the PARLEY_ prefix and lower-case names alike', () => {
    expect(renderTemplate('<parley_customer_body[1]>', ctx, PLAIN)).toBe('line 1');
  });
});

describe('renderTemplate: text/html', () => {
  const evil = context({
    item: { ...ctx.item!, title: `Tom & Jerry <b>"bold"</b> 'quoted'` },
    article: { ...article, body: 'a < b\nb > c' },
  });
  it.each([
    ['an escaped tag', '<p>&lt;OTOBO_TICKET_Title&gt;</p>', ctx, '<p>Printer on fire</p>'],
    ['an escaped tag with a cut', '<p>&lt;OTOBO_TICKET_Title[7]&gt;</p>', ctx, '<p>Printer[...]</p>'],
    ['an escaped PARLEY_ tag', '&lt;PARLEY_CONFIG_Ticket::Hook&gt;', ctx, 'Ticket#'],
    ['an escaped tag in lower-case entities', '&LT;OTOBO_TICKET_Queue&GT;', ctx, 'Raw'],
    ['a raw tag', '<p><OTOBO_TICKET_Queue></p>', ctx, '<p>Raw</p>'],
    ['a value, HTML-escaped', '<h1><OTOBO_TICKET_Title></h1>', evil, '<h1>Tom &amp; Jerry &lt;b&gt;&quot;bold&quot;&lt;/b&gt; &#39;quoted&#39;</h1>'],
    ['a value in an attribute, quotes escaped', '<a title="&lt;OTOBO_TICKET_Title&gt;">', evil, '<a title="Tom &amp; Jerry &lt;b&gt;&quot;bold&quot;&lt;/b&gt; &#39;quoted&#39;">'],
    ['a body, escaped, its line breaks as <br/>', '<OTOBO_CUSTOMER_BODY>', evil, 'a &lt; b<br/>b &gt; c'],
    ['a body with CRLF, one <br/> per break', '<OTOBO_CUSTOMER_BODY>', ctx, 'line 1<br/>line 2<br/>line 3<br/>line 4'],
    ['a body cut by lines, then escaped', '<OTOBO_CUSTOMER_BODY[1]>', evil, 'a &lt; b'],
    ['a cut title, escaped after the cut', '<OTOBO_TICKET_Title[5]>', evil, 'Tom &amp;[...]'],
    ['the dash for an unknown tag', '&lt;OTOBO_NOPE&gt;', ctx, '-'],
  ])('renders %s', (_case, template, c, expected) => {
    expect(renderTemplate(template, c, HTML)).toBe(expected);
  });

  it('does not escape values in text/plain', () => {
    expect(renderTemplate('<OTOBO_TICKET_Title>', evil, PLAIN)).toBe(`Tom & Jerry <b>"bold"</b> 'quoted'`);
  });

  it('does not HTML-escape subjects, which are plain text whatever the body is', () => {
    expect(renderTemplate('&lt;OTOBO_TICKET_Title&gt;', evil, HTML_SUBJECT)).toBe(`Tom & Jerry <b>"bold"</b> 'quoted'`);
  });
});

describe('renderTemplate: subjects', () => {
  const multi = context({ item: { ...ctx.item!, title: 'one\r\ntwo\nthree\rfour\u2028five\u2029six' } });
  it.each([
    ['CR, LF, CRLF, U+2028 and U+2029 in a value', '<OTOBO_TICKET_Title>', multi, 'one two three four five six'],
    ['the article body in a subject', 'Re: <OTOBO_CUSTOMER_BODY>', ctx, 'Re: line 1 line 2 line 3 line 4'],
    ['a body cut by lines, then joined', '<OTOBO_CUSTOMER_BODY[2]>', ctx, 'line 1 line 2'],
    ['a character cut after the breaks are spaces', '<OTOBO_TICKET_Title[7]>', multi, 'one two[...]'],
    ['line breaks in the template itself', 'A\r\nB\nC', ctx, 'A B C'],
    ['a value of line breaks only', '[<OTOBO_TICKET_Title>]', context({ item: { ...ctx.item!, title: '\r\n' } }), '[-]'],
  ])('strips %s', (_case, template, c, expected) => {
    const out = renderTemplate(template, c, SUBJECT);
    expect(out).toBe(expected);
    expect(out).not.toMatch(/[\r\n]/);
  });

  it('keeps line breaks of values in plain bodies', () => {
    expect(renderTemplate('<OTOBO_TICKET_Title>', multi, PLAIN)).toBe('one\r\ntwo\nthree\rfour\u2028five\u2029six');
  });
});

describe('renderTemplate: values are never scanned for tags', () => {
  const injected = context({
    item: { ...ctx.item!, title: '<OTOBO_CONFIG_FQDN>', fields: { Note: '&lt;OTOBO_TICKET_Queue&gt;' } },
    article: { ...article, body: '<PARLEY_NOTIFICATION_RECIPIENT_UserEmail>' },
  });
  it.each([
    ['a tag in a title, plain', '<OTOBO_TICKET_Title>', PLAIN, '<OTOBO_CONFIG_FQDN>'],
    ['a tag in a body, plain', '<OTOBO_CUSTOMER_BODY>', PLAIN, '<PARLEY_NOTIFICATION_RECIPIENT_UserEmail>'],
    ['a tag in a title, subject', 'Re: <OTOBO_TICKET_Title>', SUBJECT, 'Re: <OTOBO_CONFIG_FQDN>'],
    ['a tag in a title, html', '&lt;OTOBO_TICKET_Title&gt;', HTML, '&lt;OTOBO_CONFIG_FQDN&gt;'],
    ['an escaped tag in a field, html', '<OTOBO_TICKET_DynamicField_Note>', HTML, '&amp;lt;OTOBO_TICKET_Queue&amp;gt;'],
    ['a tag in a title, cut', '<OTOBO_TICKET_Title[100]>', PLAIN, '<OTOBO_CONFIG_FQDN>'],
  ])('%s', (_case, template, opts, expected) => {
    expect(renderTemplate(template, injected, opts)).toBe(expected);
  });
});

describe('compileTemplate', () => {
  it('renders one compiled template for many contexts', () => {
    const compiled = compileTemplate('Hi <OTOBO_NOTIFICATION_RECIPIENT_UserFirstname>, <OTOBO_TICKET_Title>', PLAIN);
    const names = ['Ann Lee', 'Bo', 'Cy Twombly'];
    expect(names.map((name) => compiled.render(context({ recipient: { name, email: null } })))).toEqual([
      'Hi Ann, Printer on fire',
      'Hi Bo, Printer on fire',
      'Hi Cy, Printer on fire',
    ]);
  });

  it('renders a template without tags as it is', () => {
    expect(compileTemplate('no tags here < > &lt;', HTML).render(ctx)).toBe('no tags here < > &lt;');
  });

  it('keeps the cached compilations of one text apart by part and content type', () => {
    const t = 'x\n&lt;OTOBO_TICKET_Queue&gt;';
    expect(renderTemplate(t, ctx, PLAIN)).toBe('x\n&lt;OTOBO_TICKET_Queue&gt;');
    expect(renderTemplate(t, ctx, HTML)).toBe('x\nRaw');
    expect(renderTemplate(t, ctx, SUBJECT)).toBe('x &lt;OTOBO_TICKET_Queue&gt;');
    expect(renderTemplate(t, ctx, HTML_SUBJECT)).toBe('x Raw');
  });

  it('renders the same from the cache as fresh', () => {
    const t = 'cache <OTOBO_TICKET_Title>';
    const first = renderTemplate(t, ctx, PLAIN);
    const second = renderTemplate(t, context({ item: { ...ctx.item!, title: 'Other' } }), PLAIN);
    expect([first, second]).toEqual(['cache Printer on fire', 'cache Other']);
  });
});

describe('tagConfig', () => {
  it.each([
    ['https://support.example.com', { HttpType: 'https', FQDN: 'support.example.com', ScriptAlias: '' }],
    ['https://support.example.com/', { HttpType: 'https', FQDN: 'support.example.com', ScriptAlias: '' }],
    ['http://localhost:3000/app/parley', { HttpType: 'http', FQDN: 'localhost:3000', ScriptAlias: 'app/parley' }],
    ['https://Support.Example.com:443/help/', { HttpType: 'https', FQDN: 'support.example.com', ScriptAlias: 'help/' }],
    ['http://[::1]:8080', { HttpType: 'http', FQDN: '[::1]:8080', ScriptAlias: '' }],
  ])('derives the defaults from %s', (appUrl, derived) => {
    expect(tagConfig(appUrl, undefined)).toEqual({
      ...derived,
      NotificationSenderName: 'Parley',
      'Ticket::Hook': 'Ticket#',
      'Ticket::HookDivider': '',
    });
  });

  it.each([
    ['undefined', undefined],
    ['empty', ''],
    ['blank', '  \n'],
    ['an empty object', '{}'],
  ])('keeps the defaults when PARLEY_TAG_CONFIG is %s', (_case, json) => {
    expect(tagConfig('https://a.example', json)['Ticket::Hook']).toBe('Ticket#');
    expect(Object.keys(tagConfig('https://a.example', json))).toHaveLength(6);
  });

  it('lets PARLEY_TAG_CONFIG override defaults and add keys', () => {
    const config = tagConfig('https://a.example', '{"Ticket::Hook":"Case#","FQDN":"help.example.com","Company":"ACME"}');
    expect(config).toMatchObject({ 'Ticket::Hook': 'Case#', FQDN: 'help.example.com', Company: 'ACME', HttpType: 'https' });
    expect(renderTemplate('<OTOBO_CONFIG_Ticket::Hook><OTOBO_CONFIG_Company>', context({ config }), PLAIN)).toBe('Case#ACME');
  });

  it('keeps a "__proto__" key as data', () => {
    const config = tagConfig('https://a.example', '{"__proto__":"x"}');
    expect(Object.getPrototypeOf(config)).toBe(Object.prototype);
    expect(Object.hasOwn(config, '__proto__')).toBe(true);
  });

  it.each([
    ['invalid JSON', '{"FQDN":', /PARLEY_TAG_CONFIG is not valid JSON/],
    ['an array', '["a"]', /PARLEY_TAG_CONFIG must be a JSON object/],
    ['null', 'null', /PARLEY_TAG_CONFIG must be a JSON object/],
    ['a string', '"x"', /PARLEY_TAG_CONFIG must be a JSON object/],
    ['a number value', '{"Port":8080}', /PARLEY_TAG_CONFIG: the value of "Port" must be a string, not number/],
    ['a null value', '{"A":null}', /"A" must be a string, not null/],
    ['a nested object', '{"A":{"b":"c"}}', /"A" must be a string, not object/],
    ['a list value', '{"A":["b"]}', /"A" must be a string, not an array/],
  ])('refuses PARLEY_TAG_CONFIG that is %s', (_case, json, error) => {
    expect(() => tagConfig('https://a.example', json)).toThrow(error);
  });

  it('refuses an app URL that is not a URL', () => {
    expect(() => tagConfig('not a url', undefined)).toThrow(/PARLEY_APP_URL is not a URL/);
  });
});
