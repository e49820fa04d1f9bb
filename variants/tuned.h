/* tuned - the composite of the added ideas the kit's numbers support: gated-stop, event-interval, send-recv (bench/HYPOTHESES.md).
 *
 * Each part is its own variant file, included here unchanged.  Left out:
 * batch-drain (its rate effect was not shown, and it loses work
 * conservation: a handler that waits for another queued behind it in the
 * same batch waits in vain), single-threaded (it gives up the
 * multi-thread properties), hook-interrupts (a cost), asio-cascade and
 * timer-fastpath (no effect shown).  Its property column equals ref's.
 */
#include "event-interval.h"
#include "send-recv.h"
#include "gated-stop.h"
