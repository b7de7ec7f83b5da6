import type { ArticleChannel, PersonalTransport, SenderKind } from '../../../protocol/index.js';

/** The tables and helpers both directions of the OTOBO mapping share (see otobo.ts). */

export const VALID_ID = { valid: '1', invalid: '2', 'invalid-temporarily': '3' } as const;
export const LOCK_ID = { unlock: '1', lock: '2', tmp_lock: '3' } as const;
export const SENDER_TYPE_ID: Record<SenderKind, string> = { user: '1', system: '2', customer: '3' };
export const CHANNEL_ID: Record<ArticleChannel, string> = { email: '1', phone: '2', internal: '3', chat: '4' };
export const TRANSPORT_NAME: Record<PersonalTransport, string> = { email: 'Email', web: 'Web', sms: 'SMS' };
export const VISIBLE_FOR_AGENT = { no: '0', yes: '1', mandatory: '2' } as const;
export const MISSING_SIGNING = { skip: 'Skip', send_unsigned: 'Send' } as const;
export const MISSING_CRYPTING = { skip: 'Skip', send_unencrypted: 'Send' } as const;

/** OTOBO's numeric ticket attribute filters: `filter.fields.<key>` under the same key. */
export const ID_FIELDS = new Set(['StateID', 'PriorityID', 'QueueID', 'ServiceID', 'TypeID']);
/** Parley's filters by name, which OTOBO filters by id. */
export const NAME_FILTERS = {
  status: 'ParleyState',
  priority: 'ParleyPriority',
  queue: 'ParleyQueue',
  service: 'ParleyService',
  type: 'ParleyType',
} as const;
/** Filters OTOBO has under its own key, with the same meaning. */
export const OTOBO_FILTERS = {
  customerId: 'CustomerUserID',
  customerCompany: 'CustomerID',
  calendarId: 'CalendarID',
  title: 'Title',
  location: 'Location',
  resourceId: 'ResourceID',
} as const;
export const EMAIL_KEYS = [
  'RecipientEmail',
  'IsVisibleForCustomer',
  'TransportEmailTemplate',
  'EmailSecuritySettings',
  'EmailSigningCrypting',
  'EmailMissingSigningKeys',
  'EmailMissingCryptingKeys',
  'ParleyEmailOnlyIfUnseenMs',
] as const;
export const MESSAGE_KEYS = ['ParleyMessageEnabled', 'ParleyMessageBotID', 'ParleyMessageVisibility'] as const;
/** Keys with one meaningful value: kept values replace Parley's on export instead of joining them. */
export const SINGLE_VALUED = new Set([
  'NotificationType',
  'SendOnOutOfOffice',
  'OncePerDay',
  'VisibleForAgent',
  'VisibleForAgentTooltip',
  'IsVisibleForCustomer',
  'TransportEmailTemplate',
  'EmailSecuritySettings',
  'EmailSigningCrypting',
  'EmailMissingSigningKeys',
  'EmailMissingCryptingKeys',
  'ArticleIsVisibleForCustomer',
  'ArticleAttachmentInclude',
  'ParleyArticleHasAttachment',
  'ParleyEmailOnlyIfUnseenMs',
  ...MESSAGE_KEYS,
]);
export const ENTRY_KEYS = new Set(['Name', 'Comment', 'ValidID', 'Data', 'Message']);
export const MESSAGE_FIELDS = new Set(['Subject', 'Body', 'ContentType']);

export const flag = (b: boolean): string => (b ? '1' : '0');
/** OTOBO's (Perl's) truth: a first value that is neither empty nor `0`. */
export const truthy = (v: readonly string[] | undefined): boolean => v !== undefined && v[0] !== undefined && v[0] !== '' && v[0] !== '0';
export const invert = <K extends string>(m: Record<K, string>): Map<string, K> => new Map(Object.entries(m).map(([k, v]) => [v as string, k as K]));
