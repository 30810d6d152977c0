# bench/ programs: each prints `name value unit` lines; bench/run runs all.
noinst_PROGRAMS += bench/pipeline
bench_pipeline_SOURCES = bench/pipeline.c tests/testutil.c tests/testutil.h
bench_pipeline_CFLAGS = $(AM_CFLAGS) $(FB_CFLAGS)
bench_pipeline_LDADD = $(FB_LIBS)
EXTRA_DIST += bench/run

# The spool drain after an outage, end to end (issue 3).
EXTRA_DIST += bench/spool_drain.py bench/benchlib.py
EXTRA_DIST += bench/powercut.py
