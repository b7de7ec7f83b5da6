import { RecipientRelationSchema, type NotificationDefinition, type RecipientRelation } from '../../../protocol/index.js';
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
 * An address recipient: an address no participant recipient has. `owner` is the participant an extra
 * address belongs to (when not otherwise a recipient): it stays an address, but inherits the owner's
 * actor / disabled / customer / opt-out exclusions. `external`: an article address nobody in the
 * directory has, treated as a customer's. `key` is the lowercased address (the history key).
 */
export interface AddressRecipient {
  address: string;
  key: string;
  owner: ParticipantRecord | null;
  external: boolean;
}

/** A participant (user or customer, never a bot; stored as is, no wrapper) or an address. */
export type Recipient = ParticipantRecord | AddressRecipient;

/** Participant records have no `address` field. */
export function isAddress(r: Recipient): r is AddressRecipient {
  return 'address' in r;
}

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
        addId(out, directory, item?.createdBy);
        break;
      case 'AgentOwner':
        addId(out, directory, item?.ownerId);
        break;
      case 'AgentResponsible':
        addId(out, directory, item?.responsibleId);
        break;
      case 'AgentWatcher':
        if (item) for (const id of itemFollowers(item)) addId(out, directory, id);
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
        if (item) addAddresses(out, directory, directory.articleAddresses(item.id).first);
        break;
      case 'AllRecipientsLastArticle':
        if (item) addAddresses(out, directory, directory.articleAddresses(item.id).last);
        break;
      case 'Customer':
        addId(out, directory, item?.customerId);
        break;
      case 'AppointmentAgentReadPermissions':
        if (calendar?.groupId != null) (anyGroup = calendar.groupId), (scan = true);
        break;
      case 'AppointmentAgentWritePermissions':
        if (calendar?.groupId != null) (rwGroup2 = calendar.groupId), (scan = true);
        break;
      case 'AppointmentResource':
        if (appointment) for (const id of appointment.resourceIds) addId(out, directory, id);
        break;
    }
  }

  for (const id of rec.agents) {
    const p = directory.participant(id);
    if (p) addParticipant(out, p);
    else if (!notFound.some((n) => n.kind === 'agent' && n.id === id)) notFound.push({ definitionId: definition.id, kind: 'agent', id });
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
    // Only "my queues" to look for (the common case): the queue's own users, not every user.
    const onlyMyQueue =
      myQueue !== null && myService === null && !myBoth && rwGroup === undefined && anyGroup === undefined && rwGroup2 === undefined && !groupSet && !roleSet;
    for (const u of onlyMyQueue ? directory.usersInQueue(myQueue!) : directory.users()) {
      if (u.kind !== 'user') continue;
      let hit = false;
      if (myQueue !== null && u.queues.includes(myQueue)) hit = true;
      if (!hit && myService !== null && u.services.includes(myService)) hit = true;
      if (!hit && bothQueue !== null && bothService !== null && u.queues.includes(bothQueue) && u.services.includes(bothService)) hit = true;
      if (u.groups.length && (rwGroup !== undefined || anyGroup !== undefined || rwGroup2 !== undefined || groupSeen)) {
        for (const g of u.groups) {
          // groupEntry() without its allocation for the plain-id (rw) form: this loop runs per user.
          const id = typeof g === 'string' ? g : g.id;
          const rw = typeof g === 'string' || g.permission === 'rw';
          if (groupSet?.has(id)) (groupSeen!.add(id), (hit = true));
          if (id === anyGroup || (rw && (id === rwGroup || id === rwGroup2))) hit = true;
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
      out.set(ADDRESS + key, { address: raw, key, owner, external: false });
    }
  }
  return out;
}

function addId(out: Map<string, Recipient>, directory: RulesDirectory, id: string | null | undefined): void {
  if (id == null || out.has(id)) return;
  const p = directory.participant(id);
  if (p) addParticipant(out, p);
}

/** Article addresses: a known participant's counts as that participant, any other as an external address. */
function addAddresses(out: Map<string, Recipient>, directory: RulesDirectory, list: readonly string[]): void {
  for (const raw of list) {
    const a = bareAddress(raw);
    if (a === null) continue;
    const p = directory.participantByEmail(a);
    if (p) addParticipant(out, p);
    else {
      const key = a.toLowerCase();
      if (!out.has(ADDRESS + key)) out.set(ADDRESS + key, { address: a, key, owner: null, external: true });
    }
  }
}

function addParticipant(out: Map<string, Recipient>, p: ParticipantRecord): void {
  if (p.kind === 'bot' || out.has(p.id)) return;
  out.set(p.id, p);
}
