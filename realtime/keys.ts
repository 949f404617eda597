/**
 * Redis keys and pub/sub channels of realtime (table in README.md). The coordination keys
 * of the board ticker share the hash tag `{rt}`, so one script touches them on Redis
 * Cluster; they are small (one field or member per watched board).
 */
export class RealtimeKeys {
  constructor(private readonly prefix: string) {}

  /**
   * Pub/sub channel prefix of the socket.io Redis adapter and emitter (not a key): every
   * engine process and worker of one deployment must use the same one.
   */
  channel(): string {
    return `${this.prefix}rt:sio`;
  }

  /** SET of board ids changed since their last computed update; TTL 60 s, refreshed by every mark; tag `{rt}`. */
  dirty(): string {
    return `${this.prefix}rt:{rt}:dirty`;
  }

  /** ZSET board id → unix ms until which some process holds a subscriber (heartbeat); TTL 10 × the watch TTL; tag `{rt}`. */
  watched(): string {
    return `${this.prefix}rt:{rt}:watched`;
  }

  /** HASH board id → the last tick number an update was claimed for; TTL 1 day, refreshed on claim; tag `{rt}`. */
  ticks(): string {
    return `${this.prefix}rt:{rt}:ticks`;
  }

  /** HASH board id → `<tick>|<JSON {period, top}>` last pushed; TTL 1 day, refreshed on write; tag `{rt}`. */
  tops(): string {
    return `${this.prefix}rt:{rt}:tops`;
  }

  /** Prefix of every key above. */
  all(): string {
    return `${this.prefix}rt:`;
  }
}
