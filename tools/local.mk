# tools/ files; included from the top Makefile.am.

# fieldbridge-sim: a concentrator with sensor nodes on a pty.  It links
# libfb.a, the same codecs and registry code the daemon runs, and its nodes
# run on libfbnode, the code firmware embeds.
bin_PROGRAMS += tools/fieldbridge-sim
tools_fieldbridge_sim_SOURCES = tools/fieldbridge-sim.c tools/sim.h \
	tools/sim_conc.c tools/sim_node.c tools/sim_attack.c \
	tools/sim_gen.c tools/sim_payload.c tools/sim_module.c
tools_fieldbridge_sim_CFLAGS = $(AM_CFLAGS) $(FB_CFLAGS)
tools_fieldbridge_sim_LDADD = node/libfbnode.a $(FB_LIBS)
dist_noinst_SCRIPTS += tools/dev

# fieldbridge: the technician CLI (status, ports, decode), one file per
# subcommand beside fieldbridge.c.
bin_PROGRAMS += tools/fieldbridge
tools_fieldbridge_SOURCES = tools/fieldbridge.c tools/cli_status.c \
	tools/cli_check.c tools/cli_check.h \
	tools/cli_device.c tools/cli_device.h \
	tools/cli_json.c tools/cli_json.h \
	tools/cli_ports.c tools/cli_ports.h \
	tools/cli_status.h tools/cli_decode.c tools/cli_decode.h
tools_fieldbridge_CFLAGS = $(AM_CFLAGS) $(FB_CFLAGS)
tools_fieldbridge_LDADD = $(FB_LIBS)

# fieldbridge(1), fieldbridge.conf(5) and the bash completion of both
# commands (installed by the Debian package, debian/fieldbridge.install).
dist_man1_MANS = tools/fieldbridge.1
dist_man5_MANS = etc/fieldbridge.conf.5
EXTRA_DIST += tools/bash-completion/fieldbridge
