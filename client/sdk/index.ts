export { SeatClient, SeatState, type SeatClientEvents, type SeatClientOptions } from './seat-client';
