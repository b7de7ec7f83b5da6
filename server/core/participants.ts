import { DEFAULT_CUSTOMER_PREFERENCES, DEFAULT_USER_PREFERENCES, type ParticipantKind } from '../../protocol/index.js';
import type { ParticipantRecord } from './model.js';

/** What a new participant may be given; everything else takes SPEC §1–§2's defaults. */
export interface NewParticipant {
  id: string;
  kind: ParticipantKind;
  name: string;
  email?: string | null | undefined;
  locale?: string | undefined;
  timezone?: string | undefined;
  groups?: string[] | undefined;
  roles?: string[] | undefined;
  outOfOffice?: boolean | undefined;
  disabled?: boolean | undefined;
}

/**
 * The one place a participant's defaults live (SPEC §1, §2 Preferences), for the host API's `PUT` and
 * the just-in-time creation at `hello` alike.
 */
export function newParticipant(p: NewParticipant, now: number): ParticipantRecord {
  return {
    id: p.id,
    kind: p.kind,
    name: p.name,
    email: p.email ?? null,
    locale: p.locale ?? 'en',
    timezone: p.timezone ?? 'UTC',
    groups: p.groups ?? [],
    roles: p.roles ?? [],
    outOfOffice: p.outOfOffice ?? false,
    disabled: p.disabled ?? false,
    enabledAt: null,
    createdAt: now,
    preferences: structuredClone(p.kind === 'user' ? DEFAULT_USER_PREFERENCES : DEFAULT_CUSTOMER_PREFERENCES),
  };
}
