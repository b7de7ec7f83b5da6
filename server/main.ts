import { join } from 'node:path';
import { loadConfig } from './config.js';
import { createParley } from './parley.js';
import { ConsoleLogger } from './adapters/system/console-logger.js';
import { UWS_NATIVE } from './transport/uws-transport.js';

/** `npm start`: read the configuration, assemble the hub (server/parley.ts), listen, stop gracefully. */
async function main(): Promise<void> {
  const config = loadConfig();
  const logger = new ConsoleLogger(config.logLevel);
  if (UWS_NATIVE) logger.info('uWebSockets.js native binary loaded');
  else logger.warn('uWebSockets.js native binary did NOT load: running on its slow JavaScript fallback');

  const parley = await createParley(config, { logger });
  logger.info('email', { transport: config.smtpUrl ? 'smtp' : 'files', ...(config.smtpUrl ? {} : { dir: join(config.dataDir, 'outbox') }) });
  const port = await parley.listen();
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
    await parley.stop();
    logger.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((e: unknown) => {
  process.stderr.write(`parley failed to start: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
