/**
 * The thread of ThreadedComposer: a LiquidComposer of its own, composing the notification emails it
 * is sent, one reply each.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { ConsoleLogger } from '../system/console-logger.js';
import type { ComposeReply, ComposeRequest } from './composer-thread.js';
import { LiquidComposer } from './liquid-composer.js';

const port = parentPort!;
const composer = new LiquidComposer({ from: (workerData as { from: string }).from, logger: new ConsoleLogger('warn') });

port.on('message', (req: ComposeRequest) => {
  composer.compose('notification', req.data).then(
    (email) => port.postMessage({ id: req.id, email } satisfies ComposeReply),
    (e: unknown) => port.postMessage({ id: req.id, error: e instanceof Error ? e.message : String(e) } satisfies ComposeReply),
  );
});
