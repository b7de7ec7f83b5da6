import {
  CustomerPreferencesPatchSchema,
  ProtocolError,
  UserPreferencesPatchSchema,
  type CustomerPreferences,
  type ItemPut,
  type Participant,
  type ParticipantPut,
  type ProjectPut,
  type UserPreferences,
} from '../../protocol/index.js';
import type { Hub } from './hub.js';
import { isUserPreferences, type ItemRecord, type ParticipantRecord, type ProjectRecord, type Relations } from './model.js';
import type { Clock, EmailSecurity, EventBus, Store } from './ports/index.js';
import { newParticipant } from './participants.js';

export interface HostDirectoryOptions {
  hub: Hub;
  events: EventBus;
  store: Store;
  clock: Clock;
  /** Checks a participant's PGP key and S/MIME certificate when stored (NOTIFICATIONS §1): a broken one is 400. */
  keys?: Pick<EmailSecurity, 'validatePgpPublicKey' | 'validateSmimeCertificate'> | undefined;
}

function publicParticipant(p: ParticipantRecord): Participant {
  const { preferences: _preferences, enabledAt: _enabledAt, ...rest } = p;
  return rest;
}

/** Keep the start time of relations that continue; new ones begin now. */
/** Everything an item record holds, as one string: equal strings, equal records (a different key order only costs a write). */
/** The same item, field for field (an event's snapshot mostly repeats what the hub has). */
export function sameItem(a: ItemRecord, b: ItemRecord): boolean {
  for (const k of Object.keys(a) as Array<keyof ItemRecord>) {
    const x = a[k];
    const y = b[k];
    if (x === y) continue;
    if (k === 'followers') {
      if (a.followers.size !== b.followers.size) return false;
      for (const [id, since] of a.followers) if (b.followers.get(id) !== since) return false;
      continue;
    }
    // fields and roleSince: plain JSON values; anything else that differs is a change.
    if (typeof x !== 'object' || typeof y !== 'object' || x === null || y === null || JSON.stringify(x) !== JSON.stringify(y)) return false;
  }
  return true;
}

function relations(ids: readonly string[] | undefined, old: Relations | undefined, now: number): Relations {
  const out: Relations = new Map();
  for (const id of ids ?? []) out.set(id, old?.get(id) ?? now);
  return out;
}

/**
 * The host-owned directory behind the host application's HTTP API (SPEC §4): participants and their
 * preferences, projects, items, queues. Bodies arrive validated by the protocol schemas; this layer
 * enforces the rules that need state (existence, kinds) and tells who is affected.
 */
export class HostDirectory {
  private readonly hub: Hub;
  private readonly events: EventBus;
  private readonly store: Store;
  private readonly clock: Clock;
  /** What only the notification rules know: a mandatory definition keeps a transport on; which definitions preferences show. */
  notificationPreferences: {
    /** Check the choices of `ids` (the definitions a patch changes) in the merged preferences `p`. */
    validate(p: UserPreferences, ids: readonly string[]): void;
    view(stored: UserPreferences['notificationDefinitions']): NonNullable<UserPreferences['notificationDefinitions']>;
  } | null = null;

  constructor(private readonly opts: HostDirectoryOptions) {
    this.hub = opts.hub;
    this.events = opts.events;
    this.store = opts.store;
    this.clock = opts.clock;
  }

  private get dir() {
    return this.hub.directory;
  }

  /**
   * Apply a change to the in-memory directory before the write is awaited, so that a concurrent request
   * checks against it (kind conflicts, preference merges) rather than a stale copy; undo it if the write
   * fails. The caller refreshes subscriptions once the write is durable.
   */
  private async applyThenPersist(apply: () => void, undo: () => void, write: () => Promise<void>): Promise<void> {
    apply();
    try {
      await write();
    } catch (err) {
      undo();
      throw err;
    }
  }

  private participant(id: string): ParticipantRecord {
    const p = this.dir.participants.get(id);
    if (!p) throw new ProtocolError('not_found', `no such participant: ${id}`);
    return p;
  }

  async putParticipant(id: string, body: ParticipantPut): Promise<Participant> {
    const old = this.dir.participants.get(id);
    if (old && old.kind !== body.kind) throw new ProtocolError('conflict', `participant ${id} is a ${old.kind}; kind never changes`);
    const fresh = newParticipant({ id, ...body }, this.clock.now());
    await this.checkKeys(fresh);
    const p: ParticipantRecord = {
      ...fresh,
      // Re-enabling retires every token issued before it (SPEC §3 Token); creation does not count.
      enabledAt: old?.disabled && !fresh.disabled ? this.clock.now() : (old?.enabledAt ?? null),
      createdAt: old?.createdAt ?? fresh.createdAt,
      preferences: old?.preferences ?? fresh.preferences,
    };
    await this.applyThenPersist(
      () => this.dir.setParticipant(p),
      () => (old ? this.dir.setParticipant(old) : this.dir.deleteParticipant(id)),
      () => this.store.putParticipant(p),
    );
    this.events.publish('DirectoryChanged', { entity: 'participant', id });
    this.events.publish('AudienceChanged', { participantIds: [id] });
    return publicParticipant(p);
  }

  /** A key or certificate that cannot be used is refused with the reason, never found broken at send time. */
  private async checkKeys(p: ParticipantRecord): Promise<void> {
    const keys = this.opts.keys;
    if (!keys) return;
    const pgp = p.pgpPublicKey ? await keys.validatePgpPublicKey(p.pgpPublicKey, this.clock.now()) : null;
    if (pgp) throw new ProtocolError('invalid', `pgpPublicKey: ${pgp}`);
    const smime = p.smimeCertificate ? await keys.validateSmimeCertificate(p.smimeCertificate, this.clock.now()) : null;
    if (smime) throw new ProtocolError('invalid', `smimeCertificate: ${smime}`);
  }

  /**
   * Admit a participant the host has not told us about (a customer writing to the support address):
   * insert-if-absent, like just-in-time creation at `hello`; resolves whoever was stored first.
   */
  async admit(p: ParticipantRecord): Promise<ParticipantRecord> {
    const stored = await this.store.insertParticipantIfAbsent(p);
    this.dir.setParticipant(stored);
    this.events.publish('DirectoryChanged', { entity: 'participant', id: stored.id });
    return stored;
  }

  getParticipant(id: string): Participant {
    return publicParticipant(this.participant(id));
  }

  getPreferences(id: string): UserPreferences | CustomerPreferences {
    return this.preferencesView(this.participant(id).preferences);
  }

  /** A user's preferences with every definition shown in preferences, at its default unless chosen. */
  private preferencesView(p: UserPreferences | CustomerPreferences): UserPreferences | CustomerPreferences {
    if (!isUserPreferences(p) || !this.notificationPreferences) return p;
    const shown = this.notificationPreferences.view(p.notificationDefinitions);
    return Object.keys(shown).length ? { ...p, notificationDefinitions: shown } : p;
  }

  /** Deep-merge a partial preferences object; the schema depends on the participant's kind. */
  async patchPreferences(id: string, body: unknown): Promise<UserPreferences | CustomerPreferences> {
    const p = this.participant(id);
    const old = p.preferences;
    let next: UserPreferences | CustomerPreferences;
    if (isUserPreferences(old)) {
      const parsed = UserPreferencesPatchSchema.safeParse(body);
      if (!parsed.success) throw new ProtocolError('invalid', 'invalid preferences', parsed.error.issues);
      const d = parsed.data;
      next = {
        notifications: { ...old.notifications, ...d.notifications },
        email: { ...old.email, ...d.email },
        access: { ...old.access, ...d.access },
      };
      const choices = { ...old.notificationDefinitions };
      for (const [defId, c] of Object.entries(d.notificationDefinitions ?? {})) choices[defId] = { ...choices[defId], ...c };
      if (Object.keys(choices).length > 0) next.notificationDefinitions = choices;
      // Only what this patch changes is checked: a choice stored for a definition since deleted, hidden
      // or made mandatory must not block saving anything else (it is kept, and shown again if the
      // definition comes back).
      this.notificationPreferences?.validate(next, Object.keys(d.notificationDefinitions ?? {}));
    } else {
      const parsed = CustomerPreferencesPatchSchema.safeParse(body);
      if (!parsed.success) throw new ProtocolError('invalid', `invalid preferences for a ${p.kind}`, parsed.error.issues);
      next = { email: { ...old.email, ...parsed.data.email } };
    }
    await this.applyThenPersist(
      () => this.dir.setParticipant({ ...p, preferences: next }),
      () => this.dir.setParticipant(p),
      () => this.store.putPreferences(id, next),
    );
    this.events.publish('DirectoryChanged', { entity: 'participant', id });
    this.events.publish('AudienceChanged', { participantIds: [id] });
    return this.preferencesView(next);
  }

  async putProject(id: string, body: ProjectPut): Promise<{ id: string; name: string; followers: string[]; createdAt: number }> {
    const old = this.dir.projects.get(id);
    const now = this.clock.now();
    const p: ProjectRecord = { id, name: body.name, followers: relations(body.followers, old?.followers, now), createdAt: old?.createdAt ?? now };
    await this.applyThenPersist(
      () => this.dir.setProject(p),
      () => (old ? this.dir.setProject(old) : this.dir.deleteProject(id)),
      () => this.store.putProject(p),
    );
    this.events.publish('DirectoryChanged', { entity: 'project', id });
    this.events.publish('ProjectChanged', { project: p, previous: old ?? null });
    this.events.publish('AudienceChanged', { participantIds: [...new Set([...(old?.followers.keys() ?? []), ...p.followers.keys()])] });
    return { id, name: p.name, followers: [...p.followers.keys()], createdAt: p.createdAt };
  }

  async putItem(id: string, body: ItemPut) {
    for (const [role, pid] of [
      ['customerId', body.customerId],
      ['ownerId', body.ownerId],
      ['responsibleId', body.responsibleId],
    ] as const) {
      const p = pid ? this.dir.participants.get(pid) : undefined;
      if (!p) continue;
      if (role === 'customerId' ? p.kind !== 'customer' : p.kind !== 'user') {
        throw new ProtocolError('invalid', `${role} ${pid} is a ${p.kind}`);
      }
    }
    const old = this.dir.items.get(id);
    const now = this.clock.now();
    const since = (next: string | null, prev: string | null | undefined, t: number | null | undefined) => (next === null ? null : next === prev && t != null ? t : now);
    const customerId = body.customerId ?? null;
    const ownerId = body.ownerId ?? null;
    const responsibleId = body.responsibleId ?? null;
    const item: ItemRecord = {
      id,
      kind: body.kind,
      title: body.title,
      projectId: body.projectId ?? null,
      number: body.number ?? null,
      status: body.status ?? null,
      priority: body.priority ?? null,
      queue: body.queue ?? null,
      customerId,
      ownerId,
      responsibleId,
      followers: relations(body.followers, old?.followers, now),
      lock: body.lock ?? null,
      service: body.service ?? null,
      type: body.type ?? null,
      createdBy: body.createdBy ?? null,
      customerCompany: body.customerCompany ?? null,
      fields: body.fields ?? {},
      createdAt: old?.createdAt ?? now,
      roleSince: {
        customer: since(customerId, old?.customerId, old?.roleSince.customer),
        owner: since(ownerId, old?.ownerId, old?.roleSince.owner),
        responsible: since(responsibleId, old?.responsibleId, old?.roleSince.responsible),
      },
    };
    const { roleSince: _roleSince, followers, ...rest } = item;
    const answer = { ...rest, followers: [...followers.keys()] };
    // The same snapshot again (events carry one each, NOTIFICATIONS §2): nothing to write or tell.
    if (old && sameItem(old, item)) return answer;
    const audience = old ? this.dir.itemAudience(old) : new Set<string>();
    await this.applyThenPersist(
      () => this.dir.setItem(item),
      () => (old ? this.dir.setItem(old) : this.dir.deleteItem(id)),
      () => this.store.putItem(item),
    );
    for (const id of this.dir.itemAudience(item)) audience.add(id);
    this.events.publish('DirectoryChanged', { entity: 'item', id });
    this.events.publish('AudienceChanged', { participantIds: [...audience] });
    this.events.publish('ItemChanged', { item, previous: old ?? null });
    return answer;
  }

  /** PUT /v1/queues/{name}: the group whose members may work on the queue's items. */
  async putQueue(name: string, groupId: string): Promise<{ name: string; groupId: string }> {
    await this.store.putQueue(name, groupId);
    this.dir.queues.set(name, groupId);
    this.events.publish('DirectoryChanged', { entity: 'queue', id: name });
    return { name, groupId };
  }
}
