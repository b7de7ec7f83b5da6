import type Database from 'better-sqlite3';
import type { BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Find migrations/sqlite by walking up from this file (works from the sources and from dist/). */
export function migrationsDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'migrations', 'sqlite');
    if (existsSync(join(candidate, 'meta', '_journal.json'))) return candidate;
    const up = dirname(dir);
    if (up === dir) throw new Error('migrations/sqlite not found above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
}

/** Apply the committed migrations (drizzle-kit's output); refuse a database migrated by a newer Parley. */
export function applyMigrations(sqlite: Database.Database, db: BetterSQLite3Database<Record<string, unknown>>): void {
  const folder = migrationsDir();
  const journal = JSON.parse(readFileSync(join(folder, 'meta', '_journal.json'), 'utf8')) as { entries: Array<{ when: number; tag: string }> };
  const newestKnown = Math.max(...journal.entries.map((e) => e.when));
  const hasTable = sqlite.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '__drizzle_migrations'").get();
  if (hasTable) {
    const applied = sqlite.prepare('SELECT max(created_at) FROM __drizzle_migrations').pluck().get() as number | null;
    if (applied !== null && applied > newestKnown) {
      throw new Error(
        `The database was migrated by a newer Parley (migration of ${new Date(applied).toISOString()}, this build knows up to ` +
          `${new Date(newestKnown).toISOString()}). Upgrade Parley or point PARLEY_DATA_DIR at another directory.`,
      );
    }
  }
  migrate(db, { migrationsFolder: folder });
}
