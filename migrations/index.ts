// Every migration under the name Kysely records for it (its file name); Kysely runs them in name
// order. Imported, not read from the folder at run time, so that a bundled server carries them.
// A new migration file is listed here too: test/store/migrations.test.ts fails until it is.
// Migrations only add (tables, columns, indexes, new functions beside the ones they replace): a
// node of the version before runs on a database a newer node migrated, during a rolling upgrade
// (README, Running a cluster).
import type { Migration } from 'kysely';
import * as initial from './2026-11-22T00-00-00_initial';
import * as seatsInUseCounter from './2026-11-22T02-00-00_seats-in-use-counter';
import * as activations from './2026-11-26T00-00-00_activations';
import * as policies from './2026-11-26T12-00-00_policies';
import * as seatCounts from './2026-11-26T13-00-00_seat-counts';
import * as operator from './2026-11-26T14-00-00_operator';
import * as webhooks from './2026-11-26T15-00-00_webhooks';
import * as seatPools from './2026-11-26T16-00-00_seat-pools';
import * as queue from './2026-11-26T17-00-00_queue';
import * as seatRequests from './2026-11-26T18-00-00_seat-requests';
import * as sessionsGroupIndex from './2026-11-26T19-00-00_sessions-group-index';
import * as oneTripSeats from './2026-11-26T20-00-00_one-trip-seats';
import * as partialIndexes from './2026-11-26T21-00-00_partial-indexes';
import * as idleSessionsIndex from './2026-11-26T22-00-00_idle-sessions-index';
import * as auditLicenseIndex from './2026-11-27T00-00-00_audit-license-index';
import * as webhookConcurrency from './2026-11-27T06-00-00_webhook-concurrency';
import * as webhookBatchSize from './2026-11-27T09-00-00_webhook-batch-size';
import * as activityHorizon from './2026-11-27T19-00-00_activity-horizon';
import * as queueIndexes from './2026-11-27T20-00-00_queue-indexes';
import * as gatheredSeatMoves from './2026-11-28T00-00-00_gathered-seat-moves';
import * as setBasedSeatMoves from './2026-11-28T02-00-00_set-based-seat-moves';
import * as detachSetReply from './2026-11-28T05-00-00_detach-set-reply';
import * as expireNothingDue from './2026-11-28T10-00-00_expire-nothing-due';
import * as licenseMoves from './2026-11-29T04-00-00_license-moves';
import * as knownLicenseReplies from './2026-11-29T14-00-00_known-license-replies';
import * as tenantKick from './2026-11-30T00-00-00_tenant-kick';

export const migrations: Record<string, Migration> = {
  '2026-11-22T00-00-00_initial': initial,
  '2026-11-22T02-00-00_seats-in-use-counter': seatsInUseCounter,
  '2026-11-26T00-00-00_activations': activations,
  '2026-11-26T12-00-00_policies': policies,
  '2026-11-26T13-00-00_seat-counts': seatCounts,
  '2026-11-26T14-00-00_operator': operator,
  '2026-11-26T15-00-00_webhooks': webhooks,
  '2026-11-26T16-00-00_seat-pools': seatPools,
  '2026-11-26T17-00-00_queue': queue,
  '2026-11-26T18-00-00_seat-requests': seatRequests,
  '2026-11-26T19-00-00_sessions-group-index': sessionsGroupIndex,
  '2026-11-26T20-00-00_one-trip-seats': oneTripSeats,
  '2026-11-26T21-00-00_partial-indexes': partialIndexes,
  '2026-11-26T22-00-00_idle-sessions-index': idleSessionsIndex,
  '2026-11-27T00-00-00_audit-license-index': auditLicenseIndex,
  '2026-11-27T06-00-00_webhook-concurrency': webhookConcurrency,
  '2026-11-27T09-00-00_webhook-batch-size': webhookBatchSize,
  '2026-11-27T19-00-00_activity-horizon': activityHorizon,
  '2026-11-27T20-00-00_queue-indexes': queueIndexes,
  '2026-11-28T00-00-00_gathered-seat-moves': gatheredSeatMoves,
  '2026-11-28T02-00-00_set-based-seat-moves': setBasedSeatMoves,
  '2026-11-28T05-00-00_detach-set-reply': detachSetReply,
  '2026-11-28T10-00-00_expire-nothing-due': expireNothingDue,
  '2026-11-29T04-00-00_license-moves': licenseMoves,
  '2026-11-29T14-00-00_known-license-replies': knownLicenseReplies,
  '2026-11-30T00-00-00_tenant-kick': tenantKick,
};
