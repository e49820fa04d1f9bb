/*
 * wake.pml: a Promela model of the epoll scheduler's wake protocol.
 *
 * It holds the protocol ref/scheduler.c takes from corosio's epoll_scheduler:
 * the signal word (bit 0 = signaled, +2 per waiter), the wake policy, the
 * task sentinel in the completed-ops queue, task_running / task_interrupted,
 * the eventfd with its armed flag, a timerfd with deferred programming
 * (timerfd_stale) and up to two timers, the mutex and condition variable, the
 * private queue of a thread running a handler, the outstanding-work count
 * that makes run() return, and the five run functions (run, run_one,
 * wait_one with a deadline, poll, poll_one) with their exit paths.  No
 * sockets, no inline budget.  README.md beside this file maps each step to
 * the C and says what is left out.
 *
 * Protocol switches (spin -D...); none = the fixed reference protocol:
 *   UPSTREAM_EXIT     a run function returns without handing queued work on
 *   UPSTREAM_POLL     poll/poll_one/wait_one(0) never run the reactor
 *   UPSTREAM_WAIT_ONE wait_one returns 0 after any timed reactor pass
 *   UNFIXED           all three (the protocol at upstream 6e759c2)
 *   NO_PRIVATE_QUEUE  a handler's post takes the shared path and the wake policy
 *   NO_SENTINEL       no sentinel: a thread that finds the queue empty runs
 *                     the reactor if nobody does
 *   ASIO_CASCADE      the cascade after popping a handler uses the full wake
 *                     policy (may interrupt the reactor), as Asio does
 *   GATED_STOP        stop writes the eventfd only for a blocked reactor (Asio)
 *   HOOK_INTERRUPTS   the earliest-expiry hook always interrupts the reactor,
 *                     loading nothing (upstream 8199f3c)
 *   TIMER_FASTPATH    the reactor harvests due timers from the heap before
 *                     epoll_wait, with no timerfd read (libuv)
 *   EVENT_INTERVAL    a thread that pops the sentinel with handlers queued
 *                     puts it back EI_N times (default 2) before it polls
 *                     (Tokio's event interval, counted in passes here)
 *   BATCH_DRAIN       a thread that pops a handler takes up to BATCH - 1
 *                     more (default 2 in all), never past the sentinel, runs
 *                     them without the mutex, and puts back at the head of
 *                     the queue what is left when it returns or sees a stop
 *                     (libuv, Tokio; variants/batch-drain.h)
 *   SINGLE_THREADED   the scheduler mutex is nothing (variants/single-
 *                     threaded.h); only with NW=1, no outside thread and
 *                     the sentinel: other settings are refused (#error).
 *                     The NEXT posts are made before the run, by the same
 *                     thread.
 *   AGAIN             a worker whose call returns before the scheduler is
 *                     stopped calls again (while (!sl_stopped(s)) f(s);)
 *   TSO, WAIT_COUNT_LATE, BUG_*: seeded weaknesses, see below and run.sh.
 * Worker modes: MODE1..MODE3 (default MODE_RUN) pick the call each worker
 * makes.  Scenarios (default: an outside thread posts NEXT handlers under a
 * work guard, handlers post NCHILD more, NTIMER timers are pending):
 *   STORM       NSTORM handlers re-post themselves for ever; one timer
 *   TIMER_ARM   an outside thread arms NTIMER timers while NEXT posts go on
 *   WC          work conservation: the first post is a handler that returns
 *               only after every other posted handler has run; with
 *               WC_AFTER the other posts come after it has started
 *   WC_TIMERS   work conservation with two timers: timer 0's handler
 *               returns only after timer 1's handler has run
 *   POLL_READY  one timer already expired, nothing else queued
 *   REARM       each timer's handler arms its timer again REARM times
 *
 * Properties: assertions (one thread at most in the reactor; the mutex is
 * released by its owner; the count never goes negative; a thread leaves its
 * run function with an empty private queue; when every worker has left and
 * one ran run(), every op ran; run() never returns while an outside thread
 * holds a work guard; wait_one returns 0 only past its deadline;
 * run_one only when stopped; a poll runs a handler that was ready when it was
 * called), no invalid end state (a thread blocked for ever is a lost
 * wake-up), and two LTL formulas: all_run (every posted op and every timer
 * handler run, every run() returns) and timer_served (STORM: the timer's
 * handler runs although the storm never ends).
 */

#ifdef UNFIXED
#define UPSTREAM_EXIT
#define UPSTREAM_POLL
#define UPSTREAM_WAIT_ONE
#endif

#ifndef EI_N
#define EI_N 2        /* EVENT_INTERVAL: passes let by between polls */
#endif
#ifndef NW
#define NW 2          /* worker threads: 1 to 3 */
#endif
#ifndef NEXT
#ifdef WC_TIMERS
#define NEXT 0
#else
#define NEXT 2        /* posts from the outside thread */
#endif
#endif
#ifndef NCHILD
#if defined(WC) || defined(WC_TIMERS) || defined(STORM) || defined(POLL_READY) || NEXT == 0
#define NCHILD 0
#else
#define NCHILD 2      /* posts made from inside handlers, in all */
#endif
#endif
#ifndef FANOUT
#define FANOUT 2      /* at most this many of them from one handler */
#endif
#ifndef NSTORM
#define NSTORM NW     /* self-reposting handlers in the STORM scenario */
#endif
#ifndef NTIMER
#ifdef WC_TIMERS
#define NTIMER 2
#else
#define NTIMER 1      /* timers: 0 to 2 */
#endif
#endif
#ifndef REARM
#define REARM 0       /* re-arms per timer, from its own handler */
#endif
#ifndef BATCH
#define BATCH 2       /* BATCH_DRAIN: ops taken per lock, the popped one included */
#endif

#ifdef SINGLE_THREADED
/* The variant is the caller's promise: one thread runs the scheduler and no
 * other touches it.  The model refuses what would break that promise
 * (rather than check a program the variant does not allow), and the
 * sentinel, which keeps the one thread off the condvar. */
#if NW != 1 || defined(TIMER_ARM) || defined(WC) || defined(WC_TIMERS) || defined(NO_SENTINEL)
#error "SINGLE_THREADED: one worker (NW=1), no outside thread (no TIMER_ARM, WC, WC_TIMERS), the sentinel"
#endif
#endif

/* what each worker calls */
#define MODE_RUN      0   /* sl_run: block, loop */
#define MODE_RUN_ONE  1   /* sl_run_one: block, once */
#define MODE_WAIT_ONE 2   /* sl_wait_one(usec > 0): until a deadline, once */
#define MODE_POLL     3   /* sl_poll: never block, loop */
#define MODE_POLL_ONE 4   /* sl_poll_one, sl_wait_one(0): never block, once */
#ifndef MODE1
#define MODE1 MODE_RUN
#endif
#ifndef MODE2
#define MODE2 MODE_RUN
#endif
#ifndef MODE3
#define MODE3 MODE_RUN
#endif
#ifdef AGAIN
#define NRUN NW           /* every worker calls until the scheduler stops */
#define CALLS_AGAIN true
#else
#define NRUN ((NW >= 1 && MODE1 == MODE_RUN) + (NW >= 2 && MODE2 == MODE_RUN) + \
              (NW >= 3 && MODE3 == MODE_RUN))
#define CALLS_AGAIN false
#endif

/* timeouts: the caller's (tk) and the reactor's (ttk) */
#define TK_INF  0         /* -1: block */
#define TK_ZERO 1         /* 0: never block */
#define TK_DL   2         /* > 0: until the deadline */

/* op kinds in the queues */
#define OP_NONE  0
#define OP_SENT  1       /* the task sentinel (task_op) */
#define OP_USER  2       /* a posted handler */
#define OP_STORM 3       /* a handler that posts itself again */
#define OP_BLOCK 4       /* WC: returns once every OP_USER has run */
#define OP_T0    5       /* the completion of timer 0's wait (OP_T0 + i) */

/* thread ids (mutex owners): workers are 1..NW */
#define POSTER (NW + 1)   /* the outside thread that posts */
#define ARMER  (NW + 2)   /* the outside thread that arms timers */

#if defined(STORM)
#define NUSER 0
#elif defined(POLL_READY)
#define NUSER 0
#else
#define NUSER (NEXT + NCHILD)
#endif
#ifdef WC
#define NBLOCK 1
#else
#define NBLOCK 0
#endif
#define TDONE (NTIMER * (1 + REARM))   /* timer handler runs in all */
#define QCAP 8

/* ---- scheduler state ------------------------------------------------- */

byte mtx;                          /* the mutex: 0 free, else owner id */
chan lockq = [NW + 2] of { byte }; /* threads blocked in lock(), FIFO */
byte state_;                       /* signal word: bit 0 signaled, +2 per waiter */
bool cv_blocked[4];                /* blocked in the condvar, not yet notified */
chan q = [QCAP] of { byte };       /* completed_ops */
chan pq[NW + 1] = [QCAP] of { byte };  /* each worker's private_queue */
byte priv[NW + 1];                 /* private_outstanding_work */
byte outstanding;                  /* outstanding_work */
bool stopped;
bool task_running;
bool task_interrupted;
bool efd_armed;                    /* eventfd_armed */
bool efd_rd;                       /* the eventfd counter is non-zero */
bool efd_edge;                     /* a write epoll_wait has not reported yet */
bool tfd_ready;                    /* timerfd readable (level-triggered) */
byte tfd_set;                      /* timers the programmed expiry covers (bits) */
bool timerfd_stale;
bool in_heap[2];                   /* the timer is in the timer heap */
bool due[2];                       /* its expiry time has come */
#ifdef BATCH_DRAIN
chan bq[NW + 1] = [QCAP] of { byte };  /* each worker's batch */
byte stop_count;                   /* stop_count: sl_stop's, for the batch */
#endif

/* ---- ghost state for the properties ---------------------------------- */

bool in_reactor;                   /* a thread is inside run_task */
byte tdone;                        /* timer handlers run */
byte user_run;                     /* OP_USER handlers run */
bool block_started, block_done;    /* WC's OP_BLOCK */
bool t1_done;                      /* timer 1's handler has run */
byte child_left = NCHILD;          /* posts still to be made from handlers */
byte rearm_left[2];                /* re-arms still to be made */
byte exited;                       /* workers that left their run function */
byte run_exited;                   /* of those, workers in MODE_RUN */
byte guards;                       /* work guards outside threads still hold */

#define HEAP_MASK ((in_heap[0] -> 1 : 0) | (in_heap[1] -> 2 : 0))
#define DUE_MASK  ((due[0] -> 1 : 0) | (due[1] -> 2 : 0))
#define ALL_DONE  (user_run == NUSER && tdone == TDONE && block_done == NBLOCK)

/* ---- mutex: FIFO hand-off, so that weak fairness is enough for liveness.
 * Every run of a barging mutex is a run of this one with the lock attempt
 * made at the moment of acquisition, so safety loses nothing. */

#ifdef SINGLE_THREADED
/* variants/single-threaded.h: sched_lock and sched_unlock are nothing */
inline mutex_lock(who) { skip }
inline mutex_unlock(who) { skip }
#else
inline mutex_lock(who)
{
	if
	:: mtx == 0 -> mtx = who
	:: else -> lockq!who
	fi;
	mtx == who
}

inline mutex_unlock(who)
{
	assert(mtx == who);
	if
	:: len(lockq) > 0 -> lockq?mtx
	:: else -> mtx = 0
	fi
}
#endif

/* ---- condition variable: no spurious wake-ups ------------------------ */

inline cv_notify_one()
{
	atomic {
		if
		:: cv_blocked[1] -> cv_blocked[1] = false
		:: cv_blocked[2] -> cv_blocked[2] = false
		:: cv_blocked[3] -> cv_blocked[3] = false
		:: else -> skip
		fi
	}
}

inline cv_notify_all()
{
	cv_blocked[1] = false;
	cv_blocked[2] = false;
	cv_blocked[3] = false
}

/* interrupt_reactor: CAS the armed flag, and only the winner writes. */
inline interrupt_reactor()
{
	if
	:: atomic { !efd_armed -> efd_armed = true };
	   atomic { efd_rd = true; efd_edge = true }   /* write(event_fd) */
	:: else -> skip                        /* a write is already outstanding */
	fi
}

/* sl_stop: takes the mutex itself */
inline stop(who)
{
	atomic {
		mutex_lock(who);
		if
		:: !stopped ->
			stopped = true;
#ifdef BUG_STOP_SIGNAL_ONE
			state_ = state_ | 1;           /* seeded: one waiter only */
			cv_notify_one();
#elif !defined(BUG_STOP_NO_SIGNAL_ALL)
			state_ = state_ | 1;           /* signal_all */
			cv_notify_all();
#endif
#ifdef BATCH_DRAIN
			stop_count++;                  /* stop_wake_reactor */
#endif
#ifdef GATED_STOP
			/* Asio: interrupt only a reactor that is blocked */
			if
			:: task_running && !task_interrupted ->
				task_interrupted = true;
				interrupt_reactor()
			:: else -> skip
			fi
#else
			interrupt_reactor()
#endif
		:: else -> skip
		fi;
		mutex_unlock(who)
	}
}

/* sl_work_finished: the thread that takes the count to zero stops */
inline work_finished(who, zero)
{
	atomic {
		assert(outstanding > 0);
		outstanding--;
		zero = (outstanding == 0)
	};
	if
	:: zero -> zero = false; stop(who)
	:: else -> skip
	fi
}

/* wake_one_thread_and_unlock, first half (mutex held): decide and unlock.
 * maybe_unlock_and_signal_one sets the bit and signals if a waiter exists;
 * else interrupt the reactor if it is blocked and not yet interrupted. */
inline wake_decide_and_unlock(who, act)
{
	state_ = state_ | 1;
	if
	:: state_ > 1 -> act = 1
	:: else ->
		if
		:: task_running && !task_interrupted ->
			task_interrupted = true;
			act = 2
		:: else -> act = 0
		fi
	fi;
	mutex_unlock(who)
}

/* second half, after the unlock */
inline wake_act(act)
{
	if
	:: act == 1 -> act = 0; cv_notify_one()
#ifdef BUG_NO_EFD_WRITE
	:: act == 2 -> act = 0          /* seeded: the eventfd write is lost */
#else
	:: act == 2 -> act = 0; interrupt_reactor()
#endif
	:: else -> skip
	fi
}

/* sl_post from a thread that is not running this scheduler (or any post
 * under NO_PRIVATE_QUEUE): count on the atomic, push under the mutex, wake */
inline post_shared(who, kind, act)
{
	outstanding++;
	atomic {
		mutex_lock(who);
		q!kind;
		wake_decide_and_unlock(who, act)
	};
#ifdef BUG_POST_NO_SIGNAL
	if
	:: act == 1 -> act = 0          /* seeded: a post never signals a waiter */
	:: else -> skip
	fi;
#endif
	wake_act(act)
}

/* sl_post from inside a handler or the reactor of this thread */
inline post_here(who, kind, act)
{
#ifdef NO_PRIVATE_QUEUE
	post_shared(who, kind, act)
#else
	priv[who]++;
	pq[who]!kind
#endif
}

/* splice the private queue into completed_ops (mutex held) */
inline splice_private(who, tmp)
{
	do
	:: len(pq[who]) > 0 -> pq[who]?tmp; q!tmp
	:: else -> tmp = OP_NONE; break
	od
}

#ifdef BATCH_DRAIN
/* return_batch (mutex held): the batch goes back to the head of
 * completed_ops, in its order */
inline return_batch(who, tmp)
{
	do
	:: len(q) > 0 -> q?tmp; bq[who]!tmp
	:: else -> break
	od;
	do
	:: len(bq[who]) > 0 -> bq[who]?tmp; q!tmp
	:: else -> tmp = OP_NONE; break
	od
}
#endif

/* update_timerfd: program the earliest expiry in the heap (or disarm);
 * timerfd_settime also clears a pending expiration */
inline program_timerfd()
{
	tfd_set = HEAP_MASK;
	tfd_ready = false
}

/* timers_earliest_changed, the hook the timer service calls after a new
 * earliest expiry: store the stale flag, then load task_running.  With TSO
 * (or release/acquire, upstream's orders) the load may pass the store. */
inline earliest_changed(tr)
{
#ifdef HOOK_INTERRUPTS
	/* No load left to pass the store: the CAS in interrupt_reactor is a
	 * full barrier, so even under TSO the store is visible first. */
	timerfd_stale = true;
	tr = true;
#elif defined(TSO)
	if
	:: timerfd_stale = true; tr = task_running
	:: tr = task_running; timerfd_stale = true   /* the store drains late */
	fi;
#else
	timerfd_stale = true;
	tr = task_running;
#endif
#ifdef BUG_HOOK_NO_INTERRUPT
	tr = false;
#endif
	if
	:: tr -> tr = false; interrupt_reactor()
	:: else -> skip
	fi
}

/* sl_timer_wait on timer i (not in the heap): count the wait, insert it,
 * call the hook if it became the earliest (always when the heap held
 * nothing else; either way otherwise, the expiries are not modelled) */
inline timer_wait(i, tr)
{
#ifndef WAIT_COUNT_LATE
	outstanding++;                   /* sl_work_started */
#endif
	atomic {
		in_heap[i] = true;
		due[i] = false;
		if
		:: HEAP_MASK == (1 << i) -> tr = true
		:: HEAP_MASK != (1 << i) -> tr = true
		:: HEAP_MASK != (1 << i) -> tr = false
		fi
	};
	if
	:: tr -> earliest_changed(tr)
	:: else -> skip
	fi;
#ifdef WAIT_COUNT_LATE
	outstanding++                    /* upstream: work_started after insert_waiter */
#else
	skip
#endif
}

/* ---- a worker: run_loop (sl_run and friends) around do_one ----------- */

proctype worker(byte me; byte mode)
{
	byte op;        /* the op popped by do_one */
	byte act;       /* pending notify (1) or interrupt (2) after an unlock */
	byte n;
	byte tk;        /* the caller's timeout: TK_INF, TK_ZERO, TK_DL */
	byte ttk;       /* this reactor pass's timeout */
	bool ran;       /* a handler ran: the return value is not 0 */
	bool once;      /* run_one, wait_one, poll_one */
	bool dl;        /* the caller's deadline has passed */
	bool polled;    /* this call has made a reactor pass (ctx->polled) */
#ifdef EVENT_INTERVAL
	byte ei_skips;  /* sentinel pops let pass since this thread's last poll */
#endif
#ifdef BATCH_DRAIN
	byte stop_seen; /* batch_stop_seen */
#endif
	bool more;
	bool ev_efd, ev_tfd, zero, tr;

call:
	if
	:: mode == MODE_RUN -> tk = TK_INF
	:: mode == MODE_RUN_ONE -> tk = TK_INF; once = true
	:: mode == MODE_WAIT_ONE -> tk = TK_DL; once = true
	:: mode == MODE_POLL -> tk = TK_ZERO
	:: mode == MODE_POLL_ONE -> tk = TK_ZERO; once = true
	fi;

	/* run_loop: nothing outstanding means stop and return 0 */
	if
	:: outstanding == 0 -> stop(me); goto left_run
	:: else -> skip
	fi;
	atomic { mutex_lock(me) };

do_one:
	/* do_one, mutex held */
	atomic {
		if
		:: stopped -> goto leave
		:: else -> skip
		fi;
		if
		:: len(q) > 0 -> q?op
		:: else -> op = OP_NONE
		fi;
#ifndef NO_SENTINEL
		if
		:: op == OP_SENT ->
			op = OP_NONE;
			more = (len(q) > 0);
#ifdef EVENT_INTERVAL
			if
			:: more && ei_skips < EI_N -> ei_skips++; q!OP_SENT; goto do_one
			:: else -> ei_skips = 0
			fi;
#endif
			if
			:: !more && outstanding == 0 -> q!OP_SENT; goto leave
			:: !more && outstanding > 0 && tk == TK_ZERO ->
#ifdef UPSTREAM_POLL
				q!OP_SENT; goto leave
#else
				/* one zero-timeout pass to harvest what is ready now */
				if
				:: polled -> q!OP_SENT; goto leave
				:: else -> skip
				fi
#endif
			:: !more && outstanding > 0 && tk == TK_DL ->
#ifndef UPSTREAM_WAIT_ONE
				/* the reactor gets what is left of the deadline; a
				 * deadline already passed still gets one zero pass */
				if
				:: !dl -> dl = true
				:: !dl -> skip
				:: dl -> skip
				fi;
				if
#ifdef BUG_SENTINEL_NOT_BACK
				:: dl && polled -> goto leave   /* seeded: the sentinel is lost */
#else
				:: dl && polled -> q!OP_SENT; goto leave
#endif
				:: else -> skip
				fi
#else
				skip
#endif
			:: else -> skip
			fi;
			ttk = (more -> TK_ZERO : tk);
			if
			:: ttk == TK_DL && dl -> ttk = TK_ZERO
			:: else -> skip
			fi;
			polled = true;                 /* any pass counts */
			task_interrupted = (ttk == TK_ZERO);
			task_running = true;
			if
			:: more ->
#ifdef BUG_REACTOR_BLOCKS
				/* seeded: the reactor blocks although handlers are queued */
				ttk = tk;
				task_interrupted = (ttk == TK_ZERO);
#endif
				/* unlock_and_signal_one */
				state_ = state_ | 1;
				act = (state_ > 1 -> 1 : 0);
				mutex_unlock(me)
			:: else -> skip
			fi;
			goto run_task
		:: else -> skip
		fi;
#endif
		if
		:: op != OP_NONE -> goto handler
		:: else -> skip
		fi;
		/* the queue is empty */
		if
		:: outstanding == 0 -> goto leave
		:: else -> skip
		fi;
#ifdef NO_SENTINEL
		if
		:: tk == TK_ZERO ->
#ifdef UPSTREAM_POLL
			goto leave
#else
			if
			:: !polled && !task_running -> polled = true
			:: else -> goto leave
			fi
#endif
		:: else -> skip
		fi;
		if
		:: !task_running ->
			/* queue empty, reactor free: become it */
			if
			:: tk == TK_DL && dl && polled -> goto leave
#ifndef UPSTREAM_WAIT_ONE
			:: tk == TK_DL && !dl && polled -> dl = true; goto leave
			:: tk == TK_DL && !dl && !polled -> dl = true
#endif
			:: tk == TK_DL && !dl -> skip
			:: tk != TK_DL || (dl && !polled) -> skip
			fi;
			ttk = ((tk == TK_DL && dl) -> TK_ZERO : tk);
			polled = true;
			task_interrupted = (ttk == TK_ZERO);
			task_running = true;
			goto run_task
		:: else -> skip
		fi;
#endif
		if
		:: tk == TK_ZERO -> goto leave
		:: else -> skip
		fi;
#ifdef SINGLE_THREADED
		/* One thread: the sentinel is queued whenever it is not in the
		 * reactor, so it never gets here (the condvar, whose mutex is now
		 * nothing, is never waited on). */
		assert(len(q) > 0);
#endif
		/* clear_signal, then wait_for_signal(_until) */
		state_ = state_ & 254;
		if
		:: tk == TK_DL && dl -> goto leave
		:: tk == TK_DL && !dl -> dl = true; goto leave   /* deadline_passed */
		:: tk == TK_DL && !dl -> skip
		:: tk != TK_DL -> skip
		fi;
wait_check:
		if
		:: (state_ & 1) == 0 ->
#ifndef BUG_NO_WAITER_COUNT
			state_ = state_ + 2;
#endif
			cv_blocked[me] = true;     /* cond wait: block and unlock at once */
			mutex_unlock(me)
		:: else -> goto do_one
		fi
	};
	if
	:: tk == TK_INF ->
		atomic {
			!cv_blocked[me] ->         /* notified */
			mutex_lock(me);
#ifndef BUG_NO_WAITER_COUNT
			state_ = state_ - 2;
#endif
			goto wait_check
		}
	:: else ->
		/* pthread_cond_timedwait: notified, or the deadline passes */
		if
		:: atomic { !cv_blocked[me] -> skip }
		:: atomic { cv_blocked[me] -> cv_blocked[me] = false; dl = true }
		fi;
		atomic {
			mutex_lock(me);
#ifndef BUG_NO_WAITER_COUNT
			state_ = state_ - 2;
#endif
			goto do_one
		}
	fi;

run_task:
	/* run_task; the mutex is held unless more made unlock_and_signal_one
	 * release it (and then a notify may follow) */
	if
	:: act == 1 -> act = 0; cv_notify_one()
	:: else -> skip
	fi;
	atomic {
		if
		:: task_interrupted -> ttk = TK_ZERO
		:: else -> skip
		fi;
		more = false;
		if
		:: mtx == me -> mutex_unlock(me)
		:: else -> skip
		fi;
		assert(!in_reactor);
		in_reactor = true
	};
#ifdef TIMER_FASTPATH
	/* run_due_timers: what is due leaves the heap now, the timerfd is
	 * marked for reprogramming by the flush below, and the pass polls */
	atomic {
		if
		:: (in_heap[0] && due[0]) || (in_heap[1] && due[1]) ->
			printf("T%d reactor harvests due timers\n", me);
			if
			:: in_heap[0] && due[0] -> in_heap[0] = false; due[0] = false; post_here(me, OP_T0, act)
			:: else -> skip
			fi;
			if
			:: in_heap[1] && due[1] -> in_heap[1] = false; due[1] = false; post_here(me, OP_T0 + 1, act)
			:: else -> skip
			fi;
			timerfd_stale = true;
			ttk = TK_ZERO
		:: else -> skip
		fi
	};
#endif
#ifndef BUG_NO_STALE_FLUSH
	/* flush deferred timerfd programming: exchange(false), update_timerfd */
	atomic {
		if
		:: timerfd_stale -> timerfd_stale = false; program_timerfd()
		:: else -> skip
		fi
	};
#endif
	/* epoll_wait: the eventfd edge-triggered (an edge whose counter was
	 * read meanwhile reports nothing), the timerfd level-triggered */
	if
	:: ttk == TK_ZERO ->
		atomic {
			printf("T%d epoll_wait(0)\n", me);
			ev_efd = efd_edge && efd_rd; efd_edge = false;
			ev_tfd = tfd_ready
		}
	:: ttk != TK_ZERO ->
		if
		:: atomic {
			((efd_edge && efd_rd) || tfd_ready) ->
			printf("T%d epoll_wait returns\n", me);
			ev_efd = efd_edge && efd_rd; efd_edge = false;
			ev_tfd = tfd_ready
		   }
		:: atomic {
			ttk == TK_DL && !((efd_edge && efd_rd) || tfd_ready) ->
			printf("T%d epoll_wait times out\n", me);
			dl = true
		   }
		fi
	fi;
	if
	:: ev_efd ->
		ev_efd = false;
#ifdef BUG_ARMED_EARLY
		efd_armed = false;             /* seeded: disarm before the read */
		efd_rd = false
#else
		efd_rd = false;                /* read(event_fd) */
		efd_armed = false
#endif
	:: else -> skip
	fi;
	if
	:: ev_tfd ->
		/* read(timer_fd); process_expired takes the expired timers off
		 * the heap and posts their waiters' completions; update_timerfd */
		atomic {
			printf("T%d reactor processes the timers\n", me);
			ev_tfd = false;
			tfd_ready = false;
			if
			:: in_heap[0] && due[0] -> in_heap[0] = false; due[0] = false; post_here(me, OP_T0, act)
			:: else -> skip
			fi;
			if
			:: in_heap[1] && due[1] -> in_heap[1] = false; due[1] = false; post_here(me, OP_T0 + 1, act)
			:: else -> skip
			fi
		};
#ifndef BUG_NO_TFD_UPDATE
		atomic { program_timerfd() }
#endif
	:: else -> skip
	fi;
	atomic {
		in_reactor = false;
		/* task_cleanup, then lock and splice */
		outstanding = outstanding + priv[me];
		priv[me] = 0;
		mutex_lock(me);
		splice_private(me, op);
		/* back in do_one */
		task_running = false;
#ifndef NO_SENTINEL
		q!OP_SENT;
#endif
#ifdef UPSTREAM_WAIT_ONE
		if
		:: ttk == TK_DL -> goto leave       /* return 0 after a timed pass */
		:: else -> skip
		fi;
#endif
		ttk = TK_INF;
		goto do_one
	};

handler:
	/* do_one's handler branch and run_handler: mutex held, op popped */
	atomic {
#ifdef BATCH_DRAIN
		/* take_batch: up to BATCH - 1 more, never past the sentinel (no
		 * outer frame's batch: nested runs are not modelled) */
		assert(len(bq[me]) == 0);
		do
		:: len(bq[me]) < BATCH - 1 && len(q) > 0 && !q?[OP_SENT] -> q?n; bq[me]!n
#ifdef BUG_BATCH_PAST_SENTINEL
		:: len(bq[me]) < BATCH - 1 && q?[OP_SENT] -> q?n; bq[me]!n   /* seeded */
#endif
		:: else -> n = 0; break
		od;
		stop_seen = stop_count;
#endif
		more = (len(q) > 0);
		if
#ifdef BUG_NO_CASCADE
		:: more -> skip                /* seeded: no cascading wake */
#else
#ifdef ASIO_CASCADE
		:: more -> wake_decide_and_unlock(me, act); goto run_op
#else
		:: more ->
			/* unlock_and_signal_one; unassisted = !have_waiters */
			state_ = state_ | 1;
			act = (state_ > 1 -> 1 : 0)
#endif
#endif
		:: else -> skip
		fi;
		more = false;
		mutex_unlock(me)
	};
#ifdef ASIO_CASCADE
run_op:
	wake_act(act);
#else
	if
	:: act == 1 -> act = 0; cv_notify_one()
	:: else -> skip
	fi;
#endif
	/* the handler, without the mutex */
body:
	if
#ifdef BUG_BATCH_PAST_SENTINEL
	:: op == OP_SENT ->
		printf("T%d runs the sentinel as a handler\n", me)   /* task_op_nothing */
#endif
	:: op == OP_USER ->
		atomic {
			printf("T%d runs a posted handler\n", me);
			user_run++;
			n = (child_left < FANOUT -> child_left : FANOUT);
			child_left = child_left - n
		};
		do
		:: n > 0 -> n--; post_here(me, OP_USER, act)
		:: else -> break
		od
	:: op == OP_STORM ->
		printf("T%d runs a storm handler\n", me);
		post_here(me, OP_STORM, act)
	:: op == OP_BLOCK ->
		printf("T%d runs the blocking handler\n", me);
		block_started = true;
		user_run == NUSER;             /* returns once all the others ran */
		block_done = true
	:: op >= OP_T0 ->
		n = op - OP_T0;
#ifdef WC_TIMERS
		if
		:: n == 0 -> block_started = true; t1_done   /* waits for timer 1 */
		:: else -> skip
		fi;
#endif
		atomic {
			printf("T%d runs a timer handler\n", me);
			tdone++;
			t1_done = t1_done || n == 1
		};
		if
		:: rearm_left[n] > 0 -> rearm_left[n]--; timer_wait(n, tr)
		:: else -> skip
		fi;
		n = 0;
		work_finished(me, zero)         /* the wait's unit */
	fi;
	op = OP_NONE;
	ran = true;
	/* work_cleanup: fold the private count (the handler used one unit) */
	if
	:: priv[me] > 1 -> outstanding = outstanding + priv[me] - 1
	:: priv[me] == 1 -> skip
	:: priv[me] == 0 -> work_finished(me, zero)
	fi;
	priv[me] = 0;
#ifdef BATCH_DRAIN
	/* run_loop: while (!once && run_batched(...)): the next batched op,
	 * without the mutex and with no cascade wake; a stop seen puts the
	 * batch back, and do_one then finds stopped */
	if
	:: !once && len(bq[me]) > 0 ->
		if
		:: len(pq[me]) > 0 ->
			atomic {
				/* work_cleanup's lock and splice; run_batched unlocks */
				mutex_lock(me);
				splice_private(me, op);
				if
				:: stop_count != stop_seen -> return_batch(me, op); goto do_one
				:: else -> mutex_unlock(me)
				fi
			}
		:: else ->
			if
			:: stop_count != stop_seen ->
				atomic { mutex_lock(me); return_batch(me, op); goto do_one }
			:: else -> skip
			fi
		fi;
		atomic {
			bq[me]?op;
			printf("T%d takes an op from its batch\n", me)
		};
		goto body
	:: else -> skip
	fi;
#endif
	atomic {
		/* work_cleanup's lock and splice, or run_loop's re-lock */
		mutex_lock(me);
		splice_private(me, op);
		if
		:: once -> goto leave
		:: else -> goto do_one
		fi
	};

leave:
	/* run_loop returns, mutex held: drain_thread_queue.  The exit rule:
	 * work left queued and outstanding goes to another thread through the
	 * wake policy (without the sentinel, a free reactor counts as work). */
	atomic {
		op = OP_NONE;
#if defined(BATCH_DRAIN) && !defined(BUG_BATCH_KEPT)
		/* return_batch: what is left goes back to the head of the queue
		 * (a one-shot call's whole batch: it runs none of it) */
		return_batch(me, op);
#endif
		/* the private queue is always empty here: work_cleanup and
		 * run_task splice it before do_one returns (under BATCH_DRAIN
		 * too: each batched op ends with work_cleanup) */
		assert(len(pq[me]) == 0 && priv[me] == 0);
#ifndef UPSTREAM_EXIT
		if
		:: !stopped && outstanding > 0 && len(q) > 0 -> wake_decide_and_unlock(me, act)
#ifdef NO_SENTINEL
		:: !stopped && outstanding > 0 && len(q) == 0 && !task_running ->
			wake_decide_and_unlock(me, act)
#endif
		:: else -> mutex_unlock(me)
		fi
#else
		mutex_unlock(me)
#endif
	};
	wake_act(act);
	/* the return value's contracts */
	atomic {
		assert(mode != MODE_WAIT_ONE || ran || dl || stopped || outstanding == 0);
		assert(mode != MODE_RUN_ONE || ran || stopped || outstanding == 0);
#ifdef POLL_READY
		assert(mode == MODE_WAIT_ONE || mode == MODE_RUN || tdone > 0);
#endif
	};
left_run:
#ifdef BATCH_DRAIN
	/* nothing is left in a batch when the call returns */
	assert(len(bq[me]) == 0);
#endif
#ifdef AGAIN
	if
	:: !stopped && mode != MODE_RUN ->
		ran = false; dl = false; polled = false;
		goto call
	:: else -> skip
	fi;
#endif
	atomic {
		exited++;
		if
		:: mode == MODE_RUN || CALLS_AGAIN ->
			run_exited++;
			assert(guards == 0)        /* sl_run returned under a guard */
		:: else -> skip
		fi;
		if
		:: exited == NW && NRUN > 0 ->
			assert(outstanding == 0);
			assert(ALL_DONE)
		:: else -> skip
		fi
	}
}

/* ---- the outside thread: posts under a work guard -------------------- */

proctype poster()
{
	byte n, act;
	bool zero;

#ifdef WC
	post_shared(POSTER, OP_BLOCK, act);
#ifdef WC_AFTER
	block_started;
#endif
#endif
	do
	:: n < NEXT -> n++; post_shared(POSTER, OP_USER, act)
	:: else -> break
	od;
	guards--;
	work_finished(POSTER, zero)    /* the guard goes */
}

/* ---- the kernel's clock: a timer in the heap reaches its expiry; a
 * programmed timerfd whose earliest timer is due becomes readable.  In the
 * default scenario the clock may be far: no expiry before every posted
 * handler has run, so no post can lean on a timer to wake the reactor. */

proctype clock()
{
	bool far;
#if !defined(STORM) && !defined(TIMER_ARM) && !defined(POLL_READY)
	if
	:: far = true
	:: skip
	fi;
#endif
end_clock:
	do
	:: atomic { (!far || user_run == NUSER) && in_heap[0] && !due[0] -> due[0] = true }
	:: atomic { (!far || user_run == NUSER) && in_heap[1] && !due[1] -> due[1] = true }
	:: atomic {
		!tfd_ready && (tfd_set & DUE_MASK) != 0 ->
		printf("the timerfd expires\n");
		tfd_ready = true
	   }
	od
}

#ifdef TIMER_ARM
/* ---- an outside thread arms the timers while run() is going: the
 * timer wait, insert_waiter, then the earliest-changed hook */

proctype arm()
{
	bool tr, zero;
	byte i;

	do
	:: i < NTIMER -> timer_wait(i, tr); i++
	:: else -> break
	od;
	guards--;
	work_finished(ARMER, zero)       /* the guard goes */
}
#endif

init {
	byte i;
	atomic {
#ifndef NO_SENTINEL
		q!OP_SENT;                /* sl_scheduler_create pushes the sentinel */
#endif
		rearm_left[0] = REARM;
		rearm_left[1] = REARM;
#ifdef TIMER_ARM
		outstanding = 1;          /* the arming thread's work guard */
		guards = 1;
		run arm();
#else
		/* NTIMER timer waits, counted and programmed */
		i = 0;
		do
		:: i < NTIMER -> in_heap[i] = true; outstanding++; i++
		:: else -> break
		od;
		tfd_set = HEAP_MASK;
#ifdef POLL_READY
		due[0] = true;            /* expired before anyone polls */
		tfd_ready = true;
#endif
#endif
#ifdef STORM
		i = 0;
		do
		:: i < NSTORM -> i++; q!OP_STORM; outstanding++
		:: else -> break
		od;
#elif defined(SINGLE_THREADED)
		/* no outside thread: the NEXT posts are made before the run */
		i = 0;
		do
		:: i < NEXT -> i++; q!OP_USER; outstanding++
		:: else -> break
		od;
#elif !defined(POLL_READY)
		outstanding++;            /* the outside thread's work guard */
		guards++;
		run poster();
#endif
		run clock();
		run worker(1, MODE1);
#if NW >= 2
		run worker(2, MODE2);
#endif
#if NW >= 3
		run worker(3, MODE3);
#endif
		i = 0
	}
}

/* every posted op and timer handler runs, every run() comes back */
ltl all_run { <> (run_exited == NRUN && ALL_DONE) }

/* the expired timer is served although the storm never ends */
ltl timer_served { <> (tdone > 0) }
