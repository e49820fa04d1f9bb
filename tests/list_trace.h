/* list_trace.h - the tracing kit's tests (tests/test_trace.c), for list.h.
 *
 * The analysis XML is checked in every build; the recorded run only in a
 * trace build (build/<variant>-trace/tests) with SL_TRACE_CHECK=1, where
 * its expected outcome depends on the variant: the reference runs the
 * reactor once per pass during a post storm, no-sentinel starves it. */
TEST(trace_analysis_xml_well_formed)
TEST(trace_analysis_xml_matches_schema)
TEST(trace_starvation_run_passes_checks)
