import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { DEFAULT_LIMITS, RATE_KINDS, type HubLimits, type RateKind } from './core/limits.js';
import { tagConfig } from './core/notifications/tags.js';

const int = (def: number, min = 0) => z.coerce.number().int().min(min).default(def);

/** `PARLEY_RATE_<FRAME>_PER_S` and `…_BURST` for every request frame (server/README.md, "Abuse"). */
const rateVar = (k: RateKind, suffix: 'PER_S' | 'BURST') => `PARLEY_RATE_${k.toUpperCase()}_${suffix}`;
const RATE_VARS = Object.fromEntries(
  RATE_KINDS.flatMap((k) => [
    [rateVar(k, 'PER_S'), z.coerce.number().positive().default(DEFAULT_LIMITS.rates[k].perSecond)],
    [rateVar(k, 'BURST'), int(DEFAULT_LIMITS.rates[k].burst, 1)],
  ]),
) as Record<string, z.ZodDefault<z.ZodCoercedNumber>>;

/** Environment variables (SPEC §6, plus the documented PARLEY_RATE_* and PARLEY_LOG_LEVEL). */
const EnvSchema = z.object({
  PARLEY_HOST: z.string().min(1).default('127.0.0.1'),
  PARLEY_PORT: int(8080).pipe(z.number().max(65535)),
  PARLEY_DATA_DIR: z.string().min(1).default('./data'),
  PARLEY_API_KEY: z.string().min(16, 'PARLEY_API_KEY must be at least 16 characters').optional(),
  PARLEY_JWT_SECRET: z.string().min(32, 'PARLEY_JWT_SECRET must be at least 32 characters').optional(),
  PARLEY_ESCALATION_DELAY_MS: int(60_000),
  PARLEY_ESCALATION_RECOVERY_MS: int(86_400_000),
  PARLEY_SMTP_URL: z.string().optional(),
  PARLEY_MAIL_FROM: z.string().default('Parley <parley@localhost>'),
  PARLEY_APP_URL: z.url().optional(),
  PARLEY_CONVERSATION_URL: z.string().optional(),
  PARLEY_CUSTOMER_URL: z.url().optional(),
  PARLEY_CUSTOMER_LINK_TTL_MS: int(259_200_000, 1),
  // CSP frame-ancestors sources: 'none', 'self', or space-separated hosts/schemes; nothing that could end the directive.
  PARLEY_FRAME_ANCESTORS: z
    .string()
    .trim()
    .default("'none'")
    .refine((v) => /^(?:'none'|(?:'self'|[^\s;,']+)(?:\s+(?:'self'|[^\s;,']+))*)$/.test(v), "PARLEY_FRAME_ANCESTORS must be 'none' or space-separated CSP sources"),
  PARLEY_MAX_FRAME_BYTES: int(65_536, 1024),
  PARLEY_OUTBOX_RETENTION_MS: int(259_200_000),
  PARLEY_MAX_BACKPRESSURE_BYTES: int(1_048_576, 1024),
  PARLEY_RATE_CUSTOMER_OPEN_PER_MIN: z.coerce.number().positive().default(DEFAULT_LIMITS.customerOpen.perSecond * 60),
  PARLEY_RATE_CUSTOMER_OPEN_BURST: int(DEFAULT_LIMITS.customerOpen.burst, 1),
  PARLEY_MAX_SESSIONS_PER_PARTICIPANT: int(DEFAULT_LIMITS.maxSessionsPerParticipant, 1),
  PARLEY_MAX_CUSTOMER_INBOXES: int(DEFAULT_LIMITS.maxCustomerInboxes, 1),
  PARLEY_MAX_INFLIGHT_BYTES: int(DEFAULT_LIMITS.maxInflightBytes, 65_536),
  PARLEY_MAX_REPLY_BYTES: int(DEFAULT_LIMITS.maxReplyBytes, 16_384),
  PARLEY_RATE_REPLY_BYTES_PER_S: int(DEFAULT_LIMITS.replyBytes.perSecond, 16_384),
  PARLEY_RATE_REPLY_BYTES_BURST: int(DEFAULT_LIMITS.replyBytes.burst, 65_536),
  ...RATE_VARS,
  PARLEY_OUTBOX_RETRY_BASE_MS: int(10_000, 10),
  PARLEY_HELLO_TIMEOUT_MS: int(10_000, 100),
  PARLEY_PRESENCE_GRACE_MS: int(5_000, 0),
  PARLEY_NODE_TTL_MS: int(10_000, 3_000),
  PARLEY_DATABASE_URL: z
    .string()
    .regex(/^$|^postgres(ql)?:\/\/\S+$/, 'a postgres:// or postgresql:// URL')
    .optional(),
  PARLEY_REDIS_URL: z
    .string()
    .regex(/^$|^rediss?:\/\/\S+$/, 'a redis:// or rediss:// URL')
    .optional(),
  // Every key and channel starts with it; a colon or similar separator is the caller's choice.
  PARLEY_REDIS_PREFIX: z.string().min(1).max(64).regex(/^\S+$/, 'no spaces').default('parley:'),
  PARLEY_LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),
  PARLEY_DEFAULT_LOCALE: z.string().regex(/^[A-Za-z]{2,3}([_-][A-Za-z0-9]{2,8})*$/, 'a language such as en or pt-BR').default('en'),
  PARLEY_TAG_CONFIG: z.string().optional(),
  PARLEY_SMS_URL: z.url().optional(),
  PARLEY_SMS_SECRET: z.string().min(16, 'at least 16 characters').optional(),
  PARLEY_INBOUND_DOMAIN: z.string().regex(/^[A-Za-z0-9.-]+\.[A-Za-z]{2,}$|^localhost$/, 'a domain such as reply.chat.example.com').optional(),
  PARLEY_INBOUND_SMTP_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  PARLEY_INBOUND_MAX_BYTES: int(10_485_760, 1024),
  PARLEY_SUPPORT_ADDRESS: z.email().optional(),
  PARLEY_INBOUND_REQUIRE_DMARC: z.enum(['0', '1']).default('0'),
  PARLEY_INBOUND_TLS_KEY_FILE: z.string().optional(),
  PARLEY_INBOUND_TLS_CERT_FILE: z.string().optional(),
  PARLEY_PGP_KEY_FILE: z.string().min(1).optional(),
  PARLEY_PGP_PASSPHRASE: z.string().optional(),
  PARLEY_SMIME_KEY_FILE: z.string().min(1).optional(),
  PARLEY_SMIME_CERT_FILE: z.string().min(1).optional(),
});

export interface Config {
  host: string;
  port: number;
  dataDir: string;
  apiKey: string;
  jwtSecret: string;
  /** Secrets generated on this start (to print once). */
  generated: Array<'PARLEY_API_KEY' | 'PARLEY_JWT_SECRET'>;
  escalationDelayMs: number;
  escalationRecoveryMs: number;
  smtpUrl: string | null;
  mailFrom: string;
  appUrl: string;
  conversationUrl: string;
  /** Where customers' emails link (PARLEY_CUSTOMER_URL, default `{appUrl}/chat/`), with `#link=<signed link>`. */
  customerUrl: string;
  /** How long a customer link works (PARLEY_CUSTOMER_LINK_TTL_MS, default 72 h). */
  customerLinkTtlMs: number;
  /** CSP `frame-ancestors` of the hub's pages (PARLEY_FRAME_ANCESTORS). */
  frameAncestors: string;
  maxFrameBytes: number;
  maxBackpressureBytes: number;
  outboxRetentionMs: number;
  /** Per-participant limits (rates, sessions, bytes); the rest of HubLimits comes from the fields above. */
  limits: Pick<
    HubLimits,
    'rates' | 'customerOpen' | 'maxSessionsPerParticipant' | 'maxCustomerInboxes' | 'customerInboxWindowMs' | 'maxInflightBytes' | 'maxReplyBytes' | 'replyBytes'
  >;
  helloTimeoutMs: number;
  outboxRetryBaseMs: number;
  presenceGraceMs: number;
  /** A hub silent this long is dead: its sessions' presence entries lapse (SPEC §6). */
  nodeTtlMs: number;
  /** PARLEY_DATABASE_URL: null, SQLite in the data dir; set, the store is PostgreSQL (SPEC §9). */
  databaseUrl: string | null;
  /** PARLEY_REDIS_URL: null, one process; set, several hubs share frames, presence and membership (SPEC §9). */
  redisUrl: string | null;
  /** PARLEY_REDIS_PREFIX (default `parley:`): the start of every Redis key and channel. */
  redisPrefix: string;
  logLevel: 'debug' | 'info' | 'warn' | 'error' | 'silent';
  /** PARLEY_DEFAULT_LOCALE: the language of notifications when the recipient's is missing. */
  defaultLocale: string;
  /** `<OTOBO_CONFIG_X>` values: PARLEY_TAG_CONFIG over defaults from PARLEY_APP_URL. */
  tagConfig: Record<string, string>;
  /** PARLEY_SMS_URL and PARLEY_SMS_SECRET (both or neither); unset: SMS captured to files. */
  sms: { url: string; secret: string } | null;
  /** Email in (SPEC §8). */
  inbound: {
    /** PARLEY_INBOUND_DOMAIN: reply and bounce addresses live here; null: emails carry no reply address. */
    domain: string | null;
    /** PARLEY_INBOUND_SMTP_PORT: null, no listener. */
    smtpPort: number | null;
    maxBytes: number;
    /** PARLEY_SUPPORT_ADDRESS, lowercased. */
    supportAddress: string | null;
    requireDmarc: boolean;
    tls: { keyFile: string; certFile: string } | null;
    /** Signing keys of reply addresses, kept in the data dir; the last one signs. */
    replyKeys: Array<{ id: string; secret: string }>;
  };
  /** Signed/encrypted notification emails (NOTIFICATIONS §3): the hub's keys; unset, modes that need them meet a missing signing key. */
  emailSecurity: { pgpKeyFile?: string; pgpPassphrase?: string; smimeKeyFile?: string; smimeCertFile?: string };
}

/**
 * Read the environment into a typed config. Secrets not set in the environment are generated on
 * first start and kept in `<dataDir>/secrets.json` (mode 0600) so that they survive restarts.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new Error(`invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  const rates = parsed.data as unknown as Record<string, number>;
  const dataDir = resolve(e.PARLEY_DATA_DIR);
  mkdirSync(dataDir, { recursive: true });
  const secretsFile = join(dataDir, 'secrets.json');
  const stored: { apiKey?: string; jwtSecret?: string; replyKeys?: Array<{ id: string; secret: string }> } = existsSync(secretsFile) ? JSON.parse(readFileSync(secretsFile, 'utf8')) : {};
  const generated: Config['generated'] = [];
  let apiKey = e.PARLEY_API_KEY ?? stored.apiKey;
  let jwtSecret = e.PARLEY_JWT_SECRET ?? stored.jwtSecret;
  if (!apiKey) {
    apiKey = randomBytes(24).toString('base64url');
    generated.push('PARLEY_API_KEY');
  }
  if (!jwtSecret) {
    jwtSecret = randomBytes(32).toString('base64url');
    generated.push('PARLEY_JWT_SECRET');
  }
  // Reply addresses are signed with a key of their own; add one with the next id to rotate (the last signs).
  const replyKeys = stored.replyKeys?.length ? stored.replyKeys : [{ id: 'a', secret: randomBytes(32).toString('base64url') }];
  if (generated.length || !stored.replyKeys?.length) {
    writeFileSync(
      secretsFile,
      JSON.stringify({ ...stored, apiKey: stored.apiKey ?? (e.PARLEY_API_KEY ? undefined : apiKey), jwtSecret: stored.jwtSecret ?? (e.PARLEY_JWT_SECRET ? undefined : jwtSecret), replyKeys }, null, 2) + '\n',
      { mode: 0o600 },
    );
  }
  const appUrl = (e.PARLEY_APP_URL ?? `http://localhost:${e.PARLEY_PORT || 8080}`).replace(/\/+$/, '');
  return {
    host: e.PARLEY_HOST,
    port: e.PARLEY_PORT,
    dataDir,
    apiKey,
    jwtSecret,
    generated,
    escalationDelayMs: e.PARLEY_ESCALATION_DELAY_MS,
    escalationRecoveryMs: e.PARLEY_ESCALATION_RECOVERY_MS,
    smtpUrl: e.PARLEY_SMTP_URL || null,
    mailFrom: e.PARLEY_MAIL_FROM,
    appUrl,
    conversationUrl: e.PARLEY_CONVERSATION_URL ?? `${appUrl}/app/#/c/{conversationId}`,
    customerUrl: e.PARLEY_CUSTOMER_URL ?? `${appUrl}/chat/`,
    customerLinkTtlMs: e.PARLEY_CUSTOMER_LINK_TTL_MS,
    frameAncestors: e.PARLEY_FRAME_ANCESTORS,
    maxFrameBytes: e.PARLEY_MAX_FRAME_BYTES,
    maxBackpressureBytes: e.PARLEY_MAX_BACKPRESSURE_BYTES,
    outboxRetentionMs: e.PARLEY_OUTBOX_RETENTION_MS,
    limits: {
      rates: Object.fromEntries(RATE_KINDS.map((k) => [k, { perSecond: rates[rateVar(k, 'PER_S')]!, burst: rates[rateVar(k, 'BURST')]! }])) as HubLimits['rates'],
      customerOpen: { perSecond: e.PARLEY_RATE_CUSTOMER_OPEN_PER_MIN / 60, burst: e.PARLEY_RATE_CUSTOMER_OPEN_BURST },
      maxSessionsPerParticipant: e.PARLEY_MAX_SESSIONS_PER_PARTICIPANT,
      maxCustomerInboxes: e.PARLEY_MAX_CUSTOMER_INBOXES,
      customerInboxWindowMs: e.PARLEY_ESCALATION_RECOVERY_MS,
      maxInflightBytes: e.PARLEY_MAX_INFLIGHT_BYTES,
      maxReplyBytes: e.PARLEY_MAX_REPLY_BYTES,
      replyBytes: { perSecond: e.PARLEY_RATE_REPLY_BYTES_PER_S, burst: e.PARLEY_RATE_REPLY_BYTES_BURST },
    },
    helloTimeoutMs: e.PARLEY_HELLO_TIMEOUT_MS,
    outboxRetryBaseMs: e.PARLEY_OUTBOX_RETRY_BASE_MS,
    presenceGraceMs: e.PARLEY_PRESENCE_GRACE_MS,
    nodeTtlMs: e.PARLEY_NODE_TTL_MS,
    databaseUrl: e.PARLEY_DATABASE_URL || null,
    redisUrl: e.PARLEY_REDIS_URL || null,
    redisPrefix: e.PARLEY_REDIS_PREFIX,
    logLevel: e.PARLEY_LOG_LEVEL,
    defaultLocale: e.PARLEY_DEFAULT_LOCALE,
    tagConfig: tagConfig(appUrl, e.PARLEY_TAG_CONFIG),
    sms: smsConfig(e.PARLEY_SMS_URL, e.PARLEY_SMS_SECRET),
    inbound: {
      domain: e.PARLEY_INBOUND_DOMAIN?.toLowerCase() ?? null,
      smtpPort: e.PARLEY_INBOUND_SMTP_PORT ?? null,
      maxBytes: e.PARLEY_INBOUND_MAX_BYTES,
      supportAddress: e.PARLEY_SUPPORT_ADDRESS?.toLowerCase() ?? null,
      requireDmarc: e.PARLEY_INBOUND_REQUIRE_DMARC === '1',
      tls: tlsConfig(e.PARLEY_INBOUND_TLS_KEY_FILE, e.PARLEY_INBOUND_TLS_CERT_FILE),
      replyKeys,
    },
    emailSecurity: { pgpKeyFile: e.PARLEY_PGP_KEY_FILE, pgpPassphrase: e.PARLEY_PGP_PASSPHRASE, smimeKeyFile: e.PARLEY_SMIME_KEY_FILE, smimeCertFile: e.PARLEY_SMIME_CERT_FILE },
  };
}

function smsConfig(url: string | undefined, secret: string | undefined): Config['sms'] {
  if (!url && !secret) return null;
  if (!url || !secret) throw new Error('invalid configuration:\n  PARLEY_SMS_URL and PARLEY_SMS_SECRET go together (an SMS webhook is always signed)');
  return { url, secret };
}

function tlsConfig(keyFile: string | undefined, certFile: string | undefined): Config['inbound']['tls'] {
  if (!keyFile && !certFile) return null;
  if (!keyFile || !certFile) throw new Error('invalid configuration:\n  PARLEY_INBOUND_TLS_KEY_FILE and PARLEY_INBOUND_TLS_CERT_FILE go together');
  return { keyFile, certFile };
}
