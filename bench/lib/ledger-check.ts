/**
 * After the engine stopped: is every acknowledged event in the ledger, and what did the
 * events write to Postgres? Per-table row counts come from pg_stat_user_tables of the
 * benchmark's own schema, so they are exact for this run whatever else the server does.
 */
import pg from 'pg';

export interface Durability {
  acknowledged: number;
  ledgerRows: number;
  unapplied: number;
  ok: boolean;
}

export interface TableWrites {
  table: string;
  /** Rows inserted / updated / deleted per ledger row (= per event that reached the ledger). */
  insertsPerEvent: number;
  updatesPerEvent: number;
  deletesPerEvent: number;
}

export async function inspectLedger(
  databaseUrl: string,
  schema: string,
  acknowledged: number,
  failed: number,
): Promise<{ durability: Durability; writes: TableWrites[] }> {
  // Backends flush their table statistics when they exit; the engine's just did.
  await new Promise((r) => setTimeout(r, 1500));
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: number; unapplied: number }>(
      `SELECT count(*)::int AS n, (count(*) FILTER (WHERE applied_at IS NULL))::int AS unapplied
         FROM "${schema}".ingest_events`,
    );
    const { n, unapplied } = rows[0]!;
    // Every 2xx is in the ledger; a failed request may or may not have committed first.
    const durability = { acknowledged, ledgerRows: n, unapplied, ok: n >= acknowledged && n <= acknowledged + failed };
    const stats = await client.query<{ relname: string; ins: string; upd: string; del: string }>(
      `SELECT relname, n_tup_ins AS ins, n_tup_upd AS upd, n_tup_del AS del
         FROM pg_stat_user_tables WHERE schemaname = $1 AND n_tup_ins + n_tup_upd + n_tup_del > 0
        ORDER BY n_tup_ins + n_tup_upd + n_tup_del DESC`,
      [schema],
    );
    const per = (v: string) => (n > 0 ? Math.round((100 * Number(v)) / n) / 100 : 0);
    const writes = stats.rows
      .filter((r) => r.relname !== 'pgmigrations')
      .map((r) => ({
        table: r.relname,
        insertsPerEvent: per(r.ins),
        updatesPerEvent: per(r.upd),
        deletesPerEvent: per(r.del),
      }));
    return { durability, writes };
  } finally {
    await client.end();
  }
}
