/* list.h - the table of contents of the suite: every test, by name.
 *
 * One line per test.  The same list runs against every build (ref and each
 * variant); tests that state what a variant gives up are in the property
 * table of test_property.c and listed under "properties".  main.c expands
 * this list twice: once to declare, once to register. */

/* scheduler core */
TEST(core_post_fifo_order)
TEST(core_run_returns_count_when_work_drains)
TEST(core_empty_scheduler_returns_zero_and_stops)
TEST(core_run_one_runs_exactly_one)
TEST(core_poll_runs_all_ready)
TEST(core_poll_one_runs_one)
TEST(core_wait_one_runs_ready_handler)
TEST(core_wait_one_honours_timeout_while_work_outstanding)
TEST(core_stop_wakes_condvar_waiter_and_reactor)
TEST(core_stop_wakes_thread_blocked_in_reactor)
TEST(core_restart_after_stop)
TEST(core_nested_run_of_two_schedulers)
TEST(core_cross_thread_post_wakes_blocked_thread)
TEST(core_work_started_keeps_run_alive)
TEST(core_running_in_this_thread)
TEST(core_four_threads_million_posts_exactly_once)
TEST(core_shutdown_destroys_pending_once_runs_none)
TEST(core_create_fails_cleanly_on_epoll_create1)
TEST(core_create_fails_cleanly_on_eventfd)
TEST(core_create_fails_cleanly_on_timerfd_create)
TEST(core_create_fails_cleanly_on_epoll_ctl_eventfd)
TEST(core_create_fails_cleanly_on_epoll_ctl_timerfd)

/* timers */
TEST(timer_fires_in_expiry_order)
TEST(timer_fires_not_before_expiry)
TEST(timer_cancel_completes_waiters_cancelled)
TEST(timer_cancel_one_cancels_oldest_waiter)
TEST(timer_several_waiters_all_fire)
TEST(timer_expiry_in_past_fires_at_once)
TEST(timer_reschedule_cancels_pending_waits)
TEST(timer_new_earliest_interrupts_blocked_reactor)
TEST(timer_schedule_cancel_makes_no_timerfd_settime)
TEST(timer_shutdown_destroys_pending_waits)
TEST(timer_heap_order_with_random_cancels)

/* signals and resolver */
#include "list_services.h"

/* tracing: the Trace Compass analysis, and checks of a recorded run */
#include "list_trace.h"

/* sockets */
TEST(socket_pingpong_tcp_loopback)
TEST(socket_pingpong_tcp_ipv6_loopback)
TEST(socket_pingpong_unix_socketpair)
TEST(socket_transfer_64mib_both_ways_tcp_checksummed)
TEST(socket_transfer_both_ways_unix_one_thread)
TEST(socket_connect_to_closed_port_is_refused)
TEST(socket_accept_100_connections)
TEST(socket_read_after_peer_close_gives_eof)
TEST(socket_write_after_peer_close_gives_epipe_not_sigpipe)
TEST(socket_cancel_pending_read)
TEST(socket_close_with_read_and_write_pending)
TEST(socket_200_sockets_driven_by_2_threads)
TEST(socket_million_ready_reads_do_not_grow_the_stack)
TEST(socket_bad_input_is_refused_and_loses_nothing)
TEST(socket_scheduler_destroy_with_pending_ops_runs_no_handler)

/* properties: what each variant keeps or loses (PROPERTY_TABLE) */
TEST(property_timer_fires_during_post_storm)
TEST(property_socket_read_during_post_storm)
TEST(property_same_thread_posts)
TEST(property_ready_io_completes_inline)
TEST(property_budget_follows_adaptive_rule)
TEST(property_budget_doubles_when_fully_spent_e2e)
TEST(property_ready_connection_cannot_starve_another)

/* fault injection: every syscall made to fail (test_fault.c) */
#include "list_fault.h"

/* contracts: the values the run functions, cancel, connect, shutdown and
 * ordering must give (test_contract.c; README.md's defect ledger) */
TEST(contract_wait_one_returns_at_deadline_with_far_timer)
TEST(contract_wait_one_runs_timer_due_before_deadline)
TEST(contract_wait_one_runs_read_completed_before_deadline)
TEST(contract_wait_one_is_not_ended_by_signals)
TEST(contract_wait_one_negative_timeout_is_poll_one)
TEST(contract_poll_runs_expired_timer)
TEST(contract_poll_runs_ready_read)
TEST(contract_work_posted_from_run_one_is_handed_on)
TEST(contract_sentinel_handed_on_after_timed_reactor_pass)
TEST(contract_connect_waits_while_syn_sent)
TEST(contract_connect_refused_after_other_op_took_error)
TEST(contract_cancel_spares_queued_read_and_later_reads)
TEST(contract_cancel_and_close_keep_completed_write_result)
TEST(contract_cancel_spares_queued_accept_and_later_accepts)
TEST(contract_signal_cancel_without_wait_is_not_latched)
TEST(contract_descriptor_then_timer_after_one_pass)
TEST(contract_close_during_descriptor_run_spares_new_socket)
TEST(contract_shutdown_releases_queued_descriptor_reference)
TEST(contract_nested_run_sees_posted_work)
TEST(contract_run_counts_every_handler_not_descriptor_runs)
TEST(contract_equal_expiry_timers_fire_in_start_order)
TEST(contract_due_timer_wait_is_not_cancellable)
