# tools/ files; included from the top Makefile.am.

# fieldbridge-sim: a concentrator with sensor nodes on a pty.  It links
# libfb.a, the same codecs and registry code the daemon runs.
bin_PROGRAMS += tools/fieldbridge-sim
tools_fieldbridge_sim_SOURCES = tools/fieldbridge-sim.c tools/sim.h \
	tools/sim_gen.c tools/sim_payload.c
tools_fieldbridge_sim_CFLAGS = $(AM_CFLAGS) $(FB_CFLAGS)
tools_fieldbridge_sim_LDADD = $(FB_LIBS)
dist_noinst_SCRIPTS += tools/dev
