/*
 * wake.pml: a Promela model of the epoll scheduler's wake protocol.
 *
 * It holds the protocol the C port (ref/scheduler.c) takes from corosio's
 * epoll_scheduler: the signal word (bit 0 = signaled, +2 per waiter), the
 * wake policy, the task sentinel in the completed-ops queue, task_running /
 * task_interrupted, the eventfd with its armed flag, a timerfd, the mutex and
 * condition variable, the private queue of a thread running a handler and
 * the outstanding-work count that makes run() return, and the deferred
 * timerfd programming (timerfd_stale_).  Nothing else (no sockets, no inline
 * budget, no timer heap) is in it; README.md beside this file says what is
 * abstracted and how each step maps to the C++ seed and to the C port.
 *
 * Compile-time choices (spin -D...):
 *   (none)            the reference protocol
 *   NO_PRIVATE_QUEUE  a handler's post takes the shared path and the wake policy
 *   NO_SENTINEL       no sentinel: the reactor runs only when a thread finds
 *                     the queue empty
 *   BROKEN_WAKE       sanity mutant: the wake policy's eventfd write is dropped
 * Scenarios (default: an outside thread posts NEXT handlers under a work
 * guard, handlers post NCHILD more, one timer is pending):
 *   STORM             NSTORM handlers that re-post themselves for ever, and a
 *                     timer that expires once (starvation check)
 *   TIMER_ARM         an outside thread arms the only timer while run() is
 *                     going (timerfd_stale_ and the on_earliest_changed hook);
 *                     with TSO its store may drain after its load;
 *                     with WAIT_COUNT_LATE work_started follows insert_waiter
 *   NW, NEXT, NCHILD, FANOUT, NSTORM: sizes, see below.
 *
 * Properties: assertions (one thread at most in the reactor, a thread leaves
 * run() with its private queue empty, every op ran when run() returns), no
 * invalid end state (a thread blocked for ever is a lost wake-up), and two
 * LTL formulas: all_run (every posted op and the timer's handler run, and
 * every worker returns from run) and timer_served (STORM scenario: the
 * timer's handler runs although the storm never ends).
 */

#ifndef NW
#define NW 2          /* worker threads calling run(): 1 to 3 */
#endif
#ifndef NEXT
#define NEXT 2        /* posts from the outside thread */
#endif
#ifndef NCHILD
#define NCHILD 2      /* posts made from inside handlers, in all */
#endif
#ifndef FANOUT
#define FANOUT 2      /* at most this many of them from one handler */
#endif
#ifndef NSTORM
#define NSTORM NW     /* self-reposting handlers in the STORM scenario */
#endif

/* op kinds in the queues */
#define OP_NONE  0
#define OP_SENT  1       /* the task sentinel (task_op_) */
#define OP_USER  2       /* a posted handler */
#define OP_TIMER 3       /* the completion of the expired timer wait */
#define OP_STORM 4       /* a handler that posts itself again */

/* thread ids (mutex owners): workers are 1..NW */
#define POSTER (NW + 1)   /* the outside thread that posts */
#define ARMER  (NW + 2)   /* the outside thread that arms a timer (TIMER_ARM) */

/* posted handlers that must run before run() may return */
#if defined(STORM) || defined(TIMER_ARM)
#define NUSER 0
#else
#define NUSER (NEXT + NCHILD)
#endif
#define QCAP 8

/* ---- scheduler state ------------------------------------------------- */

byte mtx;                          /* mutex_: 0 free, else owner id */
chan lockq = [NW + 2] of { byte }; /* threads blocked in lock(), FIFO */
byte state_;                       /* signal word: bit 0 signaled, +2 per waiter */
bool cv_blocked[4];                /* blocked in cond_.wait, not yet notified */
chan q = [QCAP] of { byte };       /* completed_ops_ */
chan pq[NW + 1] = [QCAP] of { byte };  /* each worker's private_queue */
byte priv[NW + 1];                 /* private_outstanding_work */
byte outstanding;                  /* outstanding_work_ */
bool stopped;                      /* stopped_ */
bool task_running;                 /* task_running_ */
bool task_interrupted;             /* task_interrupted_ */
bool efd_armed;                    /* eventfd_armed_ */
bool efd_edge;                     /* an eventfd edge not yet reported by epoll_wait */
bool tfd_ready;                    /* timerfd readable (level-triggered) */
bool tfd_programmed;               /* timerfd set to expire (timerfd_settime) */
bool timerfd_stale;                /* timerfd_stale_ */
bool timer_in_heap;                /* the timer service holds the timer */

/* ---- ghost state for the properties ---------------------------------- */

bool in_reactor;                   /* a thread is inside run_task */
bool timer_done;                   /* the timer's handler has run */
byte user_run;                     /* posted (OP_USER) handlers run */
byte child_left = NCHILD;          /* posts still to be made from handlers */
byte exited;                       /* workers that returned from run() */

/* ---- mutex: FIFO hand-off, so that weak fairness is enough for liveness.
 * Every run of a barging mutex is a run of this one with the lock attempt
 * made at the moment of acquisition, so safety loses nothing. */

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
	   efd_edge = true                     /* write(event_fd_) */
	:: else -> skip                        /* a write is already outstanding */
	fi
}

/* stop(): takes the mutex itself */
inline stop(who)
{
	atomic {
		mutex_lock(who);
		if
		:: !stopped ->
			stopped = true;
			state_ = state_ | 1;           /* signal_all */
			cv_notify_all();
			interrupt_reactor()
		:: else -> skip
		fi;
		mutex_unlock(who)
	}
}

/* work_finished(): the thread that takes the count to zero stops */
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
#ifdef BROKEN_WAKE
	:: act == 2 -> act = 0          /* sanity mutant: the eventfd write is lost */
#else
	:: act == 2 -> act = 0; interrupt_reactor()
#endif
	:: else -> skip
	fi
}

/* post() from a thread that is not running this scheduler, or any post
 * in NO_PRIVATE_QUEUE: count on the atomic, push under the mutex, wake. */
inline post_shared(who, kind, act)
{
	outstanding++;
	atomic {
		mutex_lock(who);
		q!kind;
		wake_decide_and_unlock(who, act)
	};
	wake_act(act)
}

/* post() from inside a handler or the reactor of this thread */
inline post_here(who, kind, act)
{
#ifdef NO_PRIVATE_QUEUE
	post_shared(who, kind, act)
#else
	priv[who]++;
	pq[who]!kind
#endif
}

/* splice the private queue into completed_ops_ (mutex held) */
inline splice_private(who, tmp)
{
	do
	:: len(pq[who]) > 0 -> pq[who]?tmp; q!tmp
	:: else -> tmp = OP_NONE; break
	od
}

/* ---- a worker: epoll_scheduler::run, looping on do_one --------------- */

proctype worker(byte me)
{
	byte op;        /* the op popped by do_one */
	byte act;       /* pending notify (1) or interrupt (2) after an unlock */
	byte n;
	bool more;      /* more_handlers / more */
	bool tmo0;      /* run_task: epoll_wait timeout 0 */
	bool ev_efd;    /* epoll_wait reported the eventfd */
	bool ev_tfd;    /* epoll_wait reported the timerfd */
	bool zero;

	/* run(): nothing outstanding means stop and return 0 */
	if
	:: outstanding == 0 -> stop(me); goto left_run
	:: else -> skip
	fi;
	atomic { mutex_lock(me) };

do_one:
	/* epoll_scheduler::do_one, mutex held */
	atomic {
		if
		:: stopped -> goto return0
		:: else -> skip
		fi;
		if
		:: len(q) > 0 -> q?op
		:: else -> op = OP_NONE
		fi;
#ifndef NO_SENTINEL
		if
		:: op == OP_SENT ->
			/* pop sentinel branch */
			more = (len(q) > 0);
			if
			:: !more && outstanding == 0 -> q!OP_SENT; op = OP_NONE; goto return0
			:: else -> skip
			fi;
			op = OP_NONE;
			task_interrupted = more;
			task_running = true;
			if
			:: more ->
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
		/* queue empty */
		if
		:: outstanding == 0 -> goto return0
		:: else -> skip
		fi;
#ifdef NO_SENTINEL
		if
		:: !task_running ->
			/* the queue is empty and nobody polls: become the reactor */
			task_interrupted = false;
			task_running = true;
			goto run_task
		:: else -> skip
		fi;
#endif
		/* clear_signal, then wait_for_signal */
		state_ = state_ & 254;
wait_check:
		if
		:: (state_ & 1) == 0 ->
			state_ = state_ + 2;
			cv_blocked[me] = true;     /* cond_.wait: block and unlock at once */
			mutex_unlock(me)
		:: else -> goto do_one
		fi
	};
	atomic {
		!cv_blocked[me] ->             /* notified */
		mutex_lock(me);
		state_ = state_ - 2;
		goto wait_check
	};

run_task:
	/* epoll_scheduler::run_task; the mutex is held unless more_handlers
	 * made unlock_and_signal_one release it (and then a notify follows) */
	if
	:: act == 1 -> act = 0; cv_notify_one()
	:: else -> skip
	fi;
	atomic {
		tmo0 = task_interrupted;       /* timeout_ms = task_interrupted_ ? 0 : -1 */
		more = false;
		if
		:: mtx == me -> mutex_unlock(me)
		:: else -> skip
		fi;
		assert(!in_reactor);
		in_reactor = true
	};
	/* flush deferred timerfd programming: exchange(false), update_timerfd */
	atomic {
		if
		:: timerfd_stale -> timerfd_stale = false; tfd_programmed = timer_in_heap
		:: else -> skip
		fi
	};
	/* epoll_wait: eventfd is edge-triggered, timerfd level-triggered */
	if
	:: tmo0 ->
		atomic {
			printf("T%d epoll_wait(0)\n", me);
			ev_efd = efd_edge; efd_edge = false;
			ev_tfd = tfd_ready; tmo0 = false
		}
	:: else ->
		atomic {
			(efd_edge || tfd_ready) ->   /* epoll_wait(-1) blocks until then */
			printf("T%d epoll_wait(-1) returns\n", me);
			ev_efd = efd_edge; efd_edge = false;
			ev_tfd = tfd_ready
		}
	fi;
	if
	:: ev_efd -> ev_efd = false; efd_armed = false   /* read(event_fd_), clear armed */
	:: else -> skip
	fi;
	if
	:: ev_tfd ->
		/* read(timer_fd_); process_expired takes the timer off the heap
		 * and posts the waiter's completion; then update_timerfd */
		atomic {
			printf("T%d reactor processes the timer\n", me);
			ev_tfd = false;
			tfd_ready = false;
			timer_in_heap = false
		};
		post_here(me, OP_TIMER, act);
		tfd_programmed = timer_in_heap
	:: else -> skip
	fi;
	atomic {
		in_reactor = false;
		mutex_lock(me);
		/* task_cleanup, mutex held */
		outstanding = outstanding + priv[me];
		priv[me] = 0;
		splice_private(me, op);
		/* back in do_one */
		task_running = false;
#ifndef NO_SENTINEL
		q!OP_SENT;
#endif
		goto do_one
	};

handler:
	/* handle operation branch: mutex held, op popped */
	atomic {
		more = (len(q) > 0);
		if
		:: more ->
			/* unlock_and_signal_one; unassisted = !have_waiters */
			state_ = state_ | 1;
			act = (state_ > 1 -> 1 : 0)
		:: else -> skip
		fi;
		more = false;
		mutex_unlock(me)
	};
	if
	:: act == 1 -> act = 0; cv_notify_one()
	:: else -> skip
	fi;
	/* the handler, without the mutex */
	if
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
	:: op == OP_TIMER ->
		printf("T%d runs the timer handler\n", me);
		timer_done = true;
		work_finished(me, zero)         /* balances the wait's work_started */
	:: op == OP_STORM ->
		printf("T%d runs a storm handler\n", me);
		post_here(me, OP_STORM, act)
	fi;
	op = OP_NONE;
	/* work_cleanup */
	if
	:: priv[me] > 1 -> outstanding = outstanding + priv[me] - 1
	:: priv[me] == 1 -> skip
	:: priv[me] == 0 -> work_finished(me, zero)
	fi;
	priv[me] = 0;
	atomic {
		/* work_cleanup's lock and splice, or run()'s re-lock */
		mutex_lock(me);
		splice_private(me, op);
		goto do_one
	};

return0:
	/* do_one returned 0; run() leaves, its unique_lock unlocks */
	atomic {
		op = OP_NONE;
		mutex_unlock(me);
		/* thread_context_guard: nothing may be left in the private queue */
		assert(len(pq[me]) == 0 && priv[me] == 0)
	};
left_run:
	atomic {
		exited++;
		if
		:: exited == NW ->
			assert(outstanding == 0);
			assert(user_run == NUSER && timer_done)
		:: else -> skip
		fi
	}
}

/* ---- the outside thread: posts under a work guard -------------------- */

proctype poster()
{
	byte n, act;
	bool zero;

	do
	:: n < NEXT -> n++; post_shared(POSTER, OP_USER, act)
	:: else -> break
	od;
	work_finished(POSTER, zero)    /* the guard goes */
}

/* ---- the kernel's clock: a programmed timerfd expires, once ----------
 * In the bounded scenario, either at any moment or only after every posted
 * handler has run: a far timer, so that no post can lean on the timer's
 * expiry to get the reactor out of epoll_wait. */

proctype clock()
{
#if !defined(STORM) && !defined(TIMER_ARM)
	if
	:: skip
	:: user_run == NUSER
	fi;
#endif
	atomic {
		tfd_programmed ->            /* only a programmed timerfd expires */
		printf("the timer expires\n");
		tfd_ready = true
	}
}

#ifdef TIMER_ARM
/* ---- an outside thread arms a timer while the reactor may be entering
 * epoll_wait: timer wait, insert_waiter, then the on_earliest_changed
 * callback the scheduler installs.  With TSO the callback's load of
 * task_running_ may pass its own buffered store to timerfd_stale_ (x86
 * allows it; so does C++ for a release store and an acquire load). */

proctype arm()
{
	bool tr, zero;

	/* Upstream's wait() calls work_started after insert_waiter.  From a
	 * thread outside run() that lets the timer complete first and the
	 * count touch zero early (WAIT_COUNT_LATE shows it); by default the
	 * model counts first, to keep that apart from the race checked here. */
#ifndef WAIT_COUNT_LATE
	outstanding++;                   /* wait(): work_started */
#endif
	timer_in_heap = true;            /* insert_waiter: now the earliest */
#ifdef TSO
	if
	:: timerfd_stale = true; tr = task_running
	:: tr = task_running; timerfd_stale = true   /* store drains late */
	fi;
#else
	timerfd_stale = true;
	tr = task_running;
#endif
	if
	:: tr -> tr = false; interrupt_reactor()
	:: else -> skip
	fi;
#ifdef WAIT_COUNT_LATE
	outstanding++;                   /* wait(): work_started */
#endif
	work_finished(ARMER, zero)       /* the guard goes */
}
#endif

init {
	byte i;
	atomic {
#ifndef NO_SENTINEL
		q!OP_SENT;                /* the constructor pushes the sentinel */
#endif
#ifdef TIMER_ARM
		outstanding = 1;          /* the arming thread's work guard */
		child_left = 0;
		run arm();
#else
		outstanding = 1;          /* the timer wait's work_started */
		timer_in_heap = true;     /* and its expiry is programmed */
		tfd_programmed = true;
#ifdef STORM
		child_left = 0;
		i = 0;
		do
		:: i < NSTORM -> i++; q!OP_STORM; outstanding++
		:: else -> break
		od;
#else
		outstanding++;            /* the outside thread's work guard */
		run poster();
#endif
#endif
		run clock();
		i = 1;
		do
		:: i <= NW -> run worker(i); i++
		:: else -> break
		od;
		i = 0
	}
}

/* every posted op runs and every worker comes back from run() */
ltl all_run { <> (exited == NW && user_run == NUSER && timer_done) }

/* the expired timer is served although the storm never ends */
ltl timer_served { <> timer_done }
