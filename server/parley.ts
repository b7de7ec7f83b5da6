import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Config } from './config.js';
import { Escalation, type EscalationMetrics } from './core/escalation/escalation.js';
import { InProcessEvents } from './core/events.js';
import { HostApi } from './core/host-api.js';
import { HostDirectory } from './core/host-directory.js';
import { Hub } from './core/hub.js';
import { DEFAULT_RETRY, OutboxWorker, type OutboxMetrics } from './core/outbox/outbox-worker.js';
import type { Bus, Clock, EventBus, Logger, Mailer, Metrics, PresenceStore, Store, TimerOwnership } from './core/ports/index.js';
import { MemoryBus } from './adapters/memory/bus.js';
import { MemoryPresence } from './adapters/memory/presence.js';
import { SingleHubOwnership } from './adapters/memory/ownership.js';
import { FileMailer } from './adapters/email/file-mailer.js';
import { ThreadedComposer } from './adapters/email/composer-thread.js';
import { LiquidComposer } from './adapters/email/liquid-composer.js';
import { SmtpMailer } from './adapters/email/smtp-mailer.js';
import { JoseTokens } from './adapters/jwt/jose-tokens.js';
import { PromMetrics } from './adapters/prom/prom-metrics.js';
import { SqliteStore } from './adapters/sqlite/sqlite-store.js';
import { PostgresStore } from './adapters/postgres/postgres-store.js';
import { SystemClock } from './adapters/system/system-clock.js';
import { createSmsSender } from './adapters/sms/index.js';
import { emailSecurity as lazyEmailSecurity } from './adapters/email-security/lazy.js';
import { Broadcasts } from './core/notifications/broadcasts.js';
import { Appointments } from './core/notifications/appointments.js';
import { Definitions } from './core/notifications/definitions.js';
import { Deliverer, type NotificationMetrics } from './core/notifications/deliverer.js';
import { Notifier } from './core/notifications/notifier.js';
import { DefinitionChoices } from './core/notifications/choices.js';
import { NotificationPreview } from './core/notifications/preview.js';
import { UnseenTimers } from './core/notifications/unseen-timers.js';
import { PostalReader } from './adapters/email-in/postal-reader.js';
import { HmacReplyAddresses } from './adapters/email-in/reply-addresses.js';
import { Bounces } from './core/inbound/bounces.js';
import { InboundMail, type InboundMetrics } from './core/inbound/inbound-mail.js';
import { HttpRouter } from './transport/http.js';
import { registerAdminRoutes } from './transport/admin-routes.js';
import { registerBroadcastRoutes } from './transport/broadcast-routes.js';
import { registerInboundRoutes } from './transport/inbound-routes.js';
import { registerNotificationRoutes } from './transport/notification-routes.js';
import { registerSystemEmailRoutes } from './transport/system-email-routes.js';
import { SystemEmails } from './core/system-emails/system-emails.js';
import { registerCustomerRoutes, registerHostRoutes, registerOpsRoutes, registerUnsubscribeRoutes } from './transport/routes.js';
import { registerStaticRoutes } from './transport/static.js';
import { UwsTransport } from './transport/uws-transport.js';
import { createCluster, type ClusterAdapters } from './cluster.js';

export type ParleyMetrics = Metrics & EscalationMetrics & OutboxMetrics & NotificationMetrics & InboundMetrics;

/** The inbound log keeps every email this long, raw included (SPEC §4: 72 h). */
const INBOUND_RETENTION_MS = 72 * 3_600_000;

const noop = (): void => {};
/** Metrics that count nothing: benchmarks and tests that measure otherwise (spread and override what you count). */
export const NULL_METRICS: ParleyMetrics = {
  connectionOpened: noop,
  connectionClosed: noop,
  frameIn: noop,
  frameOut: noop,
  messageStored: noop,
  deliveries: noop,
  commitBatch: noop,
  error: noop,
  rateLimited: noop,
  timerArmed: noop,
  timerFired: noop,
  emailQueued: noop,
  pendingTimers: noop,
  emailSent: noop,
  emailFailed: noop,
  emailRetried: noop,
  notificationDelivery: noop,
  inboundEmail: noop,
};

/** What `createParley` is given besides the configuration; every one but the logger has a default. */
export interface ParleyAdapters {
  logger: Logger;
  clock?: Clock;
  /** Default: Prometheus metrics, served at /metrics. */
  metrics?: ParleyMetrics;
  /** Default: SMTP at PARLEY_SMTP_URL, else files in the data dir. */
  mailer?: Mailer;
  /**
   * Where frames go. Default: the in-memory Bus over the uWebSockets.js transport, which also serves
   * HTTP. A benchmark or test that drives the hub in process gives its own Bus and gets no transport.
   */
  bus?: Bus;
  /** Who is online. Default: in memory (one hub). */
  presence?: PresenceStore;
  /** Sends the outbox worker makes at once (default 16). */
  outboxConcurrency?: number;
  /**
   * Which timers this hub keeps (DESIGN §8). Default: every one (one hub). Given (several hubs), each
   * timer kind also looks in the store every PARLEY_NODE_TTL_MS for work of its own that another hub
   * committed (server/README.md "Timers across hubs").
   */
  ownership?: TimerOwnership;
}

export interface Parley {
  hub: Hub;
  /** What happened in core (core/ports/events.ts). */
  events: EventBus;
  api: HostApi;
  /** Participants and preferences, projects, items, queues: the host-owned directory (SPEC §4). */
  directoryApi: HostDirectory;
  /** SQLite in the data dir, or PostgreSQL with PARLEY_DATABASE_URL (SPEC §9). */
  store: Store;
  escalation: Escalation;
  outbox: OutboxWorker;
  inbound: InboundMail;
  /** Notification rules (NOTIFICATIONS.md): events in, deliveries out. */
  notifier: Notifier;
  definitions: Definitions;
  /** Calendars and appointments, with one persisted reminder per appointment. */
  appointments: Appointments;
  metrics: ParleyMetrics;
  /** Null when the adapters gave their own Bus. */
  transport: UwsTransport | null;
  /** Listen on the configured host and port; resolves the port. */
  listen(): Promise<number>;
  /** Stop accepting, close every session with 1001, stop the timers and workers, close storage and mail. */
  stop(): Promise<void>;
}

/**
 * The one assembly of a hub, used by `server/main.ts`, the tests (through it) and every benchmark: the
 * only place that knows every concrete class, so nothing is wired twice.
 */
export async function createParley(config: Config, adapters: ParleyAdapters): Promise<Parley> {
  const { logger } = adapters;
  const clock = adapters.clock ?? new SystemClock();
  const prom = adapters.metrics ? null : new PromMetrics();
  const metrics: ParleyMetrics = adapters.metrics ?? prom!;
  const events = new InProcessEvents(logger);
  // Several hubs share one database: a SQLite file in a data dir is one hub's.
  if (config.redisUrl && !config.databaseUrl) {
    throw new Error('invalid configuration:\n  PARLEY_REDIS_URL needs PARLEY_DATABASE_URL: hubs behind one load balancer share one PostgreSQL database');
  }
  const store: Store = config.databaseUrl
    ? await PostgresStore.open({ url: config.databaseUrl, logger, metrics })
    : new SqliteStore({ file: join(config.dataDir, 'parley.db'), logger, metrics });
  const tokens = new JoseTokens({ secret: config.jwtSecret });
  const transport = adapters.bus ? null : new UwsTransport({ logger, maxFrameBytes: config.maxFrameBytes, maxBackpressureBytes: config.maxBackpressureBytes });
  // Several hubs (PARLEY_REDIS_URL): frames, presence and the live hubs through Redis (server/cluster.ts).
  const cluster: ClusterAdapters | null =
    config.redisUrl && !adapters.bus ? await createCluster({ config, local: (topic, frame) => transport?.deliver(topic, frame), clock, logger, registry: prom?.registry ?? null }) : null;
  // One hub: the in-memory Bus, whose local delivery is the transport's topics.
  const bus = adapters.bus ?? cluster?.bus ?? new MemoryBus((topic, frame) => transport!.deliver(topic, frame));
  if (!cluster) bus.onInbound((topic, frame) => transport?.deliver(topic, frame));
  logger.info('engines', { store: config.databaseUrl ? 'postgresql' : 'sqlite', live: cluster ? 'redis' : 'memory', ...(cluster ? { hub: cluster.hubId } : {}) });
  const hub = new Hub({
    events,
    store,
    bus,
    presence: adapters.presence ?? cluster?.presence ?? new MemoryPresence(),
    clock,
    tokens,
    metrics,
    logger,
    limits: {
      maxFrameBytes: config.maxFrameBytes,
      maxBackpressureBytes: config.maxBackpressureBytes,
      helloTimeoutMs: config.helloTimeoutMs,
      presenceGraceMs: config.presenceGraceMs,
      presenceTtlMs: config.nodeTtlMs,
      ...config.limits,
    },
  });
  await hub.start();
  cluster?.attach({ hub, events, store });
  // Signing and encryption keys (NOTIFICATIONS §3): read and checked now, so a broken file stops the start.
  const emailSecurity = await lazyEmailSecurity(config.emailSecurity);
  const directoryApi = new HostDirectory({ hub, events, store, clock, keys: emailSecurity });
  const composer = new LiquidComposer({ from: config.mailFrom, logger });
  // System emails (NOTIFICATIONS §8), and the escalation texts an admin stored, handed to the composer before any email.
  const systemEmails = new SystemEmails({ store, participant: (id) => hub.directory.participants.get(id), editor: composer, composer, events, clock, logger, defaultLocale: config.defaultLocale, escalationDelayMs: config.escalationDelayMs });
  await systemEmails.start();
  const api = new HostApi({ hub, store, clock, tokens, directoryApi, composer });

  // Email in (SPEC §8): bounced addresses, and with PARLEY_INBOUND_DOMAIN reply and bounce addresses.
  const bounces = new Bounces(store);
  await bounces.load();
  const { inbound: inboundConfig } = config;
  const replyAddresses = inboundConfig.domain ? new HmacReplyAddresses({ domain: inboundConfig.domain, keys: inboundConfig.replyKeys, store, clock }) : null;

  const mailer = adapters.mailer ?? (config.smtpUrl ? new SmtpMailer({ url: config.smtpUrl }) : new FileMailer(join(config.dataDir, 'outbox')));
  // Notification emails are composed on a thread of their own (an event storm's MIME stays off the event loop).
  const outboxComposer = new ThreadedComposer(composer, { from: config.mailFrom, logger });
  const outbox = new OutboxWorker({
    store,
    mailer,
    composer: outboxComposer,
    security: emailSecurity,
    sms: createSmsSender({ url: config.sms?.url, secret: config.sms?.secret, dataDir: config.dataDir }),
    clock,
    logger,
    metrics,
    envelopeFrom: addressOf(config.mailFrom),
    bounceAddress: replyAddresses ? (id) => replyAddresses.bounceAddress(id) : undefined,
    retry: { ...DEFAULT_RETRY, baseDelayMs: config.outboxRetryBaseMs },
    ...(adapters.outboxConcurrency ? { concurrency: adapters.outboxConcurrency } : {}),
  });
  events.subscribe('EmailCommitted', () => outbox.kick());
  // Several hubs: a timer key is the hub's that rendezvous hashing over the live hubs picks (server/cluster.ts).
  const ownership = adapters.ownership ?? cluster?.ownership ?? new SingleHubOwnership();
  const timerRescanMs = adapters.ownership || cluster ? config.nodeTtlMs : undefined;
  const escalation = new Escalation({
    ownership,
    ...(timerRescanMs !== undefined ? { rescanMs: timerRescanMs } : {}),
    events,
    store,
    clock,
    directory: hub.directory,
    composer,
    tokens,
    logger,
    metrics,
    delayMs: config.escalationDelayMs,
    recoveryMs: config.escalationRecoveryMs,
    appUrl: config.appUrl,
    conversationUrl: config.conversationUrl,
    customerUrl: config.customerUrl,
    customerLinkTtlMs: config.customerLinkTtlMs,
    bounces,
    replyAddresses,
  });
  hub.setEmailStatus(escalation);
  await escalation.start();
  const definitions = new Definitions(store, clock);
  const unseenTimers = new UnseenTimers({ store, clock, events, logger, ownership, ...(timerRescanMs !== undefined ? { rescanMs: timerRescanMs } : {}) });
  const deliverer = new Deliverer({
    directory: hub.directory,
    mailDomain: addressOf(config.mailFrom).split('@')[1] ?? 'localhost',
    bus,
    events,
    metrics,
    defaultLocale: config.defaultLocale,
    tagConfig: config.tagConfig,
    tokens,
    appUrl: config.appUrl,
    timersArmed: () => unseenTimers.kick(),
  });
  const notifier = new Notifier({
    store,
    directory: hub.directory,
    definitions,
    deliverer,
    events,
    bus,
    clock,
    logger,
    metrics,
    bounces,
    applyItem: (id, body) => directoryApi.putItem(id, body),
    postToItem: (itemId, visibility, botId, body, clientMsgId) => api.postToItem(itemId, visibility, botId, body, clientMsgId),
  });
  await notifier.start();
  // Several hubs: a definition, a bounce or escalation texts written on one hub are reloaded by the
  // others, and once-per-day marks committed on one are told to the others.
  cluster?.share({ definitions, bounces, systemEmails, notifier });
  const appointments = new Appointments({ store, notifier, definitions, clock, logger, recoveryMs: config.escalationRecoveryMs, ownership, ...(timerRescanMs !== undefined ? { rescanMs: timerRescanMs } : {}) });
  await appointments.start();
  directoryApi.notificationPreferences = { validate: (p, ids) => definitions.validatePreferences(p, ids), view: (stored) => definitions.preferencesOf(stored) };
  events.subscribe('OutboxQueued', () => outbox.kick());
  // The messaging center (NOTIFICATIONS §8): what a definition's form offers, and its dry run through the notifier's own matcher and deliverer.
  const choices = new DefinitionChoices({ directory: hub.directory, definitions, appointments, events, clock, defaultLocale: config.defaultLocale });
  const preview = new NotificationPreview({ directory: hub.directory, definitions, appointments, rules: notifier, deliverer, clock });
  const broadcasts = new Broadcasts({ store, participants: hub.directory.participants, composer, bus, events, clock, logger, tokens, appUrl: config.appUrl, bounces });
  unseenTimers.start();
  outbox.start();
  const inbound = new InboundMail({
    reader: new PostalReader({ maxBytes: inboundConfig.maxBytes }),
    store,
    addresses: replyAddresses,
    // mailauth (35 MB resident) and smtp-server are loaded only when configured.
    senderAuth: inboundConfig.requireDmarc ? new (await import('./adapters/email-in/mailauth-sender-auth.js')).MailauthSenderAuth() : null,
    bounces,
    hub,
    directory: hub.directory,
    createCustomer: (p) => directoryApi.admit(p),
    clock,
    logger,
    metrics,
    maxBytes: inboundConfig.maxBytes,
    supportAddress: inboundConfig.supportAddress,
    ourAddress: addressOf(config.mailFrom).toLowerCase(),
    ourDomain: addressOf(config.mailFrom).split('@')[1]?.toLowerCase() ?? 'localhost',
  });
  const smtp =
    inboundConfig.smtpPort !== null
      ? new (await import('./adapters/email-in/smtp-listener.js')).SmtpListener({
          host: config.host,
          port: inboundConfig.smtpPort,
          maxBytes: inboundConfig.maxBytes,
          logger,
          tls: inboundConfig.tls ? { key: readFileSync(inboundConfig.tls.keyFile, 'utf8'), cert: readFileSync(inboundConfig.tls.certFile, 'utf8') } : null,
          acceptRecipient: (a) => inbound.accepts(a),
          deliver: async (raw, envelope) => void (await inbound.receive(raw, envelope)),
        })
      : null;
  if (smtp) logger.info('inbound smtp listening', { port: await smtp.listen() });
  const prune = () =>
    void store
      .pruneEmails(clock.now() - config.outboxRetentionMs)
      .then((n) => n && logger.info('outbox pruned', { deleted: n }))
      .then(() => store.pruneInbound(clock.now() - INBOUND_RETENTION_MS))
      .then((n) => n && logger.info('inbound log pruned', { deleted: n }))
      .catch((e: unknown) => logger.error('outbox prune failed', { error: String(e) }));
  prune();
  const pruner = setInterval(prune, 3_600_000);
  pruner.unref();

  if (transport) {
    transport.attachHub(hub, bus);
    const router = new HttpRouter(transport.app, {
      apiKey: config.apiKey,
      logger,
      adminToken: (t) => api.adminToken(t),
      // Several hubs: an id the host wrote through another hub a moment ago is looked for before a 404.
      ...(cluster ? { catchUp: () => cluster.catchUp() } : {}),
    });
    registerHostRoutes(router, api, directoryApi);
    registerInboundRoutes(router, { inbound, store, maxBytes: inboundConfig.maxBytes });
    registerAdminRoutes(router, { choices, preview });
    registerNotificationRoutes(router, { directoryApi, notifier, definitions, appointments });
    registerSystemEmailRoutes(router, { systemEmails });
    registerBroadcastRoutes(router, { broadcasts });
    registerUnsubscribeRoutes(router, api, { frameAncestors: config.frameAncestors });
    registerCustomerRoutes(router, api, directoryApi, tokens);
    registerOpsRoutes(router, {
      ready: () => store.isReady() && (cluster?.isReady() ?? true),
      metrics: async () => (prom ? { text: await prom.registry.metrics(), contentType: prom.registry.contentType } : { text: '', contentType: 'text/plain' }),
    });
    registerStaticRoutes(transport.app, { root: join(dirname(fileURLToPath(import.meta.url)), '..', 'assets'), logger, frameAncestors: config.frameAncestors });
    router.fallback();
  }

  return {
    hub,
    events,
    api,
    directoryApi,
    store,
    escalation,
    outbox,
    inbound,
    notifier,
    definitions,
    appointments,
    metrics,
    transport,
    listen: () => {
      if (!transport) return Promise.reject(new Error('no transport: the adapters gave their own Bus'));
      return transport.listen(config.host, config.port);
    },
    stop: async () => {
      clearInterval(pruner);
      transport?.stopListening();
      // Several hubs: leave the live set first, so the others take this hub's timers at once.
      const leaving = cluster?.leave();
      hub.shutdown();
      escalation.stop();
      unseenTimers.stop();
      appointments.stop();
      await smtp?.close();
      outbox.stop();
      await outboxComposer.close();
      await leaving;
      await cluster?.close();
      await store.close();
      await mailer.close();
    },
  };
}

/** The bare address of a From value such as `Parley <parley@example.com>`. */
function addressOf(from: string): string {
  return /<([^>]+)>/.exec(from)?.[1] ?? from.trim();
}
