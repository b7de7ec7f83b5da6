import type { NewEmailRow, TemplateDoc, TemplateStore } from '../../core/ports/index.js';
import type { PgEngine } from './engine.js';
import type { PgOutbox } from './outbox.js';

type Row = { kind: string; doc: Record<string, unknown>; updated_at: number };
const toDoc = (r: Row): TemplateDoc => ({ kind: r.kind, doc: r.doc, updatedAt: r.updated_at });

/** Editable templates (`email_templates`, one jsonb document per kind) and system emails' outbox rows on PostgreSQL. */
export class PgTemplates implements TemplateStore {
  constructor(
    private readonly engine: PgEngine,
    private readonly outbox: PgOutbox,
  ) {}

  async getTemplate(kind: string): Promise<TemplateDoc | null> {
    const [r] = await this.engine.read<Row>('SELECT kind, doc, updated_at FROM email_templates WHERE kind = $1', [kind], 'pg_tpl_get');
    return r ? toDoc(r) : null;
  }

  putTemplate(kind: string, doc: Record<string, unknown>, at: number): Promise<void> {
    return this.engine.enqueue(async (tx) => {
      await tx.run(
        'INSERT INTO email_templates (kind, doc, updated_at) VALUES ($1, $2::jsonb, $3) ON CONFLICT (kind) DO UPDATE SET doc = excluded.doc, updated_at = excluded.updated_at',
        [kind, JSON.stringify(doc), at],
        'pg_tpl_put',
      );
    });
  }

  async listTemplates(prefix: string): Promise<TemplateDoc[]> {
    // starts_with: no LIKE wildcards to escape in the prefix.
    const rows = await this.engine.read<Row>('SELECT kind, doc, updated_at FROM email_templates WHERE starts_with(kind, $1) ORDER BY kind COLLATE "C"', [prefix], 'pg_tpl_list');
    return rows.map(toDoc);
  }

  queueSystemEmail(row: NewEmailRow): Promise<void> {
    return this.engine.enqueue((tx) => this.outbox.insert(tx, [{ ...row, kind: 'system' }]));
  }
}
