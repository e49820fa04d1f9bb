/* list_fault.h - the fault-injection tests of test_fault.c (included by
 * list.h): each syscall of the scheduler, sockets and signal sets made to
 * fail through fault.c. */

/* socket registration, socket(), socketpair() */
TEST(fault_socket_open_registration_failure_returns_error)
TEST(fault_socket_pair_registration_failure_returns_error)
TEST(fault_socket_adopt_registration_failure_leaves_fd_to_caller)
TEST(fault_new_socket_ready_before_registration_keeps_work)
TEST(fault_socket_open_emfile_returns_error)

/* accept4, and the accepted fd's registration */
TEST(fault_accept_emfile_at_initiation_then_listener_works)
TEST(fault_accept_emfile_when_parked_then_listener_works)
TEST(fault_accept_registration_failure_closes_accepted_fd)

/* readv and sendmsg */
TEST(fault_readv_error_at_initiation_reaches_handler_once)
TEST(fault_readv_error_inline_reaches_handler_once)
TEST(fault_readv_error_when_parked_reaches_handler_once)
TEST(fault_sendmsg_error_at_initiation_reaches_handler_once)
TEST(fault_sendmsg_error_when_parked_reaches_handler_once)

/* the reactor: epoll_wait, the eventfd write, timerfd_settime */
TEST(fault_epoll_wait_eintr_run_completes_the_work)
TEST(fault_epoll_wait_real_eintr_while_blocked)
TEST(fault_eventfd_write_failure_next_interrupt_wakes_reactor)
TEST(fault_timerfd_settime_failure_timer_still_fires)

/* signal sets: the self-pipe */
TEST(fault_signal_set_pipe_failures_return_error)
