// Package matchmaking puts players into rooms: it queues tickets (one player
// or a whole party) per game mode, groups them by age or by rating window,
// fills running rooms that have free seats (backfill), asks an [Allocator]
// for new rooms, reserves seats, and tells every player where to go. It also
// keeps players' ratings (multi-player Elo) and the party registry.
//
// Concurrency: a [Matchmaker] has one goroutine of its own, the one that
// calls [Matchmaker.Run]; it runs the matching passes, status updates and
// timeouts. Enqueue, Cancel, Fail, Stop, QueueSizes, Rating and ReportResult
// may be called from any goroutine. [LocalAllocator] starts one goroutine per
// room and waits for all of them in Close. [Parties] is a plain registry,
// safe for concurrent use, with no goroutine.
//
// Shutdown order: [Matchmaker.Stop] (queued players get FAILED), then
// [LocalAllocator.Drain] (no new rooms), then let rooms finish with
// [LocalAllocator.Wait] under a deadline, then [LocalAllocator.Close].
package matchmaking
