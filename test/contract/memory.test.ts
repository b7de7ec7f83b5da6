import { MemoryBus, MemoryExchange } from '../../server/adapters/memory/bus.js';
import { MemoryPresence } from '../../server/adapters/memory/presence.js';
import { describeBus, type OpenedBuses } from './bus.contract.js';
import { describePresence } from './presence.contract.js';

/** The in-memory adapters of one process: two hubs on one exchange, two views of one presence map. */
describeBus('MemoryBus', async () => {
  const exchange = new MemoryExchange();
  const hubs: OpenedBuses['hubs'] = [];
  for (let i = 0; i < 2; i++) {
    const local: Array<[string, string]> = [];
    const inbound: Array<[string, string]> = [];
    const bus = new MemoryBus((t, f) => local.push([t, f]), exchange);
    bus.onInbound((t, f) => inbound.push([t, f]));
    hubs.push({ bus, local, inbound });
  }
  return { hubs, close: async () => hubs.forEach((h) => (h.bus as MemoryBus).close()) };
});

describePresence('MemoryPresence', async () => {
  const shared = new MemoryPresence();
  return { hubs: [shared, shared], close: async () => {} };
});
