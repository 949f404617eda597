#!/usr/bin/env node
/**
 * `npm run cli -- <command>` (or `npx podium <command>`):
 *   token --sub <id> [--roles user,moderator] [--ttl 12h]   mint a token with JWT_SECRET
 *   migrate                                                apply pending migrations
 *   rebuild                                                recreate Redis state from Postgres
 */
import { parseArgs } from 'node:util';
import pino from 'pino';
import { mintToken, ROLES, type Role } from '../common/index.js';
import { migrateUp } from '../persistence/index.js';
import { loadConfig } from './config.js';
import { createEngine } from './engine.js';
import { rebuild } from './rebuild.js';

const USAGE = `usage: podium <command>
  token --sub <userId> [--roles user,moderator,admin,service] [--ttl 12h]
  migrate
  rebuild`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const config = loadConfig();
  const log = pino({ level: config.log.level });
  switch (command) {
    case 'token': {
      const { values } = parseArgs({
        args: rest,
        options: {
          sub: { type: 'string' },
          roles: { type: 'string', default: 'user' },
          ttl: { type: 'string', default: '12h' },
        },
      });
      if (!values.sub) throw new Error('token needs --sub <userId>');
      const roles = values.roles.split(',').map((r) => r.trim());
      const bad = roles.filter((r) => !(ROLES as readonly string[]).includes(r));
      if (bad.length > 0) throw new Error(`unknown role(s) ${bad.join(', ')}; known: ${ROLES.join(', ')}`);
      if (config.auth.isDevSecret) log.warn('JWT_SECRET is not set: the token is signed with the development secret');
      process.stdout.write(
        `${await mintToken(config.auth.secret, { sub: values.sub, roles: roles as Role[] }, values.ttl)}\n`,
      );
      return 0;
    }
    case 'migrate': {
      const applied = await migrateUp({ url: config.postgres.url, schema: config.postgres.schema });
      log.info({ applied }, applied.length > 0 ? 'migrations applied' : 'nothing to migrate');
      return 0;
    }
    case 'rebuild': {
      const engine = await createEngine(config, { log, migrate: true, jobs: false });
      try {
        const started = Date.now();
        const report = await rebuild(engine);
        log.info({ ...report, ms: Date.now() - started }, 'rebuild done');
      } finally {
        await engine.close();
      }
      return 0;
    }
    default:
      process.stderr.write(`${USAGE}\n`);
      return command ? 2 : 0;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`podium: ${(err as Error).message}\n`);
    process.exit(1);
  },
);
