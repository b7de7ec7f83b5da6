import type { Clock, Logger } from '../../core/ports/index.js';
import { RedisBus } from './bus.js';
import type { RedisCounters } from './client.js';
import { RedisInvalidation } from './invalidation.js';
import { HubMembership } from './membership.js';
import { RedisPresence } from './presence.js';

export { RedisBus } from './bus.js';
export type { RedisCounters } from './client.js';
export { RedisInvalidation, type InvalidationKind } from './invalidation.js';
export { HubMembership } from './membership.js';
export { RedisPresence } from './presence.js';

export interface RedisAdaptersOptions {
  /** PARLEY_REDIS_URL. */
  url: string;
  /** PARLEY_REDIS_PREFIX. */
  prefix: string;
  /** PARLEY_NODE_TTL_MS. */
  nodeTtlMs: number;
  /** This hub's id, new at every start and unique among the live hubs. */
  hubId: string;
  /** The bus's local delivery: the transport's topics. */
  local: (topic: string, frame: string) => void;
  clock: Pick<Clock, 'now'>;
  logger: Logger;
  counters?: RedisCounters;
}

/** Every Redis adapter of one hub, for the one assembly (`createParley`) to take together. */
export interface RedisAdapters {
  bus: RedisBus;
  presence: RedisPresence;
  membership: HubMembership;
  invalidation: RedisInvalidation;
  /** Every connection is up (`/readyz`). */
  isReady(): boolean;
  /** Resolves when every adapter is connected, registered and loaded (the first time). */
  ready(): Promise<void>;
  /** Leave the live set first (the others take over at once), then close everything. */
  close(): Promise<void>;
}

export function createRedisAdapters(o: RedisAdaptersOptions): RedisAdapters {
  const common = { url: o.url, prefix: o.prefix, hubId: o.hubId, logger: o.logger, ...(o.counters ? { counters: o.counters } : {}) };
  const bus = new RedisBus({ ...common, local: o.local });
  const presence = new RedisPresence({ ...common, clock: o.clock });
  const membership = new HubMembership({ ...common, ttlMs: o.nodeTtlMs });
  const invalidation = new RedisInvalidation(common);
  return {
    bus,
    presence,
    membership,
    invalidation,
    isReady: () => bus.isReady() && presence.isReady() && membership.isReady() && invalidation.isReady(),
    ready: async () => void (await Promise.all([bus.ready(), presence.ready(), membership.ready(), invalidation.ready()])),
    close: async () => {
      await membership.close();
      await Promise.all([bus.close(), presence.close(), invalidation.close()]);
    },
  };
}
