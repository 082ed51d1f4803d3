import type { StatelyInspectionEvent } from '@statelyai/inspect';
import { WebSocket } from 'ws';

/** A viewer as the Stately inspector's bridge page is one: a WebSocket client reading one JSON event per message. */
export interface InspectionClient {
  received: StatelyInspectionEvent[];
  /** Resolves with everything received once the server closes the connection (it does when inspection ends). */
  closed: Promise<StatelyInspectionEvent[]>;
}

export async function connectInspectionClient(url: string): Promise<InspectionClient> {
  const socket = new WebSocket(url);
  const received: StatelyInspectionEvent[] = [];
  socket.on('message', (data) => received.push(JSON.parse(String(data)) as StatelyInspectionEvent));
  const closed = new Promise<StatelyInspectionEvent[]>((resolve) => socket.on('close', () => resolve(received)));
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  return { received, closed };
}

export const ofType = <T extends StatelyInspectionEvent['type']>(events: StatelyInspectionEvent[], type: T) =>
  events.filter((e): e is Extract<StatelyInspectionEvent, { type: T }> => e.type === type);
