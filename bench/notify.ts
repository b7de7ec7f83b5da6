/**
 * bench:notify — notification rules under an event storm, in one process through the real parts:
 * HostApi and Hub (SqliteStore in a temp dir), Definitions, Notifier (its WorkQueue of 8), the matcher,
 * OTOBO tags, LiquidComposer and the outbox worker, which hands every email to a mailer that accepts
 * at once (no SMTP). Two numbers of the issue, side by side in one table, medians of the runs:
 *
 * 1. **Events/s** (target ≥ 2,000): 1,000 users (email, two languages, a queue each, group
 *    memberships), a few hundred items, 100 valid definitions on five event types with filters
 *    (queue, status, priority, a dynamic field, the article), relations (AgentMyQueues, AgentOwner,
 *    AgentResponsible, AgentWatcher, groups), email and web, subjects and bodies with OTOBO tags in
 *    English and German. Every event carries an item snapshot or an article and matches several
 *    definitions; N events are posted at once through `notifier.post` and timed until every post has
 *    resolved (matched, rendered, committed with its outbox rows and web notifications). The table
 *    also shows the recipients and deliveries per event (from the audit, GET /v1/events/{id}) so the
 *    reader can check the load, and the emails/s until the outbox worker has sent every one.
 * 2. **Chat during a burst**: 20 pairs of users in direct conversations send at a fixed rate (400
 *    messages/s in 10 ms ticks) into the hub in process, as bench:hub drives it (a Connection per
 *    session, frames decoded as the transport would); send → ack is timed from the tick's *due* time,
 *    so a blocked event loop counts in full (no coordinated omission). p50/p99 for a window without
 *    events, then while N events are posted at once, with that burst's events/s. Socket I/O is left
 *    out (`bench` measures it); the event loop the chat and the rules share is what is measured.
 *    Then: was every event processed? Every post answered, every event GET-able with the deliveries
 *    it answered, every email sent, every web notification pushed, every chat message acked.
 *
 * Each run uses a fresh hub and data dir (removed afterwards). Read events/s against the target;
 * the chat p99 during the burst against the one without it says how much an event storm costs chat.
 *
 *   npm run bench:notify [-- --runs 3 --events 10000 --users 1000 --load rich|floor|both]   (--quick: 150 events, 200 users, 1 run, rich)
 *
 * 3. **Reminder storm** (after the runs, one fresh hub of its own): `--appointments` (100,000; quick
 *    5,000) appointments in one calendar whose group has four users, created through
 *    `parley.appointments.putAppointment` 64 at a time, every `reminderAt` inside the same minute an
 *    hour ahead; one appointment definition listens to `AppointmentNotification` (email and web to
 *    AppointmentAgentReadPermissions), none to `AppointmentCreate`. The hub runs on a clock that can
 *    jump (real timers, Date.now() plus an offset): once everything is armed it jumps to the end of the
 *    minute, so every reminder is due at once, and the time until every reminder's event has been
 *    committed is measured, with peak RSS and heap sampled every 100 ms. Exactly once: one
 *    `AppointmentNotification` row per appointment in notification_events (read from the SQLite file,
 *    read-only) and one email and one web delivery per appointment and user.
 *
 *   npm run bench:notify [-- --appointments 100000]
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { decodeClientFrame, type DefinitionInput, type EventPost, type ItemPut, type PersonalTransport } from '../protocol/index.js';
import { JoseTokens } from '../server/adapters/jwt/jose-tokens.js';
import { MemoryBus } from '../server/adapters/memory/bus.js';
import { loadConfig } from '../server/config.js';
import type { Clock, Connection, Logger, Mailer, TimerHandle } from '../server/core/ports/index.js';
import type { Session } from '../server/core/session.js';
import { createParley, NULL_METRICS, type Parley } from '../server/parley.js';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    runs: { type: 'string' },
    events: { type: 'string' },
    users: { type: 'string' },
    appointments: { type: 'string' },
    load: { type: 'string' },
  },
});
const QUICK = values.quick;
/**
 * `rich`: each event matches several definitions (12.9 recipients, 23.7 deliveries an event on
 * average; fewest 5). `floor`: the floor, ≥ 5 recipients each: the same 100 definitions are
 * matched, but only each type's AgentMyQueues one matches (its queue's five users, email + web); the
 * other 19 filter on a queue no item is in. Full mode runs both; quick mode the rich one.
 */
type Load = 'rich' | 'floor';
const LOADS: readonly Load[] = values.load === 'rich' || values.load === 'floor' ? [values.load] : QUICK ? ['rich'] : ['rich', 'floor'];
if (values.load !== undefined && values.load !== 'rich' && values.load !== 'floor' && values.load !== 'both') throw new Error('--load is rich, floor or both');
let load: Load = LOADS[0]!;
const RUNS = Number(values.runs ?? (QUICK ? 1 : 3));
/** The burst: 10,000 events posted at once in full mode. */
const EVENTS = Number(values.events ?? (QUICK ? 150 : 10_000));
const USERS = Number(values.users ?? (QUICK ? 200 : 1000));
const ITEMS = QUICK ? 100 : 300;
const DEFINITIONS = 100;
const TARGET_EVENTS_PER_S = 2000;
/** AgentMyQueues names the queue's members: five users a queue, four to an on-call group. */
const QUEUES = Math.max(1, Math.floor(USERS / 5));
const ONCALL_GROUPS = Math.max(1, Math.floor(USERS / 4));
const CHAT_PAIRS = QUICK ? 10 : 20;
/** Messages/s of the whole chat load: 20 a second per pair. */
const CHAT_RATE = CHAT_PAIRS * 20;
const CHAT_TICK_MS = 10;
const BASELINE_MS = QUICK ? 1000 : 4000;
const WATCHDOG_MS = QUICK ? 300_000 : 3_600_000;
/** Reminder storm: appointments in one calendar, every reminder due inside the same minute. */
const STORM = Number(values.appointments ?? (QUICK ? 5000 : 100_000));
/** Users of the calendar's group: each reminder goes to every one, by email and web. */
const STORM_USERS = 4;
/** putAppointment calls in flight while the appointments are created. */
const STORM_CONCURRENCY = 64;

const EVENT_TYPES = ['NotificationNewTicket', 'TicketQueueUpdate', 'TicketStateUpdate', 'TicketPriorityUpdate', 'ArticleCreate'] as const;
const STATUSES = ['new', 'open', 'pending reminder'];
const PRIORITIES = ['1 very low', '2 low', '3 normal', '4 high', '5 very high'];
const PRODUCTS = ['Widget', 'Gadget', 'Gizmo'];

setTimeout(() => {
  console.error('bench:notify: watchdog fired');
  process.exit(1);
}, WATCHDOG_MS).unref();

const quiet: Logger = { info() {}, warn() {}, error: (m, f) => console.error(m, f) };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A fixed-seed PRNG (mulberry32): every run posts the same events. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const pick = <T>(xs: readonly T[], r: () => number): T => xs[Math.floor(r() * xs.length)]!;

/** Accepts every email at once: the outbox worker's claiming and marking is measured, no SMTP. */
class InstantMailer implements Mailer {
  sent = 0;
  send(): Promise<void> {
    this.sent++;
    return Promise.resolve();
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** The transport's topics in process: what the Bus publishes reaches the sessions subscribed to it. */
class Topics {
  readonly subscribers = new Map<string, Set<ChatConnection>>();
  /** Web notifications published (each one `p:<participant>` frame). */
  notifications = 0;
  deliver(topic: string, frame: string): void {
    if (frame.startsWith('{"t":"notification"')) this.notifications++;
    const set = this.subscribers.get(topic);
    if (set) for (const c of set) c.send(frame);
  }
}

/** One chat session: times its acks against the scheduled send times. */
class ChatConnection implements Connection {
  constructor(
    private readonly topics: Topics,
    private readonly onAck: (re: string) => void,
  ) {}
  send(frame: string): boolean {
    if (frame.startsWith('{"t":"ack"')) this.onAck((JSON.parse(frame) as { re: string }).re);
    else if (frame.startsWith('{"t":"error"')) console.error('chat error frame', frame);
    return true;
  }
  sendAfterPublished(frame: string): void {
    this.send(frame);
  }
  bufferedAmount(): number {
    return 0;
  }
  subscribe(topic: string): void {
    let set = this.topics.subscribers.get(topic);
    if (!set) this.topics.subscribers.set(topic, (set = new Set()));
    set.add(this);
  }
  unsubscribe(topic: string): void {
    this.topics.subscribers.get(topic)?.delete(this);
  }
  close(): void {}
}

/** Deliveries as the deliverer counts them once an event is committed. */
class DeliveryCount {
  readonly byKind = new Map<string, number>();
  add(transport: PersonalTransport, outcome: string): void {
    const k = `${transport} ${outcome}`;
    this.byKind.set(k, (this.byKind.get(k) ?? 0) + 1);
  }
  get(transport: PersonalTransport, outcome: string): number {
    return this.byKind.get(`${transport} ${outcome}`) ?? 0;
  }
  get delivered(): number {
    let n = 0;
    for (const [k, v] of this.byKind) if (!k.endsWith('skipped')) n += v;
    return n;
  }
}

const user = (i: number) => `u${i % USERS}`;

/** Two languages, OTOBO tags in subject and body; every fourth definition writes HTML. */
function messages(d: number): DefinitionInput['messages'] {
  const html = d % 4 === 3;
  const en = html
    ? '<p>Hello &lt;OTOBO_NOTIFICATION_RECIPIENT_UserFirstname&gt;,</p><p>ticket <OTOBO_TICKET_TicketNumber> (<OTOBO_TICKET_Title[30]>) is <OTOBO_TICKET_State>, priority <OTOBO_TICKET_Priority>, in <OTOBO_TICKET_Queue>.</p><p>Owner: <OTOBO_OWNER_UserFullname>. Product: <OTOBO_TICKET_DynamicField_Product>.</p><blockquote><OTOBO_CUSTOMER_BODY[4]></blockquote><p><a href="<OTOBO_CONFIG_HttpType>://<OTOBO_CONFIG_FQDN>/<OTOBO_CONFIG_ScriptAlias>index.pl?TicketID=<OTOBO_TICKET_TicketID>">Open it</a></p>'
    : 'Hello <OTOBO_NOTIFICATION_RECIPIENT_UserFirstname>,\n\nticket <OTOBO_TICKET_TicketNumber> (<OTOBO_TICKET_Title[30]>) is <OTOBO_TICKET_State>, priority <OTOBO_TICKET_Priority>, in <OTOBO_TICKET_Queue>.\nOwner: <OTOBO_OWNER_UserFullname>, responsible: <OTOBO_RESPONSIBLE_UserFullname>, changed by <OTOBO_CURRENT_UserFullname>.\nProduct: <OTOBO_TICKET_DynamicField_Product>\n\n<OTOBO_CUSTOMER_BODY[4]>\n\n<OTOBO_CONFIG_HttpType>://<OTOBO_CONFIG_FQDN>/<OTOBO_CONFIG_ScriptAlias>index.pl?TicketID=<OTOBO_TICKET_TicketID>';
  const de = en.replace('Hello', 'Hallo').replace('ticket', 'Ticket').replace(' is ', ' ist ').replace('Owner', 'Besitzer').replace('Open it', 'Öffnen');
  const contentType = html ? ('text/html' as const) : ('text/plain' as const);
  return {
    en: { subject: `[<OTOBO_CONFIG_Ticket::Hook><OTOBO_TICKET_TicketNumber>] <OTOBO_TICKET_Title[40]> (${d})`, body: en, contentType },
    de: { subject: `[<OTOBO_CONFIG_Ticket::Hook><OTOBO_TICKET_TicketNumber>] <OTOBO_TICKET_Title[40]> – Änderung (${d})`, body: de, contentType },
  };
}

/**
 * Definition d listens to one of five event types. The first of each type has no filter and tells the
 * item's queue (AgentMyQueues: five users) by email and web, so every event reaches five people at
 * least; the other 19 of each type each match about one event in eight to ten through their filters.
 */
function definition(d: number): DefinitionInput {
  const type = EVENT_TYPES[d % EVENT_TYPES.length]!;
  const j = Math.floor(d / EVENT_TYPES.length);
  const base = { name: `bench ${d} ${type}`, events: [type], messages: messages(d) };
  const both = { email: { enabled: true }, web: { enabled: true } };
  if (j === 0) return { ...base, recipients: { relations: ['AgentMyQueues'] }, transports: both };
  if (load === 'floor') {
    return { ...base, filter: { queue: [`no-such-queue-${j}`] }, recipients: { relations: ['AgentOwner', 'AgentResponsible', 'AgentWatcher'] }, transports: both };
  }
  switch (j % 4) {
    case 0:
      return {
        ...base,
        filter: { status: [STATUSES[j % 3]!], priority: [PRIORITIES[j % 5]!, PRIORITIES[(j + 2) % 5]!] },
        recipients: { relations: ['AgentOwner', 'AgentResponsible'] },
        transports: both,
      };
    case 1:
      return {
        ...base,
        filter: { queue: Array.from({ length: QUEUES }, (_, q) => `Q${q}`).filter((_, q) => q % 10 === j % 10) },
        recipients: { relations: ['AgentWatcher'] },
        transports: { email: { enabled: true } },
      };
    case 2:
      return {
        ...base,
        filter: { fields: { Product: [PRODUCTS[j % 3]!] }, priority: ['4 high', '5 very high'] },
        recipients: { relations: ['AgentOwner'], groups: [`oncall-${(j * 7) % ONCALL_GROUPS}`] },
        transports: { web: { enabled: true } },
      };
    default:
      return {
        ...base,
        filter: { status: [STATUSES[j % 3]!, STATUSES[(j + 1) % 3]!], priority: [PRIORITIES[j % 5]!] },
        ...(type === 'ArticleCreate' ? { articleFilter: { visibleForCustomer: true } } : {}),
        recipients: { relations: ['AgentResponsible'], groups: [`oncall-${(j * 11 + 1) % ONCALL_GROUPS}`] },
        transports: both,
      };
  }
}

/** Item k: its queue's five users, an owner, a responsible and two followers; the rest random. */
function item(k: number, r: () => number): ItemPut {
  return {
    kind: 'ticket',
    title: `Printer on floor ${k % 7} prints only blank pages after the update ${k}`,
    number: String(2026120710000000 + k),
    status: pick(STATUSES, r),
    priority: pick(PRIORITIES, r),
    queue: `Q${k % QUEUES}`,
    ownerId: user(k * 3 + 1),
    responsibleId: user(k * 3 + 2),
    followers: [user(k * 7 + 11), user(k * 7 + 12)],
    fields: { Product: pick(PRODUCTS, r) },
  };
}

/** Event n: an item snapshot with one attribute changed, or (ArticleCreate) an article. */
function event(id: string, n: number, items: ItemPut[], r: () => number): EventPost {
  const k = Math.floor(r() * items.length);
  const type = EVENT_TYPES[n % EVENT_TYPES.length]!;
  const itemId = `i${k}`;
  const randomActor = user(Math.floor(r() * USERS));
  // The floor load: the actor works in another queue than the item's (after this event), so that
  // all five of that queue hear of it.
  const actorOf = (item: ItemPut) => (load === 'floor' ? user(Number(item.queue!.slice(1)) + 1) : randomActor);
  if (type === 'ArticleCreate') {
    const customerSide = r() < 0.5;
    return {
      id,
      type,
      actorId: actorOf(items[k]!),
      itemId,
      article: {
        senderKind: customerSide ? 'customer' : 'user',
        channel: 'email',
        visibleForCustomer: customerSide || r() < 0.5,
        from: 'Customer <customer@example.org>',
        to: ['support@example.com'],
        subject: `Re: ticket ${k}`,
        body: 'Hello,\n\nthe printer still prints blank pages.\nI restarted it twice.\nThe toner is new.\n\nRegards,\nA customer',
      },
    };
  }
  const it = { ...items[k]! };
  if (type === 'TicketQueueUpdate') it.queue = `Q${Math.floor(r() * QUEUES)}`;
  else if (type === 'TicketStateUpdate') it.status = pick(STATUSES, r);
  else if (type === 'TicketPriorityUpdate') it.priority = pick(PRIORITIES, r);
  else it.fields = { Product: pick(PRODUCTS, r) };
  items[k] = it;
  return { id, type, actorId: actorOf(it), itemId, item: it };
}

interface Hub {
  parley: Parley;
  dir: string;
  mailer: InstantMailer;
  topics: Topics;
  count: DeliveryCount;
  items: ItemPut[];
  secret: string;
}

async function setUp(): Promise<Hub> {
  const dir = mkdtempSync(join(tmpdir(), 'parley-bench-notify-'));
  const secret = 's'.repeat(32);
  const config = loadConfig({
    PARLEY_DATA_DIR: dir,
    PARLEY_API_KEY: 'bench-api-key-0123456789',
    PARLEY_JWT_SECRET: secret,
    PARLEY_APP_URL: 'https://support.example.com',
    PARLEY_RATE_SEND_PER_S: '100000',
    PARLEY_RATE_SEND_BURST: '100000',
    PARLEY_ESCALATION_DELAY_MS: '3600000',
  });
  const mailer = new InstantMailer();
  const topics = new Topics();
  const count = new DeliveryCount();
  const metrics = { ...NULL_METRICS, notificationDelivery: (t: PersonalTransport, o: string) => count.add(t, o) };
  const parley = await createParley(config, { logger: quiet, metrics, mailer, bus: new MemoryBus((topic, frame) => topics.deliver(topic, frame)) });
  const { directoryApi: api } = parley;
  for (let i = 0; i < USERS; i++) {
    await api.putParticipant(`u${i}`, {
      kind: 'user',
      name: `${i % 2 ? 'Jana' : 'John'} Agent${i}`,
      email: `u${i}@example.com`,
      locale: i % 2 ? 'de' : 'en',
      queues: [`Q${i % QUEUES}`],
      groups: [`team-${i % 10}`, { id: `oncall-${i % ONCALL_GROUPS}`, permission: 'ro' }],
    });
  }
  for (let q = 0; q < QUEUES; q++) await api.putQueue(`Q${q}`, `team-${q % 10}`);
  const r = prng(1);
  const items: ItemPut[] = [];
  for (let k = 0; k < ITEMS; k++) {
    items.push(item(k, r));
    await api.putItem(`i${k}`, items[k]!);
  }
  for (let d = 0; d < DEFINITIONS; d++) await parley.definitions.create(definition(d));
  const h = { parley, dir, mailer, topics, count, items, secret };
  // The built-in assignment emails of the new items (hub-raised events) go out before anything is timed.
  for (let last = -1; last !== count.delivered; ) {
    last = count.delivered;
    await sleep(200);
    await drained(h);
  }
  return h;
}

/** Until every email the committed events queued has reached the mailer. */
async function drained(h: Hub, timeoutMs = 120_000): Promise<void> {
  const t0 = performance.now();
  for (;;) {
    if (h.mailer.sent >= h.count.get('email', 'queued') && (await h.parley.store.nextEmailAttemptAt()) === null) return;
    if (performance.now() - t0 > timeoutMs) throw new Error(`outbox not drained: ${h.mailer.sent} of ${h.count.get('email', 'queued')} sent`);
    await sleep(5);
  }
}

interface Posted {
  ids: string[];
  answered: number;
  seconds: number;
  /** The main thread's CPU seconds over the same span. */
  cpuSeconds: number;
  deliveries: number;
}

/**
 * CPU seconds the main thread (the event loop chat and the rules share) has used: /proc's utime +
 * stime of the thread whose id is the process's. Unlike wall time it does not count what other
 * processes on a busy machine take, and unlike process.cpuUsage() it leaves out the email composer's
 * thread and the checkpointer.
 */
function mainThreadCpuSeconds(): number {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}

/** Post `n` events at once; resolves when every post has. */
async function burst(h: Hub, prefix: string, n: number, seed: number): Promise<Posted> {
  const r = prng(seed);
  const bodies = Array.from({ length: n }, (_, i) => event(`${prefix}${i}`, i, h.items, r));
  const t0 = performance.now();
  const cpu0 = mainThreadCpuSeconds();
  const answers = await Promise.all(bodies.map((b) => h.parley.notifier.post(b)));
  const seconds = (performance.now() - t0) / 1000;
  const cpuSeconds = mainThreadCpuSeconds() - cpu0;
  return {
    cpuSeconds,
    ids: bodies.map((b) => b.id),
    answered: answers.filter((a) => a.created).length,
    seconds,
    deliveries: answers.reduce((s, a) => s + a.body.deliveries, 0),
  };
}

interface Audited {
  events: number;
  records: number;
  delivered: number;
  recipients: number;
  minRecipients: number;
  emailsNotSent: number;
}

/** GET /v1/events/{id} for every event: what the audit shows (after the outbox drained). */
async function audit(h: Hub, ids: readonly string[]): Promise<Audited> {
  const out: Audited = { events: 0, records: 0, delivered: 0, recipients: 0, minRecipients: Infinity, emailsNotSent: 0 };
  for (const id of ids) {
    const e = await h.parley.notifier.audit(id);
    out.events++;
    out.records += e.deliveries.length;
    const who = new Set<string>();
    for (const d of e.deliveries) {
      if (d.status === 'skipped') continue;
      out.delivered++;
      who.add(d.participantId ?? d.address ?? '');
      if (d.transport === 'email' && d.status !== 'sent') out.emailsNotSent++;
    }
    out.recipients += who.size;
    out.minRecipients = Math.min(out.minRecipients, who.size);
  }
  return out;
}

interface Run {
  eventsPerS: number;
  /** Main-thread CPU ms per event in the storm: 1,000 ÷ it is the rate the event loop could carry. */
  cpuMsPerEvent: number;
  deliveriesPerS: number;
  emailsPerS: number;
  recipientsPerEvent: number;
  minRecipients: number;
  deliveriesPerEvent: number;
  emailsPerEvent: number;
  skippedPerEvent: number;
  chatBase: { p50: number; p99: number; n: number };
  chatBurst: { p50: number; p99: number; n: number };
  burstEventsPerS: number;
  lossless: boolean;
  lossNote: string;
}

function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

async function once(run: number): Promise<Run> {
  const h = await setUp();
  const { parley, mailer, count } = h;

  // (1) Events/s: the storm alone.
  const delivered0 = count.delivered;
  const emails0 = count.get('email', 'queued');
  const skipped0 = count.get('email', 'skipped') + count.get('web', 'skipped');
  const sent0 = mailer.sent;
  console.error(`run ${run + 1}: set up`);
  const t0 = performance.now();
  const storm = await burst(h, `e${run}-`, EVENTS, 7);
  console.error(`run ${run + 1}: storm ${f1(storm.seconds)} s`);
  await drained(h);
  const drainSeconds = (performance.now() - t0) / 1000;
  const stormEmailsSent = mailer.sent - sent0;
  const delivered = count.delivered - delivered0;
  const emails = count.get('email', 'queued') - emails0;
  const skipped = count.get('email', 'skipped') + count.get('web', 'skipped') - skipped0;
  const seen = await audit(h, storm.ids);
  if (storm.answered !== EVENTS || seen.delivered !== delivered) throw new Error(`storm: ${storm.answered} answered, ${seen.delivered} delivered in the audit against ${delivered} counted`);

  // (2) Chat: 20 pairs at a fixed rate, a baseline window, then the same during a burst.
  const tokens = new JoseTokens({ secret: h.secret });
  const scheduled = new Map<string, number>();
  const latencies: Array<{ at: number; ms: number }> = [];
  const onAck = (re: string) => {
    const at = scheduled.get(re);
    if (at === undefined) return;
    scheduled.delete(re);
    latencies.push({ at, ms: performance.now() - at });
  };
  const sessions: Session[] = [];
  for (let i = 0; i < CHAT_PAIRS * 2; i++) {
    const s = parley.hub.accept(new ChatConnection(h.topics, onAck));
    parley.hub.receive(s, decodeClientFrame(JSON.stringify({ t: 'hello', v: 1, token: (await tokens.sign(`u${i}`, 7200)).token })));
    sessions.push(s);
  }
  for (let waited = 0; sessions.some((s) => s.phase !== 'open'); waited += 10) {
    if (waited > 30_000) throw new Error('chat sessions did not open');
    await sleep(10);
  }
  const conversations: string[] = [];
  for (let p = 0; p < CHAT_PAIRS; p++) conversations.push((await parley.api.createConversation({ kind: 'direct', createdBy: `u${2 * p}`, members: [`u${2 * p + 1}`] })).id);
  await sleep(100);

  let chatOn = true;
  const chatStart = performance.now();
  const chat = (async () => {
    // Ticks of CHAT_TICK_MS, each due at its own time; a late turn sends every tick it missed, each
    // message timed from its tick's due time (a blocked loop counts in full: no coordinated omission).
    let sent = 0;
    for (let tick = 0; chatOn; ) {
      for (; chatStart + tick * CHAT_TICK_MS <= performance.now(); tick++) {
        const dueAt = chatStart + tick * CHAT_TICK_MS;
        for (const end = Math.floor(((tick + 1) * CHAT_TICK_MS * CHAT_RATE) / 1000); sent < end; sent++) {
          const pair = sent % CHAT_PAIRS;
          const from = 2 * pair + (Math.floor(sent / CHAT_PAIRS) % 2);
          const id = `c${sent}`;
          scheduled.set(id, dueAt);
          parley.hub.receive(sessions[from]!, decodeClientFrame(`{"t":"send","id":"${id}","conversationId":"${conversations[pair]}","clientMsgId":"m${sent}","body":"message ${sent} from the chat load"}`));
        }
      }
      await sleep(Math.max(0, chatStart + tick * CHAT_TICK_MS - performance.now()));
    }
    return sent;
  })();
  await sleep(BASELINE_MS);
  const burstStart = performance.now();
  const emailsBefore = count.get('email', 'queued');
  const webBefore = count.get('web', 'sent');
  const notificationsBefore = h.topics.notifications;
  const sentBefore = mailer.sent;
  const storm2 = await burst(h, `b${run}-`, EVENTS, 11);
  const burstEnd = performance.now();
  chatOn = false;
  const chatSent = await chat;
  for (let waited = 0; scheduled.size > 0 && waited < 10_000; waited += 10) await sleep(10);
  await drained(h);
  const inWindow = (a: number, b: number) => latencies.filter((l) => l.at >= a && l.at < b).map((l) => l.ms);
  const base = inWindow(chatStart + 500, burstStart);
  const during = inWindow(burstStart, burstEnd);

  // Loses nothing: every post answered, every event GET-able with what it answered, every email sent,
  // every web notification pushed.
  const after = await audit(h, storm2.ids);
  const emailsQueued = count.get('email', 'queued') - emailsBefore;
  const webSent = count.get('web', 'sent') - webBefore;
  const checks: Array<[boolean, string]> = [
    [storm2.answered === EVENTS, `${storm2.answered} of ${EVENTS} posts answered`],
    [after.events === EVENTS, `${after.events} of ${EVENTS} events GET-able`],
    [after.records === storm2.deliveries, `${after.records} deliveries in the audit, ${storm2.deliveries} answered`],
    [mailer.sent - sentBefore === emailsQueued && after.emailsNotSent === 0, `${mailer.sent - sentBefore} emails sent of ${emailsQueued} queued`],
    [h.topics.notifications - notificationsBefore === webSent, `${h.topics.notifications - notificationsBefore} web notifications pushed of ${webSent}`],
    [scheduled.size === 0, `${chatSent - scheduled.size} of ${chatSent} chat messages acked`],
  ];
  const failed = checks.filter(([ok]) => !ok).map(([, note]) => note);

  await parley.stop();
  rmSync(h.dir, { recursive: true, force: true });
  return {
    eventsPerS: EVENTS / storm.seconds,
    cpuMsPerEvent: (storm.cpuSeconds * 1000) / EVENTS,
    deliveriesPerS: delivered / storm.seconds,
    emailsPerS: stormEmailsSent / drainSeconds,
    recipientsPerEvent: seen.recipients / seen.events,
    minRecipients: seen.minRecipients,
    deliveriesPerEvent: delivered / EVENTS,
    emailsPerEvent: emails / EVENTS,
    skippedPerEvent: skipped / EVENTS,
    chatBase: { p50: percentile(base, 50), p99: percentile(base, 99), n: base.length },
    chatBurst: { p50: percentile(during, 50), p99: percentile(during, 99), n: during.length },
    burstEventsPerS: EVENTS / storm2.seconds,
    lossless: failed.length === 0,
    lossNote: failed.length === 0
      ? `all ${EVENTS.toLocaleString('en')} events of the burst GET-able with the ${after.records.toLocaleString('en')} deliveries they answered; ${emailsQueued.toLocaleString('en')} emails sent, ${webSent.toLocaleString('en')} web notifications pushed, ${chatSent.toLocaleString('en')} chat messages acked`
      : failed.join('; '),
  };
}

/** Wall-clock time plus an offset that only grows (real Node timers): the reminder storm jumps to its minute. */
class JumpClock implements Clock {
  offset = 0;
  now(): number {
    return Date.now() + this.offset;
  }
  setTimer(ms: number, fn: () => void): TimerHandle {
    const t = setTimeout(fn, ms);
    t.unref();
    return t as unknown as TimerHandle;
  }
  clearTimer(handle: TimerHandle): void {
    clearTimeout(handle as unknown as NodeJS.Timeout);
  }
  jumpTo(at: number): void {
    this.offset = Math.max(this.offset, at - Date.now());
  }
}

interface Storm {
  appointments: number;
  setupSeconds: number;
  fired: number;
  duplicates: number;
  seconds: number;
  remindersPerS: number;
  peakRssMb: number;
  peakHeapMb: number;
  rssBeforeMb: number;
  ok: boolean;
  note: string;
}

/**
 * The reminder storm: STORM appointments in one calendar (group of STORM_USERS users), reminders spread
 * over one minute an hour ahead; the clock jumps to the minute's end and every reminder falls due at
 * once. Timed until every reminder's event is committed (its deliveries counted), then checked in the
 * database: one AppointmentNotification per appointment, no second one for any.
 */
async function reminderStorm(): Promise<Storm> {
  const dir = mkdtempSync(join(tmpdir(), 'parley-bench-reminders-'));
  const clock = new JumpClock();
  const config = loadConfig({
    PARLEY_DATA_DIR: dir,
    PARLEY_API_KEY: 'bench-api-key-0123456789',
    PARLEY_JWT_SECRET: 's'.repeat(32),
    PARLEY_APP_URL: 'https://support.example.com',
  });
  const mailer = new InstantMailer();
  const topics = new Topics();
  const count = new DeliveryCount();
  const metrics = { ...NULL_METRICS, notificationDelivery: (t: PersonalTransport, o: string) => count.add(t, o) };
  const parley = await createParley(config, { logger: quiet, clock, metrics, mailer, bus: new MemoryBus((topic, frame) => topics.deliver(topic, frame)) });
  let peakRss = 0;
  let peakHeap = 0;
  const sample = () => {
    const m = process.memoryUsage();
    peakRss = Math.max(peakRss, m.rss);
    peakHeap = Math.max(peakHeap, m.heapUsed);
  };
  global.gc?.();
  const rssBefore = process.memoryUsage().rss;
  const sampler = setInterval(sample, 100);
  try {
    for (let i = 0; i < STORM_USERS; i++) {
      await parley.directoryApi.putParticipant(`cal-u${i}`, {
        kind: 'user',
        name: `Calendar Agent${i}`,
        email: `cal-u${i}@example.com`,
        locale: i % 2 ? 'de' : 'en',
        groups: ['calendar-team'],
      });
    }
    await parley.appointments.putCalendar('bench-calendar', { name: 'Bench calendar', groupId: 'calendar-team' });
    const text = (lang: string) =>
      `${lang === 'de' ? 'Erinnerung' : 'Reminder'}: <OTOBO_APPOINTMENT_TITLE>\n<OTOBO_APPOINTMENT_STARTTIME> – <OTOBO_APPOINTMENT_ENDTIME>\n<OTOBO_APPOINTMENT_LOCATION>`;
    await parley.definitions.create({
      name: 'bench reminder',
      type: 'appointment',
      events: ['AppointmentNotification'],
      messages: {
        en: { subject: 'Reminder: <OTOBO_APPOINTMENT_TITLE>', body: text('en'), contentType: 'text/plain' },
        de: { subject: 'Erinnerung: <OTOBO_APPOINTMENT_TITLE>', body: text('de'), contentType: 'text/plain' },
      },
      recipients: { relations: ['AppointmentAgentReadPermissions'] },
      transports: { email: { enabled: true }, web: { enabled: true } },
    } as DefinitionInput);
    for (const type of ['AppointmentCreate', 'AppointmentUpdate']) {
      const n = parley.definitions.forEvent(type).length;
      if (n !== 0) throw new Error(`${n} definitions listen to ${type}: the storm's setup would notify`);
    }
    if (parley.definitions.forEvent('AppointmentNotification').length !== 1) throw new Error('one definition must listen to AppointmentNotification');

    // Every reminder inside one minute an hour ahead (distinct milliseconds), far enough for the setup.
    const minute = Math.floor(clock.now() / 60_000) * 60_000 + 3_600_000;
    const reminderAt = (i: number) => minute + Math.floor((i * 60_000) / STORM);
    const s0 = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: STORM_CONCURRENCY }, async () => {
        for (let i = next++; i < STORM; i = next++) {
          const startAt = minute + 900_000 + (i % 96) * 900_000;
          await parley.appointments.putAppointment(`ap${i}`, {
            calendarId: 'bench-calendar',
            title: `Bench appointment ${i}`,
            location: `Room ${i % 40}`,
            startAt,
            endAt: startAt + 1_800_000,
            reminderAt: reminderAt(i),
          });
        }
      }),
    );
    const setupSeconds = (performance.now() - s0) / 1000;
    console.error(`reminder storm: ${f0(STORM)} appointments created in ${f1(setupSeconds)} s`);
    await drained({ parley, mailer, count } as Hub);
    const deliveries0 = count.delivered;
    if (deliveries0 !== 0) throw new Error(`setup delivered ${deliveries0} notifications`);

    // The minute passes in one step: every reminder is due at the next turn of the wheel (250 ms).
    const expected = STORM * STORM_USERS;
    const t0 = performance.now();
    clock.jumpTo(minute + 60_000);
    let last = 0;
    let lastAt = t0;
    for (;;) {
      const done = Math.min(count.get('web', 'sent'), count.get('email', 'queued'));
      if (done >= expected) break;
      if (done !== last) (last = done), (lastAt = performance.now());
      if (performance.now() - lastAt > 60_000) break;
      await sleep(10);
    }
    const seconds = (performance.now() - t0) / 1000;
    sample();
    console.error(`reminder storm: ${f0(Math.min(count.get('web', 'sent'), count.get('email', 'queued')) / STORM_USERS)} reminders in ${f1(seconds)} s`);
    // Anything late (a second firing) would show here.
    await sleep(1000);

    const db = new Database(join(dir, 'parley.db'), { readonly: true, fileMustExist: true });
    const rows = db.prepare("SELECT id FROM notification_events WHERE type = 'AppointmentNotification'").pluck().all() as string[];
    db.close();
    const appointmentsReminded = new Set(rows.map((id) => id.slice('reminder:'.length, id.lastIndexOf(':'))));
    const web = count.get('web', 'sent');
    const emails = count.get('email', 'queued');
    const extraDeliveries = Math.max(0, web - expected, emails - expected);
    const duplicates = rows.length - appointmentsReminded.size + Math.ceil(extraDeliveries / STORM_USERS);
    const checks: Array<[boolean, string]> = [
      [rows.length === STORM && appointmentsReminded.size === STORM, `${f0(rows.length)} AppointmentNotification events for ${f0(appointmentsReminded.size)} of ${f0(STORM)} appointments`],
      [web === expected && emails === expected, `${f0(web)} web and ${f0(emails)} email deliveries of ${f0(expected)} each`],
      [duplicates === 0, `${duplicates} duplicates`],
    ];
    const failed = checks.filter(([ok]) => !ok).map(([, note]) => note);
    return {
      appointments: STORM,
      setupSeconds,
      fired: appointmentsReminded.size,
      duplicates,
      seconds,
      remindersPerS: appointmentsReminded.size / seconds,
      peakRssMb: peakRss / 2 ** 20,
      peakHeapMb: peakHeap / 2 ** 20,
      rssBeforeMb: rssBefore / 2 ** 20,
      ok: failed.length === 0,
      note: failed.length === 0 ? `every one of the ${f0(STORM)} reminders committed once, with ${f0(web)} web and ${f0(emails)} email deliveries` : failed.join('; '),
    };
  } finally {
    clearInterval(sampler);
    await parley.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const f0 = (n: number) => Math.round(n).toLocaleString('en');
const f1 = (n: number) => n.toFixed(1);
const f2 = (n: number) => n.toFixed(2);

const allRuns: Run[] = [];
for (const l of LOADS) {
  load = l;
  const runs: Run[] = [];
  for (let r = 0; r < RUNS; r++) {
    const one = await once(r);
    console.error(
      `${load} load, run ${r + 1}: ${f0(one.eventsPerS)} events/s, ${f1(one.deliveriesPerEvent)} deliveries per event; chat p99 ${f2(one.chatBase.p99)} → ${f2(one.chatBurst.p99)} ms during ${f0(one.burstEventsPerS)} events/s; ${one.lossless ? 'nothing lost' : one.lossNote}`,
    );
    runs.push(one);
  }
  report(runs);
  allRuns.push(...runs);
}

function report(runs: Run[]): void {
  const m = (f: (r: Run) => number) => median(runs.map(f));
  const each = (f: (r: Run) => number, fmt: (n: number) => string) => (RUNS > 1 ? runs.map((r) => fmt(f(r))).join(' · ') : '');
  const eventsPerS = m((r) => r.eventsPerS);
  const met = eventsPerS >= TARGET_EVENTS_PER_S;
  console.log(
    `bench:notify, ${load} load — ${EVENTS.toLocaleString('en')} events posted at once; ${USERS.toLocaleString('en')} users, ${ITEMS} items, ${DEFINITIONS} definitions; chat: ${CHAT_PAIRS} pairs, ${CHAT_RATE} messages/s (${RUNS} run${RUNS > 1 ? 's, medians' : ''}${QUICK ? ', quick' : ''})\n`,
  );
  console.log('| measure | median | runs | target |');
  console.log('|---|---:|---|---|');
  console.log(`| events/s: matched, rendered, committed with outbox rows and web notifications | **${f0(eventsPerS)}** | ${each((r) => r.eventsPerS, f0)} | ≥ ${f0(TARGET_EVENTS_PER_S)}: ${met ? 'met' : 'not met'} |`);
  console.log(
    `| main-thread CPU per event, ms (events/s the event loop can carry: 1,000 ÷ it; not slowed by other processes) | ${f2(m((r) => r.cpuMsPerEvent))} (${f0(1000 / m((r) => r.cpuMsPerEvent))}) | ${each((r) => r.cpuMsPerEvent, f2)} | |`,
  );
  console.log(`| deliveries/s (email queued + web sent) | ${f0(m((r) => r.deliveriesPerS))} | ${each((r) => r.deliveriesPerS, f0)} | |`);
  console.log(`| recipients per event (average; fewest) | ${f1(m((r) => r.recipientsPerEvent))}; ${m((r) => r.minRecipients)} | | ≥ 5 |`);
  console.log(`| deliveries per event (of them emails; skipped beside) | ${f1(m((r) => r.deliveriesPerEvent))} (${f1(m((r) => r.emailsPerEvent))}); ${f2(m((r) => r.skippedPerEvent))} | | |`);
  console.log(`| emails/s through the outbox until all sent | ${f0(m((r) => r.emailsPerS))} | ${each((r) => r.emailsPerS, f0)} | |`);
  console.log(`| chat send → ack without events, p50 / p99 ms | ${f2(m((r) => r.chatBase.p50))} / ${f2(m((r) => r.chatBase.p99))} | ${each((r) => r.chatBase.p99, f2)} | |`);
  console.log(`| chat send → ack during the burst, p50 / p99 ms | ${f2(m((r) => r.chatBurst.p50))} / **${f2(m((r) => r.chatBurst.p99))}** | ${each((r) => r.chatBurst.p99, f2)} | |`);
  console.log(`| events/s of that burst (chat running) | ${f0(m((r) => r.burstEventsPerS))} | ${each((r) => r.burstEventsPerS, f0)} | |`);
  console.log(`| every event of the burst processed | ${runs.every((r) => r.lossless) ? 'yes' : '**no**'} | ${RUNS > 1 ? runs.map((r) => (r.lossless ? 'yes' : 'no')).join(' · ') : ''} | loses nothing |`);
  console.log('');
  for (const [i, r] of runs.entries()) console.log(`Run ${i + 1}: ${r.lossNote}.`);
  console.log('');
}

const storm = await reminderStorm();
console.log(
  `\nReminder storm — ${f0(storm.appointments)} appointments in one calendar (${STORM_USERS} users in its group; created in ${f1(storm.setupSeconds)} s, ${STORM_CONCURRENCY} at a time), every reminder due inside one minute, the clock jumped to its end; email + web each\n`,
);
console.log('| appointments | reminders fired | duplicates | seconds to fire all | reminders/s | peak RSS MB (heap) |');
console.log('|---:|---:|---:|---:|---:|---:|');
console.log(`| ${f0(storm.appointments)} | ${f0(storm.fired)} | ${storm.duplicates} | ${f1(storm.seconds)} | ${f0(storm.remindersPerS)} | ${f0(storm.peakRssMb)} (${f0(storm.peakHeapMb)}) |`);
console.log('');
console.log(`Reminder storm: ${storm.note}; RSS before the hub ${f0(storm.rssBeforeMb)} MB.`);
process.exit(allRuns.every((r) => r.lossless) && storm.ok ? 0 : 1);
