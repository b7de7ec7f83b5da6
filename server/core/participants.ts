import { DEFAULT_CUSTOMER_PREFERENCES, DEFAULT_USER_PREFERENCES, type GroupMembership, type ParticipantKind } from '../../protocol/index.js';
import type { ParticipantRecord } from './model.js';

/** What a new participant may be given; everything else takes SPEC §1–§2's defaults. */
export interface NewParticipant {
  id: string;
  kind: ParticipantKind;
  name: string;
  email?: string | null | undefined;
  locale?: string | undefined;
  timezone?: string | undefined;
  groups?: GroupMembership[] | undefined;
  roles?: string[] | undefined;
  outOfOffice?: boolean | undefined;
  disabled?: boolean | undefined;
  phone?: string | null | undefined;
  queues?: string[] | undefined;
  services?: string[] | undefined;
  pgpPublicKey?: string | null | undefined;
  smimeCertificate?: string | null | undefined;
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
    phone: p.phone ?? null,
    queues: p.queues ?? [],
    services: p.services ?? [],
    pgpPublicKey: p.pgpPublicKey ?? null,
    smimeCertificate: p.smimeCertificate ?? null,
    enabledAt: null,
    createdAt: now,
    preferences: structuredClone(p.kind === 'user' ? DEFAULT_USER_PREFERENCES : DEFAULT_CUSTOMER_PREFERENCES),
  };
}
