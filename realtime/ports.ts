/**
 * The small shapes realtime's parts share: how they log and how they emit to rooms.
 */
export interface RealtimeLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** Emits to the union of rooms, across processes; `volatile` may drop it for a socket that cannot take it now. */
export type RoomEmitter = (rooms: string[], event: string, payload: unknown, volatile?: boolean) => void;
