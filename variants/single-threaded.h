/* single-threaded - adds upstream's single_threaded option (corosio 7d29b69, cd19108): no scheduler or descriptor locking.
 *
 * For a program that runs the scheduler on one thread and touches it from
 * no other: the scheduler's mutex and every descriptor's mutex become
 * nothing (the condvar is never waited on: with one thread the sentinel
 * is always queued when nobody is in the reactor).  The resolver, whose
 * helper threads post completions, is refused with -ENOTSUP, as upstream
 * refuses DNS in this mode.  Posting from another thread, or running the
 * scheduler on two, is the caller's promise not to (sl_post has no error
 * to return; upstream does not check either).  The timer and signal
 * services keep their locks (the signal registry is process-wide).
 * Expected: every single-thread workload faster by the lock pairs saved.
 */
#define SL_SINGLE_THREADED
#define SL_VARIANT_LOCKS
#define sched_lock(s) ((void)(s))
#define sched_unlock(s) ((void)(s))
#define desc_lock(d) ((void)(d))
#define desc_unlock(d) ((void)(d))
