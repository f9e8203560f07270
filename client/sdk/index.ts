export { type OfflineWarning, SeatClient, SeatState, type SeatClientEvents, type SeatClientOptions } from './seat-client';
export { LeaseState, SeatLease, type LeaseDenial, type LeaseEnded, type LeaseError, type LeaseGrant, type SeatLeaseEvents, type SeatLeaseOptions } from './seat-lease';
