import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from './config.js';
import { Hub } from './core/hub.js';
import { HostApi } from './core/host-api.js';
import { JoseTokens } from './adapters/jwt/jose-tokens.js';
import { PromMetrics } from './adapters/prom/prom-metrics.js';
import { SqliteStore } from './adapters/sqlite/sqlite-store.js';
import { ConsoleLogger } from './adapters/system/console-logger.js';
import { SystemClock } from './adapters/system/system-clock.js';
import { HttpRouter } from './transport/http.js';
import { registerStaticRoutes } from './transport/static.js';
import { registerCustomerRoutes, registerHostRoutes, registerOpsRoutes, registerUnsubscribeRoutes } from './transport/routes.js';
import { Escalation } from './core/escalation/escalation.js';
import { DEFAULT_RETRY, OutboxWorker } from './core/outbox/outbox-worker.js';
import { FileMailer } from './adapters/email/file-mailer.js';
import { LiquidComposer } from './adapters/email/liquid-composer.js';
import { SmtpMailer } from './adapters/email/smtp-mailer.js';
import { UWS_NATIVE, UwsTransport } from './transport/uws-transport.js';

/** The composition root: the only place that knows every concrete class. */
async function main(): Promise<void> {
  const config = loadConfig();
  const logger = new ConsoleLogger(config.logLevel);
  if (UWS_NATIVE) logger.info('uWebSockets.js native binary loaded');
  else logger.warn('uWebSockets.js native binary did NOT load: running on its slow JavaScript fallback');

  const metrics = new PromMetrics();
  const clock = new SystemClock();
  const store = new SqliteStore({ file: join(config.dataDir, 'parley.db'), logger, metrics });
  const tokens = new JoseTokens({ secret: config.jwtSecret });
  const transport = new UwsTransport({ logger, maxFrameBytes: config.maxFrameBytes, maxBackpressureBytes: config.maxBackpressureBytes });
  const hub = new Hub({
    store,
    bus: transport,
    clock,
    tokens,
    metrics,
    logger,
    limits: {
      maxFrameBytes: config.maxFrameBytes,
      maxBackpressureBytes: config.maxBackpressureBytes,
      helloTimeoutMs: config.helloTimeoutMs,
      presenceGraceMs: config.presenceGraceMs,
      ...config.limits,
    },
  });
  await hub.start();
  const api = new HostApi({ hub, store, clock, tokens });

  const mailer = config.smtpUrl ? new SmtpMailer({ url: config.smtpUrl }) : new FileMailer(join(config.dataDir, 'outbox'));
  const outbox = new OutboxWorker({
    store,
    mailer,
    clock,
    logger,
    metrics,
    envelopeFrom: addressOf(config.mailFrom),
    retry: { ...DEFAULT_RETRY, baseDelayMs: config.outboxRetryBaseMs },
  });
  const escalation = new Escalation({
    store,
    clock,
    directory: hub.directory,
    composer: new LiquidComposer({ from: config.mailFrom, logger }),
    tokens,
    logger,
    metrics,
    delayMs: config.escalationDelayMs,
    recoveryMs: config.escalationRecoveryMs,
    appUrl: config.appUrl,
    conversationUrl: config.conversationUrl,
    customerUrl: config.customerUrl,
    customerLinkTtlMs: config.customerLinkTtlMs,
    onQueued: () => outbox.kick(),
    onEmailed: (c, participantId, upTo, at) => hub.publishEmailed(c, participantId, upTo, at),
  });
  hub.setEscalation(escalation);
  await escalation.start();
  outbox.start();
  const prune = () =>
    void store
      .pruneEmails(clock.now() - config.outboxRetentionMs)
      .then((n) => n && logger.info('outbox pruned', { deleted: n }))
      .catch((e: unknown) => logger.error('outbox prune failed', { error: String(e) }));
  prune();
  setInterval(prune, 3_600_000).unref();
  logger.info('email', { transport: config.smtpUrl ? 'smtp' : 'files', ...(config.smtpUrl ? {} : { dir: join(config.dataDir, 'outbox') }) });

  transport.attachHub(hub);
  const router = new HttpRouter(transport.app, { apiKey: config.apiKey, logger });
  registerHostRoutes(router, api);
  registerUnsubscribeRoutes(router, api, { frameAncestors: config.frameAncestors });
  registerCustomerRoutes(router, api, tokens);
  registerOpsRoutes(router, {
    ready: () => store.isReady(),
    metrics: async () => ({ text: await metrics.registry.metrics(), contentType: metrics.registry.contentType }),
  });
  registerStaticRoutes(transport.app, { root: join(dirname(fileURLToPath(import.meta.url)), '..', 'assets'), logger, frameAncestors: config.frameAncestors });
  router.fallback();

  const port = await transport.listen(config.host, config.port);
  for (const name of config.generated) {
    const value = name === 'PARLEY_API_KEY' ? config.apiKey : config.jwtSecret;
    process.stdout.write(`Generated ${name}=${value} (kept in ${join(config.dataDir, 'secrets.json')}; shown only this once)\n`);
  }
  logger.info('listening', { host: config.host, port, url: `http://${config.host}:${port}`, dataDir: config.dataDir });

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info('stopping', { signal });
    // Whatever happens, be gone within 5 s.
    setTimeout(() => process.exit(1), 5000).unref();
    transport.stopListening();
    hub.shutdown();
    escalation.stop();
    outbox.stop();
    await store.close();
    await mailer.close();
    logger.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

/** The bare address of a From value such as `Parley <parley@example.com>`. */
function addressOf(from: string): string {
  return /<([^>]+)>/.exec(from)?.[1] ?? from.trim();
}

main().catch((e: unknown) => {
  process.stderr.write(`parley failed to start: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
