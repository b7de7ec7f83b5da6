import { nanoid } from 'nanoid';
import {
  DefinitionInputSchema,
  ProtocolError,
  type DefinitionInput,
  type NotificationDefinition,
  type NotificationType,
  type PersonalTransport,
  type UserPreferences,
} from '../../../protocol/index.js';
import type { Clock, NotificationStore } from '../ports/index.js';
import { BUILTIN_DEFINITIONS } from './builtins.js';

const PERSONAL: readonly PersonalTransport[] = ['email', 'web', 'sms'];

/** The transports a definition has switched on for people (email, web, SMS). */
export function enabledTransports(d: NotificationDefinition): PersonalTransport[] {
  return PERSONAL.filter((t) => d.transports[t]?.enabled === true);
}

/**
 * Notification definitions (NOTIFICATIONS §3, §6): kept in memory for the matcher, written through
 * the store. Names are unique; the built-ins exist from the first start and cannot be deleted.
 */
export class Definitions {
  private readonly byId = new Map<string, NotificationDefinition>();
  /** Told after every change written here (several hubs: the others reload, see `replaceAll`). */
  onChange: (() => void) | null = null;

  constructor(
    private readonly store: NotificationStore,
    private readonly clock: Clock,
  ) {}

  /** Load what is stored, and add any built-in that is missing (a new hub, or an older one). */
  async load(definitions: readonly NotificationDefinition[]): Promise<void> {
    for (const d of definitions) this.byId.set(d.id, d);
    const missing = BUILTIN_DEFINITIONS.filter((b) => !this.byId.has(b.id)).map((b) => this.build(b.id, b.input, null, true));
    if (missing.length > 0) {
      await this.store.putDefinitions(missing);
      for (const d of missing) this.byId.set(d.id, d);
    }
  }

  all(type?: NotificationType): NotificationDefinition[] {
    const out = [...this.byId.values()].filter((d) => type === undefined || d.type === type);
    return out.sort((a, b) => a.name.localeCompare(b.name));
  }

  get(id: string): NotificationDefinition {
    const d = this.byId.get(id);
    if (!d) throw new ProtocolError('not_found', `no such notification definition: ${id}`);
    return d;
  }

  /** Valid definitions listening to this event type. */
  forEvent(type: string): NotificationDefinition[] {
    const out: NotificationDefinition[] = [];
    for (const d of this.byId.values()) if (d.valid === 'valid' && d.events.includes(type)) out.push(d);
    return out;
  }

  async create(input: DefinitionInput): Promise<NotificationDefinition> {
    const d = this.build(nanoid(), input, null, false);
    await this.write([d]);
    return d;
  }

  /** Create or replace (PUT): a built-in stays built-in. */
  async put(id: string, input: DefinitionInput): Promise<NotificationDefinition> {
    const old = this.byId.get(id) ?? null;
    const d = this.build(id, input, old, old?.builtIn ?? false);
    await this.write([d]);
    return d;
  }

  async delete(id: string): Promise<void> {
    const d = this.get(id);
    if (d.builtIn) throw new ProtocolError('conflict', `${d.name} is built in: edit it or set it invalid, it cannot be deleted`);
    await this.store.deleteDefinition(id);
    this.byId.delete(id);
    this.onChange?.();
  }

  /** Another hub changed definitions: take the stored set as it is now (built-ins are stored too). */
  replaceAll(definitions: readonly NotificationDefinition[]): void {
    this.byId.clear();
    for (const d of definitions) this.byId.set(d.id, d);
  }

  /**
   * Store several definitions at once (an import): all or none. `overwrite` updates a definition
   * with the same name in place (its id kept); without it such a name is an error and is skipped.
   */
  async importMany(entries: ReadonlyArray<{ name: string; input: DefinitionInput }>, overwrite: boolean) {
    const added: string[] = [];
    const updated: string[] = [];
    const errors: Array<{ name: string; error: string }> = [];
    const seen = new Set<string>();
    const out: NotificationDefinition[] = [];
    for (const { name, input } of entries) {
      if (seen.has(name)) {
        errors.push({ name, error: 'the file names this definition twice' });
        continue;
      }
      seen.add(name);
      const old = this.byName(name);
      if (old && !overwrite) {
        errors.push({ name, error: 'a definition with this name exists (import with overwrite=true to replace it)' });
        continue;
      }
      try {
        out.push(this.build(old?.id ?? nanoid(), input, old ?? null, old?.builtIn ?? false, false));
        (old ? updated : added).push(name);
      } catch (e) {
        errors.push({ name, error: e instanceof Error ? e.message : String(e) });
      }
    }
    if (out.length > 0) await this.write(out);
    return { added, updated, errors };
  }

  /**
   * The `notificationDefinitions` a user's preferences show (NOTIFICATIONS §3): every definition shown
   * in preferences, each of its transports on as `enabledByDefault` says, under what the user chose.
   */
  preferencesOf(stored: UserPreferences['notificationDefinitions']): NonNullable<UserPreferences['notificationDefinitions']> {
    const out: NonNullable<UserPreferences['notificationDefinitions']> = {};
    for (const d of this.all()) {
      if (d.agentPreferences.visible === 'no') continue;
      const choice: Partial<Record<PersonalTransport, boolean>> = {};
      for (const t of enabledTransports(d)) choice[t] = stored?.[d.id]?.[t] ?? d.agentPreferences.enabledByDefault.includes(t);
      out[d.id] = choice;
    }
    return out;
  }

  /**
   * Check the choices of `ids` in a preferences document's `notificationDefinitions` (NOTIFICATIONS
   * §3): each a definition shown in preferences; a `mandatory` one keeps at least one of its transports on.
   */
  validatePreferences(prefs: UserPreferences, ids: readonly string[]): void {
    for (const id of ids) {
      const choice = prefs.notificationDefinitions?.[id] ?? {};
      const d = this.byId.get(id);
      if (!d || d.agentPreferences.visible === 'no') throw new ProtocolError('invalid', `notificationDefinitions.${id}: no such definition in preferences`);
      if (d.agentPreferences.visible !== 'mandatory') continue;
      const on = enabledTransports(d).some((t) => choice[t] ?? d.agentPreferences.enabledByDefault.includes(t));
      if (!on) throw new ProtocolError('invalid', `notificationDefinitions.${id}: ${d.name} is mandatory; keep at least one transport on`);
    }
  }

  private byName(name: string): NotificationDefinition | undefined {
    for (const d of this.byId.values()) if (d.name === name) return d;
    return undefined;
  }

  private build(id: string, input: DefinitionInput, old: NotificationDefinition | null, builtIn: boolean, checkName = true): NotificationDefinition {
    const parsed = DefinitionInputSchema.parse(input);
    if (checkName) {
      const clash = this.byName(parsed.name);
      if (clash && clash.id !== id) throw new ProtocolError('conflict', `a notification definition named "${parsed.name}" exists`);
    }
    const now = this.clock.now();
    return { ...parsed, id, builtIn, createdAt: old?.createdAt ?? now, updatedAt: now };
  }

  private async write(defs: NotificationDefinition[]): Promise<void> {
    // Names must stay unique across the whole set after the write (an import may swap names).
    const after = new Map(this.byId);
    for (const d of defs) after.set(d.id, d);
    const names = new Set<string>();
    for (const d of after.values()) {
      if (names.has(d.name)) throw new ProtocolError('conflict', `a notification definition named "${d.name}" exists`);
      names.add(d.name);
    }
    await this.store.putDefinitions(defs);
    for (const d of defs) this.byId.set(d.id, d);
    this.onChange?.();
  }
}
