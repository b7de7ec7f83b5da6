import type { z } from 'zod';
import type { DefinitionInputSchema } from '../../../protocol/index.js';

/**
 * OTOBO's `Export_Notification.yml` entries ↔ Parley's notification definitions (NOTIFICATIONS.md §5).
 * Pure: the YAML text is the adapter's business (server/adapters/yaml/otobo-yaml.ts); this module sees
 * the parsed list.
 *
 * An entry is `{Name, Comment, ValidID, Data: {<key>: [strings]}, Message: {<lang>: {Subject, Body,
 * ContentType}}}`. OTOBO's own Data keys keep OTOBO's meaning; what Parley has and OTOBO has not is
 * written under keys that start with `Parley` (OTOBO stores such keys and exports them again, unused):
 *
 * | Parley                                         | Data key                                  |
 * |------------------------------------------------|-------------------------------------------|
 * | filter.status / priority / queue / service / type (names) | `ParleyState` / `ParleyPriority` / `ParleyQueue` / `ParleyService` / `ParleyType` |
 * | filter.customerId (the customer participant)   | `CustomerUserID` (OTOBO's customer user)  |
 * | filter.customerCompany                         | `CustomerID` (OTOBO's customer company)   |
 * | filter.fields.StateID … TypeID                 | `StateID`, `PriorityID`, `QueueID`, `ServiceID`, `TypeID` |
 * | filter.fields.<Name> (any other)               | `DynamicField_<Name>` (`Search_DynamicField_<Name>` is read too) |
 * | articleFilter.hasAttachment                    | `ParleyArticleHasAttachment` (`['1']`/`['0']`) |
 * | transports.email.onlyIfUnseenMs                | `ParleyEmailOnlyIfUnseenMs` (`['<ms>']`)   |
 * | transports.message {enabled, botId, visibility}| `ParleyMessageEnabled`, `ParleyMessageBotID`, `ParleyMessageVisibility` |
 * | transports.web / sms present but switched off  | `ParleyDisabledTransports` (`Web`, `SMS`) |
 *
 * A present `email` transport always writes `TransportEmailTemplate: [Default]`; on import, email is
 * present when `Transports` names `Email` or any email setting key is there (OTOBO keeps those
 * settings while the transport is off). `LanguageID` (OTOBO's list of the message languages) is
 * written from `messages` and read as nothing more. `ArticleAttachmentInclude` (OTOBO attaches the
 * article's files) has no Parley counterpart: `['1']` is kept with a warning, `['0']` means nothing.
 *
 * **Kept keys.** Whatever Parley cannot act on is kept in `otobo` and written again: unknown Data keys
 * whole, the values of a known key Parley cannot represent (a relation or transport it does not
 * know, a template other than `Default`, security settings without a mode, …) and unknown top-level
 * keys (`ID`, `ChangeTime`, …). Each raises one warning `{name, key}`. On export, kept values of a key
 * Parley also writes are appended to a list-valued key and replace a single-valued one — exactly
 * what undoes the import's split.
 *
 * **Round trip.** For every valid definition, `fromOtoboEntries([toOtoboEntry(d)])` gives `d` back,
 * reading an empty `otobo` and an empty `filter.fields` as absent (the format has no way to say
 * "present, empty"), provided `otobo.data` keeps only keys Parley does not map itself (what import
 * produces). Present-but-empty filter lists are written as empty lists so they come back.
 */

/** A definition as `DefinitionInputSchema` parsed it: every default filled in. */
export type ImportedDefinition = z.output<typeof DefinitionInputSchema>;

export interface OtoboImport {
  /** The entries that are valid definitions, in file order. */
  definitions: Array<{ name: string; input: ImportedDefinition }>;
  /** One per entry that is not (named `entry <n>` when it has no usable Name); the others import. */
  errors: Array<{ name: string; error: string }>;
  /** One per kept key of an imported entry (`Data` keys by name, top-level ones by name, dropped message keys as `Message.<lang>.<key>`). */
  warnings: Array<{ name: string; key: string }>;
}

export { toOtoboEntry } from './otobo-export.js';
export { fromOtoboEntries } from './otobo-import.js';
