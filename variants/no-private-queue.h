/* no-private-queue - removes M8, the per-thread private queue fast path.
 *
 * In the reference a post from a thread running the scheduler goes to that
 * thread's private queue and count, with no lock, and is spliced into the
 * shared queue after the handler.  Here every post (and every batch of
 * deferred descriptor completions) takes the shared path: the mutex, the
 * atomic work count and the wake policy (condvar signal or eventfd write).
 * Expected loss: a lock pair and a wake decision per same-thread post.
 */
#define SL_HAS_PRIVATE_QUEUE 0
