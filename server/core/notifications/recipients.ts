import { groupEntry, RecipientRelationSchema, type NotificationDefinition, type RecipientRelation } from '../../../protocol/index.js';
import type { ItemRecord, ParticipantRecord } from '../model.js';
import type { NotFound, RuleEvent, RulesDirectory } from './types.js';

/**
 * Who a definition names for one event (NOTIFICATIONS §3 "Recipients"), before anybody is left out:
 * the union of its relations, agents, groups and roles, each person once. Pure; reads the directory.
 */

/** Every relation a definition may name, in the contract's order. */
export const RECIPIENT_RELATIONS: readonly RecipientRelation[] = RecipientRelationSchema.options;

/** The relations that scan every user (the rest look up a handful of ids). */
export const SCANNING_RELATIONS: ReadonlySet<RecipientRelation> = new Set<RecipientRelation>([
  'AgentWritePermissions',
  'AgentMyQueues',
  'AgentMyServices',
  'AgentMyQueuesMyServices',
  'AppointmentAgentReadPermissions',
  'AppointmentAgentWritePermissions',
]);

/**
 * A recipient: a participant (user or customer, never a bot), or an address no participant has.
 * `owner` is the participant an extra address belongs to when it is not otherwise a recipient: the
 * address stays an address, but inherits the owner's actor / disabled / customer / opt-out exclusions.
 * `external`: an article address nobody in the directory has, treated as a customer's.
 */
export type Recipient =
  | { participant: ParticipantRecord; address: null; key: string; owner: null; external: false }
  | { participant: null; address: string; key: string; owner: ParticipantRecord | null; external: boolean };

/** The item's followers: explicit ones, then the owner and the responsible user (SPEC §1), each once. */
export function itemFollowers(item: ItemRecord): string[] {
  const out = [...item.followers.keys()];
  if (item.ownerId !== null && !item.followers.has(item.ownerId)) out.push(item.ownerId);
  if (item.responsibleId !== null && item.responsibleId !== item.ownerId && !item.followers.has(item.responsibleId)) out.push(item.responsibleId);
  return out;
}

/** `Name <a@b.c>` → `a@b.c`; null for anything without an `@`. */
export function bareAddress(raw: string): string | null {
  const lt = raw.lastIndexOf('<');
  const gt = raw.lastIndexOf('>');
  const a = (lt >= 0 && gt > lt ? raw.slice(lt + 1, gt) : raw).trim();
  return a.includes('@') ? a : null;
}

/** Map keys of address recipients: a NUL never appears in a participant id, so ids and addresses never collide. */
const ADDRESS = '\0';

/**
 * Collects the recipients of `definition` for `event`, in a stable order (relations, agents, scanned
 * users, extra addresses). `key` is the history key: the participant id or the lowercased address.
 */
export function collectRecipients(event: RuleEvent, definition: NotificationDefinition, directory: RulesDirectory, notFound: NotFound[]): Map<string, Recipient> {
  const out = new Map<string, Recipient>();
  const addId = (id: string | null | undefined): void => {
    if (id == null || out.has(id)) return;
    const p = directory.participant(id);
    if (p) addParticipant(out, p);
  };
  const addAddresses = (list: readonly string[]): void => {
    for (const raw of list) {
      const a = bareAddress(raw);
      if (a === null) continue;
      const p = directory.participantByEmail(a);
      if (p) addParticipant(out, p);
      else {
        const key = a.toLowerCase();
        if (!out.has(ADDRESS + key)) out.set(ADDRESS + key, { participant: null, address: a, key, owner: null, external: true });
      }
    }
  };

  const { item, appointment, calendar } = event;
  const rec = definition.recipients;
  // What one pass over the users must find; left unset when nothing scans.
  let scan = false;
  let rwGroup: string | undefined; // AgentWritePermissions, AppointmentAgentWritePermissions
  let anyGroup: string | undefined; // AppointmentAgentReadPermissions
  let rwGroup2: string | undefined;
  let myQueue: string | null = null;
  let myService: string | null = null;
  let myBoth = false;

  for (const r of rec.relations) {
    switch (r) {
      case 'AgentCreateBy':
        addId(item?.createdBy);
        break;
      case 'AgentOwner':
        addId(item?.ownerId);
        break;
      case 'AgentResponsible':
        addId(item?.responsibleId);
        break;
      case 'AgentWatcher':
        if (item) for (const id of itemFollowers(item)) addId(id);
        break;
      case 'AgentWritePermissions':
        if (item?.queue != null) {
          rwGroup = directory.queueGroup(item.queue);
          scan ||= rwGroup !== undefined;
        }
        break;
      case 'AgentMyQueues':
        if (item?.queue != null) (myQueue = item.queue), (scan = true);
        break;
      case 'AgentMyServices':
        if (item?.service != null) (myService = item.service), (scan = true);
        break;
      case 'AgentMyQueuesMyServices':
        if (item?.queue != null && item.service != null) (myBoth = true), (scan = true);
        break;
      case 'AllRecipientsFirstArticle':
        if (item) addAddresses(directory.articleAddresses(item.id).first);
        break;
      case 'AllRecipientsLastArticle':
        if (item) addAddresses(directory.articleAddresses(item.id).last);
        break;
      case 'Customer':
        addId(item?.customerId);
        break;
      case 'AppointmentAgentReadPermissions':
        if (calendar?.groupId != null) (anyGroup = calendar.groupId), (scan = true);
        break;
      case 'AppointmentAgentWritePermissions':
        if (calendar?.groupId != null) (rwGroup2 = calendar.groupId), (scan = true);
        break;
      case 'AppointmentResource':
        if (appointment) for (const id of appointment.resourceIds) addId(id);
        break;
    }
  }

  for (const id of rec.agents) {
    const p = directory.participant(id);
    if (!p) notFound.push({ definitionId: definition.id, kind: 'agent', id });
    else addParticipant(out, p);
  }

  const groups = rec.groups;
  const roles = rec.roles;
  // Groups and roles are known only through their members: one nobody is in is reported not found.
  const groupSet = groups.length ? new Set(groups) : null;
  const roleSet = roles.length ? new Set(roles) : null;
  const groupSeen = groupSet ? new Set<string>() : null;
  const roleSeen = roleSet ? new Set<string>() : null;
  if (scan || groupSeen || roleSeen) {
    const bothQueue = myBoth ? item!.queue : null;
    const bothService = myBoth ? item!.service : null;
    for (const u of directory.users()) {
      if (u.kind !== 'user') continue;
      let hit = false;
      if (myQueue !== null && u.queues.includes(myQueue)) hit = true;
      if (!hit && myService !== null && u.services.includes(myService)) hit = true;
      if (!hit && bothQueue !== null && bothService !== null && u.queues.includes(bothQueue) && u.services.includes(bothService)) hit = true;
      if (u.groups.length && (rwGroup !== undefined || anyGroup !== undefined || rwGroup2 !== undefined || groupSeen)) {
        for (const g of u.groups) {
          const { id, permission } = groupEntry(g);
          if (groupSet?.has(id)) (groupSeen!.add(id), (hit = true));
          if (id === anyGroup || (permission === 'rw' && (id === rwGroup || id === rwGroup2))) hit = true;
        }
      }
      if (roleSet) for (const r of u.roles) if (roleSet.has(r)) (roleSeen!.add(r), (hit = true));
      if (hit) addParticipant(out, u);
    }
    if (groupSet) for (const id of groupSet) if (!groupSeen!.has(id)) notFound.push({ definitionId: definition.id, kind: 'group', id });
    if (roleSet) for (const id of roleSet) if (!roleSeen!.has(id)) notFound.push({ definitionId: definition.id, kind: 'role', id });
  }

  const email = definition.transports.email;
  if (email?.enabled) {
    for (const raw of email.extraAddresses) {
      const key = raw.toLowerCase();
      if (out.has(ADDRESS + key)) continue;
      const owner = directory.participantByEmail(raw) ?? null;
      if (owner && out.has(owner.id)) continue; // that person is told once, as themself
      out.set(ADDRESS + key, { participant: null, address: raw, key, owner, external: false });
    }
  }
  return out;
}

function addParticipant(out: Map<string, Recipient>, p: ParticipantRecord): void {
  if (p.kind === 'bot' || out.has(p.id)) return;
  out.set(p.id, { participant: p, address: null, key: p.id, owner: null, external: false });
}
