# bench/ programs: each prints `name value unit` lines; bench/run runs all.
noinst_PROGRAMS += bench/pipeline
bench_pipeline_SOURCES = bench/pipeline.c tests/testutil.c tests/testutil.h
bench_pipeline_CFLAGS = $(AM_CFLAGS) $(FB_CFLAGS)
bench_pipeline_LDADD = $(FB_LIBS)
EXTRA_DIST += bench/run

# The spool drain after an outage, end to end (issue 3).
EXTRA_DIST += bench/spool_drain.py bench/benchlib.py

# Durable node sessions: write cost, uplinks lost to restarts (issue 9).
EXTRA_DIST += bench/sessions.py

# The spool's append, sync and drain costs (issue 3).
noinst_PROGRAMS += bench/spool_bench
bench_spool_bench_SOURCES = bench/spool_bench.c tests/testutil.c \
	tests/testutil.h
bench_spool_bench_CFLAGS = $(AM_CFLAGS) $(FB_CFLAGS)
bench_spool_bench_LDADD = $(FB_LIBS)

# libfbnode on this machine: a node's join and seal (issue 14).  Its
# microcontroller figures come from bench/node_cross.
noinst_PROGRAMS += bench/node_bench
bench_node_bench_SOURCES = bench/node_bench.c
bench_node_bench_CFLAGS = $(AM_CFLAGS) $(FB_CFLAGS)
bench_node_bench_LDADD = node/libfbnode.a $(FB_LIBS)
EXTRA_DIST += bench/node_cross bench/node_cross_config.h

# What a record costs upstream, against the usual bridge (issue 13).
EXTRA_DIST += bench/cost.py bench/bridge_wakeups

# The text-module drivers' parsers, and the line rate their baud allows.
noinst_PROGRAMS += bench/textdrv
bench_textdrv_SOURCES = bench/textdrv.c
bench_textdrv_CFLAGS = $(AM_CFLAGS) $(FB_CFLAGS)
bench_textdrv_LDADD = $(FB_LIBS)

EXTRA_DIST += bench/powercut.py

# The rules' check per record: 10,000 devices in 100 classes.
noinst_PROGRAMS += bench/policy_bench
bench_policy_bench_SOURCES = bench/policy_bench.c
bench_policy_bench_CFLAGS = $(AM_CFLAGS) $(FB_CFLAGS)
bench_policy_bench_LDADD = $(FB_LIBS)
