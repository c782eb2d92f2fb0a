import os from 'node:os';
import path from 'node:path';
import bytes from 'bytes';
import { z } from 'zod';
import { parseDuration } from '../contracts/agreement.js';

const duration = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((value, ctx) => {
      const millis = parseDuration(value);
      if (millis === null) {
        ctx.addIssue({ code: 'custom', message: `expected a positive duration such as 30m, 4h or 2d, found "${value}"` });
        return z.NEVER;
      }
      return millis;
    });

const size = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((value, ctx) => {
      const parsed = /^\d+(\.\d+)?\s*(b|kb|mb|gb)?$/i.test(value.trim()) ? bytes.parse(value) : null;
      if (parsed === null || parsed < 1) {
        ctx.addIssue({ code: 'custom', message: `expected a size such as 512kb, 1mb or 2mb, found "${value}"` });
        return z.NEVER;
      }
      return Math.floor(parsed);
    });

const port = z.coerce.number().int().min(0).max(65535);

export const PROCESS_ROLES = ['gateway', 'api', 'worker'] as const;
export type ProcessRole = (typeof PROCESS_ROLES)[number];

const roles = z
  .string()
  .default(PROCESS_ROLES.join(','))
  .transform((value, ctx) => {
    const names = value.split(',').map((r) => r.trim()).filter((r) => r.length > 0);
    const unknown = names.filter((r) => !(PROCESS_ROLES as readonly string[]).includes(r));
    if (names.length === 0 || unknown.length > 0) {
      ctx.addIssue({ code: 'custom', message: `expected a comma-separated list of ${PROCESS_ROLES.join(', ')}, found "${value}"` });
      return z.NEVER;
    }
    return new Set(names as ProcessRole[]);
  });

const environment = z.object({
  CONCIERGE_ROLES: roles,
  PORT: port.default(8080),
  HOST: z.string().default('0.0.0.0'),
  PUBLIC_URL: z.url().optional(),
  DATA_DIR: z.string().default('./data'),
  AGREEMENTS_DIR: z.string().optional(),
  DATABASE_URL: z.string().min(1).optional(),
  TEMPORAL_ADDRESS: z.string().min(1).optional(),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('concierge'),
  TEMPORAL_DEV_PORT: port.default(7233),
  TEMPORAL_DEV_UI_PORT: port.optional(),
  TEMPORAL_CLI: z.string().min(1).optional(),
  CONCIERGE_ADMIN_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  SMTP_URL: z.string().regex(/^smtps?:\/\/[^/]/, 'expected an smtp:// or smtps:// URL such as smtp://user:pass@mail.example.com:587').optional(),
  MAIL_FROM: z.string().regex(/<[^\s<>@]+@[^\s<>@]+>$|^[^\s<>@]+@[^\s<>@]+$/, 'expected an address such as "Concierge <noc@example.com>" or noc@example.com').default('Concierge <concierge@localhost>'),
  GATEWAY_NODE: z.string().min(1).default(os.hostname()),
  OCPP_HEARTBEAT_INTERVAL: z.coerce.number().int().positive().default(300),
  OCPP_PING_INTERVAL: duration('30s'),
  OCPP_COMMAND_TIMEOUT: duration('30s'),
  OFFLINE_GRACE: duration('10m'),
  OUTBOX_RETENTION: duration('7d'),
  INCIDENT_RESPOND_WITHIN: duration('1h'),
  INCIDENT_FIX_WITHIN: duration('8h'),
  API_BODY_LIMIT: size('1mb'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type Config = ReturnType<typeof toConfig>;

function toConfig(env: z.infer<typeof environment>) {
  const dataDir = path.resolve(env.DATA_DIR);
  const temporalUiPort = env.TEMPORAL_DEV_UI_PORT ?? env.TEMPORAL_DEV_PORT + 1000;
  return {
    roles: env.CONCIERGE_ROLES,
    port: env.PORT,
    host: env.HOST,
    publicUrl: env.PUBLIC_URL,
    dataDir,
    agreementsDir: env.AGREEMENTS_DIR ? path.resolve(env.AGREEMENTS_DIR) : undefined,
    database: env.DATABASE_URL ? { url: env.DATABASE_URL } : { pgliteDir: path.join(dataDir, 'pglite') },
    temporal: {
      /** Unset: Concierge runs the Temporal CLI dev server itself, with SQLite under dataDir. */
      address: env.TEMPORAL_ADDRESS,
      namespace: env.TEMPORAL_NAMESPACE,
      taskQueue: env.TEMPORAL_TASK_QUEUE,
      devServer: { port: env.TEMPORAL_DEV_PORT, uiPort: temporalUiPort, cli: env.TEMPORAL_CLI, dbFile: path.join(dataDir, 'temporal.sqlite') },
    },
    adminToken: env.CONCIERGE_ADMIN_TOKEN,
    smtpUrl: env.SMTP_URL,
    mailFrom: env.MAIL_FROM,
    gatewayNode: env.GATEWAY_NODE,
    heartbeatIntervalSeconds: env.OCPP_HEARTBEAT_INTERVAL,
    pingIntervalMs: env.OCPP_PING_INTERVAL,
    commandTimeoutMs: env.OCPP_COMMAND_TIMEOUT,
    offlineGraceMs: env.OFFLINE_GRACE,
    outboxRetentionMs: env.OUTBOX_RETENTION,
    incidentSla: { respondWithinMs: env.INCIDENT_RESPOND_WITHIN, fixWithinMs: env.INCIDENT_FIX_WITHIN },
    /** The largest request body the API reads (photo uploads have their own limit). */
    bodyLimitBytes: env.API_BODY_LIMIT,
    logLevel: env.LOG_LEVEL,
  };
}

export class ConfigError extends Error {}

/** Reads the configuration from environment variables; every problem is reported at once. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // A variable set to the empty string counts as unset (FOO= in a shell or compose file).
  const parsed = environment.safeParse(Object.fromEntries(Object.entries(env).filter(([, value]) => value !== '')));
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  return toConfig(parsed.data);
}
