// runtime/protocols/registry.ts — the protocols capc decodes, each with how
// its first bytes are recognised (and whose they are: a client's or a
// server's), how its conversation starts from them, how a statement is
// fingerprinted, and the ports its servers usually listen on (a hint, used
// once connections carry their ports).
import type { Conversation, DecoderContext } from './conversation.js';
import { PROTOCOLS, type ExchangeDraft, type ProtocolName, type Role } from './exchange.js';
import { sqlFingerprint } from './fingerprint.js';
import { detectHttp, HttpConversation } from './http.js';
import { detectMysql, MysqlConversation } from './mysql.js';
import { detectPostgres, PostgresConversation } from './postgres.js';
import { detectRedis, RedisConversation } from './redis.js';

/** `client`/`server`: the bytes are that side's messages; `more`: too few to say. */
export type Detection = 'client' | 'server' | 'no' | 'more';

export interface ProtocolModule {
  name: ProtocolName;
  /** Whose are these first bytes of one direction? `relaxed`: the user named this protocol, weaker signs will do. */
  detect(first: Buffer, relaxed: boolean): Detection;
  /** A conversation that starts with `first`, sent by `by`. */
  create(ctx: DecoderContext, first: Buffer, by: Role): Conversation;
  fingerprint(x: ExchangeDraft): string | null;
  ports: number[];
}

const MODULES: Record<ProtocolName, ProtocolModule> = {
  postgres: {
    name: 'postgres',
    detect: detectPostgres,
    create: (ctx, first, by) => new PostgresConversation(ctx, by === 'client' && first[0] === 0),
    fingerprint: (x) => (x.statement === null ? null : sqlFingerprint(x.statement, 'postgres')),
    ports: [5432],
  },
  mysql: {
    name: 'mysql',
    detect: detectMysql,
    create: (ctx, first, by) =>
      new MysqlConversation(
        ctx,
        by === 'server' && first[3] === 0 && first[4] === 10
          ? 'greeting'
          : by === 'client' && (first[3] === 1 || first[3] === 2)
            ? 'login'
            : 'command',
      ),
    fingerprint: (x) => (x.statement === null ? null : sqlFingerprint(x.statement, 'mysql')),
    ports: [3306],
  },
  http: {
    name: 'http',
    detect: detectHttp,
    create: (ctx) => new HttpConversation(ctx),
    fingerprint: (x) => x.fingerprint ?? null,
    ports: [80, 8080, 443, 8443],
  },
  redis: {
    name: 'redis',
    detect: detectRedis,
    create: (ctx) => new RedisConversation(ctx),
    fingerprint: (x) => x.fingerprint ?? null,
    ports: [6379, 6380],
  },
};

export function protocolModule(name: ProtocolName): ProtocolModule {
  return MODULES[name];
}

function isProtocol(name: string): name is ProtocolName {
  return (PROTOCOLS as readonly string[]).includes(name);
}

/**
 * `auto`, or a comma-separated list of protocol names, as `--decode` and
 * `decode(...)` take them: the protocols to try, or the name that is not one.
 */
export function parseProtocols(spec: string[]): { protocols: ProtocolName[]; unknown?: string } {
  const names = spec
    .flatMap((s) => s.split(','))
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  if (!names.length || names.includes('auto')) return { protocols: [...PROTOCOLS] };
  const unknown = names.find((n) => !isProtocol(n));
  if (unknown) return { protocols: [], unknown };
  return { protocols: [...new Set(names as ProtocolName[])] };
}
