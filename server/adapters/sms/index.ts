import type { SmsSender } from '../../core/ports/index.js';
import { FileSmsSender } from './file-sms.js';
import { WebhookSmsSender } from './webhook-sms.js';

export { FileSmsSender } from './file-sms.js';
export { SMS_TIMEOUT_MS, WebhookSmsSender } from './webhook-sms.js';

/**
 * The SMS sender SPEC §6 configures: the webhook when `url` is set (throws without `secret`: an
 * unsigned webhook is refused at boot), else files under `<dataDir>/outbox/`.
 */
export function createSmsSender(opts: { url?: string | undefined; secret?: string | undefined; dataDir: string; timeoutMs?: number | undefined }): SmsSender {
  if (!opts.url) return new FileSmsSender({ dataDir: opts.dataDir });
  return new WebhookSmsSender({ url: opts.url, secret: opts.secret ?? '', ...(opts.timeoutMs === undefined ? {} : { timeoutMs: opts.timeoutMs }) });
}
