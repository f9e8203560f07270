// Prometheus metrics at /metrics, fed by the engine's domain events.
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { SeatEngine } from './seats/seat-engine';

export function createMetrics(engine: SeatEngine): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const admissions = new Counter({ name: 'seat_admissions_total', help: 'Admissions by outcome', labelNames: ['outcome'], registers: [registry] });
  const ended = new Counter({ name: 'seat_sessions_ended_total', help: 'Released seats by reason', labelNames: ['reason'], registers: [registry] });
  const inUse = new Gauge({ name: 'seat_seats_in_use', help: 'Seats in use per license (as last seen by this node)', labelNames: ['license'], registers: [registry] });
  engine.subscribe((e) => {
    switch (e.type) {
      case 'session.started':
      case 'session.resumed':
        admissions.inc({ outcome: e.type === 'session.started' ? 'granted' : 'resumed' });
        inUse.set({ license: e.license.id }, e.seatsInUse);
        break;
      case 'denied':
        admissions.inc({ outcome: `denied_${e.denial.reason}` });
        break;
      case 'session.ended':
        ended.inc({ reason: e.reason });
        inUse.set({ license: e.license.id }, e.seatsInUse);
        break;
      default:
    }
  });
  return registry;
}
