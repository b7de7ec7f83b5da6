import type { DefinitionInput } from '../../../protocol/index.js';

/**
 * The built-in definitions of NOTIFICATIONS §6 (OneDesk's email settings). Each is driven by an event
 * the hub raises itself and honours one switch of the user's `email` preferences; they are stored like
 * any definition (editable, exported, imported) but cannot be deleted. A `ProjectMemberAdd` event
 * has no item: its item tags describe the project (`<OTOBO_TICKET_Title>` is the project's name).
 */

export const ASSIGNMENT_CHANGES_ID = 'builtin-assignment-changes';
export const NEW_MEMBERS_ID = 'builtin-new-members';

/** The hub's own event types. */
export const ITEM_ASSIGNMENT_UPDATE = 'ItemAssignmentUpdate';
export const PROJECT_MEMBER_ADD = 'ProjectMemberAdd';

/** Which `email` preference switches each built-in definition (read when the event happens). */
export const BUILTIN_PREFERENCE: Readonly<Record<string, 'assignmentChanges' | 'newMembersInMyProjects'>> = {
  [ASSIGNMENT_CHANGES_ID]: 'assignmentChanges',
  [NEW_MEMBERS_ID]: 'newMembersInMyProjects',
};

export const BUILTIN_DEFINITIONS: ReadonlyArray<{ id: string; input: DefinitionInput }> = [
  {
    id: ASSIGNMENT_CHANGES_ID,
    input: {
      name: 'Assignment changes',
      comment: 'Tells a user who was made (or stopped being) the owner or responsible of an item.',
      events: [ITEM_ASSIGNMENT_UPDATE],
      transports: { email: { enabled: true } },
      messages: {
        en: {
          subject: 'Assignment changed: <OTOBO_TICKET_Title>',
          body:
            'Hello <OTOBO_NOTIFICATION_RECIPIENT_UserFirstname>,\n\n' +
            'the assignment of "<OTOBO_TICKET_Title>" (<OTOBO_TICKET_TicketNumber>) changed.\n' +
            'Owner: <OTOBO_TICKET_Owner>\nResponsible: <OTOBO_TICKET_Responsible>\n',
          contentType: 'text/plain',
        },
        de: {
          subject: 'Zuweisung geändert: <OTOBO_TICKET_Title>',
          body:
            'Hallo <OTOBO_NOTIFICATION_RECIPIENT_UserFirstname>,\n\n' +
            'die Zuweisung von „<OTOBO_TICKET_Title>“ (<OTOBO_TICKET_TicketNumber>) hat sich geändert.\n' +
            'Besitzer: <OTOBO_TICKET_Owner>\nVerantwortlich: <OTOBO_TICKET_Responsible>\n',
          contentType: 'text/plain',
        },
      },
    },
  },
  {
    id: NEW_MEMBERS_ID,
    input: {
      name: 'New members in my projects',
      comment: "Tells a project's followers that someone joined it.",
      events: [PROJECT_MEMBER_ADD],
      transports: { email: { enabled: true } },
      messages: {
        en: {
          subject: 'New member in <OTOBO_TICKET_Title>',
          body: 'Hello <OTOBO_NOTIFICATION_RECIPIENT_UserFirstname>,\n\n<OTOBO_CURRENT_UserFullname> now follows the project <OTOBO_TICKET_Title>.\n',
          contentType: 'text/plain',
        },
        de: {
          subject: 'Neues Mitglied in <OTOBO_TICKET_Title>',
          body: 'Hallo <OTOBO_NOTIFICATION_RECIPIENT_UserFirstname>,\n\n<OTOBO_CURRENT_UserFullname> folgt jetzt dem Projekt <OTOBO_TICKET_Title>.\n',
          contentType: 'text/plain',
        },
      },
    },
  },
];
