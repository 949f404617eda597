/**
 * Rebuild: after Redis lost data (FLUSHALL, a failover, a restore), recreate every
 * rebuildable key from Postgres alone by replaying the ledger in order.
 * Run it with the engine stopped: events applied live during the scan are safe
 * (replay is idempotent) but a key deleted under a live reader shows zeros briefly.
 */
import { deleteByPrefix } from '../persistence/index.js';
import type { Engine } from './engine.js';

export interface RebuildReport {
  deletedKeys: number;
  events: number;
}

export async function rebuild(engine: Engine): Promise<RebuildReport> {
  let deletedKeys = 0;
  for (const prefix of engine.rebuildablePrefixes) deletedKeys += await deleteByPrefix(engine.redis, prefix);
  let events = 0;
  for await (const page of engine.ledger.scan()) {
    await Promise.all(page.map((row) => engine.ingest.replay(row)));
    events += page.length;
  }
  await engine.ledger.drain();
  // Moderator decisions: the open queue and reviews, and every compensation re-applied on
  // top of the replayed outcomes (a revoked cheat stays gone, released points stay counted).
  await engine.antiCheat.restore();
  // What the ledger does not hold: unlock times and award counts, from achievements' tables.
  await engine.achievements.restore();
  return { deletedKeys, events };
}
