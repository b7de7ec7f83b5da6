import type { InboundStore } from '../ports/index.js';

/**
 * Addresses that hard-bounced (SPEC §8): escalation and notifications skip them (receipt / audit
 * `bounced`) until the participant's address changes — a new address is simply not in the list. Kept
 * in memory for the per-recipient checks, written through to the store.
 */
export class Bounces {
  private readonly addresses = new Set<string>();
  /** Told after an address is marked here (several hubs: the others `load()` again). */
  onMarked: (() => void) | null = null;

  constructor(private readonly store: Pick<InboundStore, 'markBounced' | 'bouncedAddresses'>) {}

  async load(): Promise<void> {
    for (const a of await this.store.bouncedAddresses()) this.addresses.add(a);
  }

  has(address: string | null | undefined): boolean {
    return !!address && this.addresses.has(address.toLowerCase());
  }

  async mark(address: string, status: string, at: number): Promise<void> {
    await this.store.markBounced(address, status, at);
    this.addresses.add(address.toLowerCase());
    this.onMarked?.();
  }
}
