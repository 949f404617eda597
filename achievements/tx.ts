/**
 * One Postgres transaction on a pooled client: commit on success, roll back on any
 * throw (including a fault injected by a test, or a process that dies mid-way, where
 * Postgres rolls back the aborted connection's transaction itself).
 */
import type { Pool, PoolClient } from '../persistence/index.js';

export type Queryable = Pool | PoolClient;

export async function inTransaction<T>(pool: Pool, fn: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}
