/**
 * Domain events: what happened, told to whoever cares (feed, realtime, …) inside this
 * process. Cross-process delivery is the listener's job (realtime uses the socket.io
 * Redis adapter; feed fan-out goes through BullMQ). A failing listener is logged and
 * never fails the event that emitted it.
 */
import { EventEmitter } from 'node:events';

export interface DomainEventMap {
  PointsAwarded: {
    userId: string;
    eventId: string;
    awarded: number;
    capped: number;
    held: number;
    dailyTotal: number;
    day: string;
    occurredAt: string;
    activity: string;
    durationSec: number;
    distanceM?: number;
  };
}

export type DomainEventName = keyof DomainEventMap;
type Listener<K extends DomainEventName> = (payload: DomainEventMap[K]) => void | Promise<void>;

export class DomainEvents {
  private readonly emitter = new EventEmitter({ captureRejections: false });

  constructor(private readonly onError: (err: unknown, name: string) => void = () => {}) {
    this.emitter.setMaxListeners(100);
  }

  on<K extends DomainEventName>(name: K, listener: Listener<K>): () => void {
    const wrapped = (payload: DomainEventMap[K]) => {
      try {
        const r = listener(payload);
        if (r instanceof Promise) r.catch((err) => this.onError(err, name));
      } catch (err) {
        this.onError(err, name);
      }
    };
    this.emitter.on(name, wrapped);
    return () => this.emitter.off(name, wrapped);
  }

  emit<K extends DomainEventName>(name: K, payload: DomainEventMap[K]): void {
    this.emitter.emit(name, payload);
  }
}
