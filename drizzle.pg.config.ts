import { defineConfig } from 'drizzle-kit';

/** The PostgreSQL schema's migrations: `npx drizzle-kit generate --config drizzle.pg.config.ts`. */
export default defineConfig({
  dialect: 'postgresql',
  schema: './server/adapters/postgres/schema.ts',
  out: './migrations/postgres',
});
