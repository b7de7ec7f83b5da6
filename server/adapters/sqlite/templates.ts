import type { NewEmailRow, TemplateDoc, TemplateStore } from '../../core/ports/index.js';
import type { SqliteEngine } from './engine.js';
import type { SqliteOutbox } from './outbox.js';

/** Editable templates (`email_templates`, one JSON document per kind) and system emails' outbox rows on SQLite. */
export class SqliteTemplates implements TemplateStore {
  private readonly stmt;

  constructor(
    private readonly engine: SqliteEngine,
    private readonly outbox: SqliteOutbox,
  ) {
    const s = engine.sqlite;
    this.stmt = {
      get: s.prepare('SELECT kind, doc, updated_at FROM email_templates WHERE kind = ?'),
      put: s.prepare('INSERT INTO email_templates (kind, doc, updated_at) VALUES (?, ?, ?) ON CONFLICT (kind) DO UPDATE SET doc = excluded.doc, updated_at = excluded.updated_at'),
      // `prefix || '%'` with LIKE's wildcards escaped: kinds are plain words and dots, but never trust a prefix.
      list: s.prepare("SELECT kind, doc, updated_at FROM email_templates WHERE kind LIKE ? ESCAPE '\\' ORDER BY kind"),
    };
  }

  getTemplate(kind: string): Promise<TemplateDoc | null> {
    const r = this.stmt.get.get(kind) as Row | undefined;
    return Promise.resolve(r ? toDoc(r) : null);
  }

  putTemplate(kind: string, doc: Record<string, unknown>, at: number): Promise<void> {
    return this.engine.enqueue(() => void this.stmt.put.run(kind, JSON.stringify(doc), at));
  }

  listTemplates(prefix: string): Promise<TemplateDoc[]> {
    const rows = this.stmt.list.all(`${prefix.replace(/[\\%_]/g, '\\$&')}%`) as Row[];
    return Promise.resolve(rows.map(toDoc));
  }

  queueSystemEmail(row: NewEmailRow): Promise<void> {
    return this.engine.enqueue(() => this.outbox.insert({ ...row, kind: 'system' }));
  }
}

type Row = { kind: string; doc: string; updated_at: number };

function toDoc(r: Row): TemplateDoc {
  return { kind: r.kind, doc: JSON.parse(r.doc) as Record<string, unknown>, updatedAt: r.updated_at };
}
