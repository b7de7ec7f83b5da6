import type pg from 'pg';
import { drizzle } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Find migrations/postgres by walking up from this file (works from the sources and from dist/). */
export function migrationsDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'migrations', 'postgres');
    if (existsSync(join(candidate, 'meta', '_journal.json'))) return candidate;
    const up = dirname(dir);
    if (up === dir) throw new Error('migrations/postgres not found above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
}

/**
 * Apply the committed migrations (drizzle-kit's output) on `client`, which holds the migration advisory
 * lock (engine.ts), so that hubs starting together migrate once; refuse a database migrated by a newer
 * Parley. drizzle keeps what it applied in `drizzle.__drizzle_migrations`.
 */
export async function applyMigrations(client: pg.Client): Promise<void> {
  const folder = migrationsDir();
  const journal = JSON.parse(readFileSync(join(folder, 'meta', '_journal.json'), 'utf8')) as { entries: Array<{ when: number; tag: string }> };
  const newestKnown = Math.max(...journal.entries.map((e) => e.when));
  const { rows: found } = await client.query<{ t: string | null }>("SELECT to_regclass('drizzle.__drizzle_migrations')::text AS t");
  let applied: number | null = null;
  if (found[0]?.t) {
    const { rows } = await client.query<{ applied: string | number | null }>('SELECT max(created_at) AS applied FROM drizzle.__drizzle_migrations');
    applied = rows[0]?.applied == null ? null : Number(rows[0].applied);
  }
  if (applied !== null && Number(applied) > newestKnown) {
    throw new Error(
      `The database was migrated by a newer Parley (migration of ${new Date(Number(applied)).toISOString()}, this build knows up to ` +
        `${new Date(newestKnown).toISOString()}). Upgrade Parley or point PARLEY_DATABASE_URL at another database.`,
    );
  }
  await migrate(drizzle(client), { migrationsFolder: folder });
}
