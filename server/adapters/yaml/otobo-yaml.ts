import { Buffer } from 'node:buffer';
import { isAlias, isCollection, isMap, isPair, isScalar, parseDocument, stringify, visit } from 'yaml';
import { ProtocolError } from '../../../protocol/index.js';

/** The import limit of NOTIFICATIONS.md §5 (413 `too_large` above it). */
export const MAX_NOTIFICATION_YAML_BYTES = 1024 * 1024;

/**
 * Parses an OTOBO `Export_Notification.yml` into its list of entries (mappings are checked by
 * `fromOtoboEntries`, not here). Only YAML 1.2's core schema: plain mappings, lists, strings, numbers,
 * booleans and null. Throws `ProtocolError`:
 * - `too_large` when `text` is over `maxBytes` UTF-8 bytes (checked before parsing);
 * - `invalid` for a syntax error, more than one document, anything but a list at the top, an anchor
 *   or alias (no entity expansion, no shared nodes), a tag the core schema does not know (`!!js/function`,
 *   `!foo`, `!!binary`, `!!set`, …: nothing builds objects), or a mapping key that is not a string.
 */
export function parseNotificationYaml(text: string, maxBytes = MAX_NOTIFICATION_YAML_BYTES): unknown[] {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > maxBytes) throw new ProtocolError('too_large', `the file has ${bytes} bytes; at most ${maxBytes} are accepted`);
  const doc = parseDocument(text, { schema: 'core', resolveKnownTags: false, uniqueKeys: true, prettyErrors: false });
  const problem = doc.errors[0] ?? doc.warnings[0];
  if (problem) throw new ProtocolError('invalid', `not a valid notification export: ${firstLine(problem.message)}`);
  visit(doc, {
    Alias() {
      throw new ProtocolError('invalid', 'not a valid notification export: YAML aliases are not accepted');
    },
    Node(_key, node) {
      if (node.anchor) throw new ProtocolError('invalid', `not a valid notification export: YAML anchors are not accepted (&${node.anchor})`);
      // The core schema resolved every tag (else a warning above); only its own, which build nothing new.
      if (node.tag && !CORE_TAGS.has(node.tag)) throw new ProtocolError('invalid', `not a valid notification export: the tag ${node.tag} is not accepted`);
    },
    Pair(_key, pair) {
      if (isPair(pair) && pair.key !== null && !(isScalar(pair.key) && !isAlias(pair.key))) {
        throw new ProtocolError('invalid', 'not a valid notification export: a mapping key must be a plain string');
      }
    },
  });
  if (!isCollection(doc.contents) || isMap(doc.contents)) {
    throw new ProtocolError('invalid', 'not a valid notification export: the file must be a YAML list of notifications');
  }
  const value: unknown = doc.toJS({ maxAliasCount: 0 });
  if (!Array.isArray(value)) throw new ProtocolError('invalid', 'not a valid notification export: the file must be a YAML list of notifications');
  return value;
}

const CORE_TAGS = new Set(['tag:yaml.org,2002:map', 'tag:yaml.org,2002:seq', 'tag:yaml.org,2002:str', 'tag:yaml.org,2002:int', 'tag:yaml.org,2002:float', 'tag:yaml.org,2002:bool', 'tag:yaml.org,2002:null']);

const firstLine = (s: string): string => s.split('\n')[0] ?? s;

/**
 * Writes entries as OTOBO does: one YAML document holding the list, `---` first. No anchors (shared
 * objects are written twice), no folding of long lines, so `parseNotificationYaml` reads it back.
 */
export function stringifyNotificationYaml(entries: unknown[]): string {
  return `---\n${stringify(entries, { aliasDuplicateObjects: false, lineWidth: 0, schema: 'core' })}`;
}
