# Shared test pieces; each folder's local.mk adds its own unit tests and fuzz
# targets (tests/test_<module>.c, tests/fuzz/fuzz_<parser>.c).
EXTRA_DIST += tests/fuzz/standalone.c

# fieldbridge-sim against a small gateway built from the codecs, on its pty.
check_PROGRAMS += tests/test_sim
TESTS += tests/test_sim
tests_test_sim_SOURCES = tests/test_sim.c
tests_test_sim_CPPFLAGS = $(AM_CPPFLAGS) \
	-DSIM_PATH='"$(abs_top_builddir)/tools/fieldbridge-sim"'
tests_test_sim_CFLAGS = $(AM_CFLAGS) $(FB_CFLAGS) $(CMOCKA_CFLAGS)
tests_test_sim_LDADD = $(FB_LIBS) $(CMOCKA_LIBS)

# End to end: the real daemon between fieldbridge-sim and a real mosquitto
# with certificates made at test time (Python 3, standard library only).
TESTS += tests/e2e/test_e2e tests/e2e/test_check tests/e2e/test_modules \
	tests/e2e/test_ports tests/e2e/test_fbcheck tests/e2e/test_device
dist_noinst_SCRIPTS += tests/e2e/test_e2e tests/e2e/test_check tests/e2e/demo \
	tests/e2e/test_fbcheck tests/e2e/test_device \
	tests/fuzz/run tests/e2e/test_modules tests/e2e/test_ports
EXTRA_DIST += tests/e2e/fbe2e.py tests/fuzz/lsan.supp

# The durable spool end to end (issue 3): kill -9 under load, a broker
# outage with a rate-limited drain, a full file system, and the watchdog
# starved while spool writes fail.  tests/e2e/fbspool.py holds what they
# share.
TESTS += tests/e2e/test_crash tests/e2e/test_outage tests/e2e/test_diskfull \
	tests/e2e/test_watchdog
dist_noinst_SCRIPTS += tests/e2e/test_crash tests/e2e/test_outage \
	tests/e2e/test_diskfull tests/e2e/test_watchdog
EXTRA_DIST += tests/e2e/fbspool.py

# Node sessions across SIGTERM, kill -9 and a torn write (issue 9).
TESTS += tests/e2e/test_restart tests/e2e/test_exclusive \
	tests/e2e/test_join_flood
dist_noinst_SCRIPTS += tests/e2e/test_restart tests/e2e/test_exclusive \
	tests/e2e/test_join_flood

# The same runs with compressed batches (issue 13): exactly once through
# the spool, the journal, kill -9 and the backlog.
TESTS += tests/e2e/test_e2e_zlib tests/e2e/test_crash_zlib \
	tests/e2e/test_outage_zlib
dist_noinst_SCRIPTS += tests/e2e/test_e2e_zlib tests/e2e/test_crash_zlib \
	tests/e2e/test_outage_zlib

# Rules per device and class: refusals by reason, legitimate nodes lose
# nothing.
TESTS += tests/e2e/test_rules
dist_noinst_SCRIPTS += tests/e2e/test_rules

# Least privilege per device, the acceptance run: forged, replayed,
# unknown, revoked, flooding and rule-breaking devices at once, each
# refusal counted by reason; 50 legitimate devices lose nothing, within
# the batch age bound.
TESTS += tests/e2e/test_attacks
dist_noinst_SCRIPTS += tests/e2e/test_attacks

# Policy changed mid-run on SIGHUP: a rate tightened, a device revoked;
# no restart, nothing queued lost.
TESTS += tests/e2e/test_policy_reload
dist_noinst_SCRIPTS += tests/e2e/test_policy_reload

# ALPN and the user name sent only when configured (a listener of the
# test's own), and Azure's topic layout through mosquitto (issue 13).
TESTS += tests/e2e/test_mqtt_shapes
dist_noinst_SCRIPTS += tests/e2e/test_mqtt_shapes

# The status file's concentrator, device, reload and broker keys, and
# `fieldbridge status` (text and --json), against what happened.
TESTS += tests/e2e/test_status_report
dist_noinst_SCRIPTS += tests/e2e/test_status_report

# Commands from the cloud to nodes, with their outcomes (issue 11).
TESTS += tests/e2e/test_commands
dist_noinst_SCRIPTS += tests/e2e/test_commands

# The retained health message: its values against the status file's, the
# busiest devices by refusals, retained for late subscribers, one after
# each connection.
TESTS += tests/e2e/test_health
dist_noinst_SCRIPTS += tests/e2e/test_health

# The same command path on RabbitMQ's MQTT 3.1.1 plugin, a private node
# started by the test (skips, 77, without rabbitmq-server or when the node
# is not up within 60 s).
TESTS += tests/e2e/test_rabbitmq
dist_noinst_SCRIPTS += tests/e2e/test_rabbitmq

# Unit tests and fuzz targets of daemon/.
check_PROGRAMS += tests/test_log
TESTS += tests/test_log
tests_test_log_SOURCES = tests/test_log.c
tests_test_log_CFLAGS = $(AM_CFLAGS) $(FB_CFLAGS) $(CMOCKA_CFLAGS)
tests_test_log_LDADD = $(FB_LIBS) $(CMOCKA_LIBS)

check_PROGRAMS += tests/test_conf
TESTS += tests/test_conf
tests_test_conf_SOURCES = tests/test_conf.c
tests_test_conf_CFLAGS = $(AM_CFLAGS) $(FB_CFLAGS) $(CMOCKA_CFLAGS) -DSRCDIR='"$(srcdir)"'
tests_test_conf_LDADD = $(FB_LIBS) $(CMOCKA_LIBS)

check_PROGRAMS += tests/test_batch
TESTS += tests/test_batch
tests_test_batch_SOURCES = tests/test_batch.c
tests_test_batch_CFLAGS = $(AM_CFLAGS) $(FB_CFLAGS) $(CMOCKA_CFLAGS)
tests_test_batch_LDADD = $(FB_LIBS) $(CMOCKA_LIBS)

check_PROGRAMS += tests/test_encoding
TESTS += tests/test_encoding
tests_test_encoding_SOURCES = tests/test_encoding.c
tests_test_encoding_CFLAGS = $(AM_CFLAGS) $(FB_CFLAGS) $(CMOCKA_CFLAGS)
tests_test_encoding_LDADD = $(FB_LIBS) $(CMOCKA_LIBS)

check_PROGRAMS += tests/fuzz/fuzz_decode
TESTS += tests/fuzz/fuzz_decode
tests_fuzz_fuzz_decode_SOURCES = tests/fuzz/fuzz_decode.c tests/fuzz/standalone.c
tests_fuzz_fuzz_decode_CPPFLAGS = $(AM_CPPFLAGS) -DFUZZ_CORPUS='"$(srcdir)/tests/fuzz/corpus/decode"'
tests_fuzz_fuzz_decode_CFLAGS = $(AM_CFLAGS) $(FB_CFLAGS)
tests_fuzz_fuzz_decode_LDADD = $(FB_LIBS)
EXTRA_DIST += tests/fuzz/corpus/decode

check_PROGRAMS += tests/test_cloud
TESTS += tests/test_cloud
tests_test_cloud_SOURCES = tests/test_cloud.c
tests_test_cloud_CFLAGS = $(AM_CFLAGS) $(FB_CFLAGS) $(CMOCKA_CFLAGS)
tests_test_cloud_LDADD = $(FB_LIBS) $(CMOCKA_LIBS)

check_PROGRAMS += tests/test_uplink
TESTS += tests/test_uplink
tests_test_uplink_SOURCES = tests/test_uplink.c
tests_test_uplink_CFLAGS = $(AM_CFLAGS) $(FB_CFLAGS) $(CMOCKA_CFLAGS)
tests_test_uplink_LDADD = $(FB_LIBS) $(CMOCKA_LIBS)

check_PROGRAMS += tests/fuzz/fuzz_conf
TESTS += tests/fuzz/fuzz_conf
tests_fuzz_fuzz_conf_SOURCES = tests/fuzz/fuzz_conf.c tests/fuzz/standalone.c
tests_fuzz_fuzz_conf_CPPFLAGS = $(AM_CPPFLAGS) -DFUZZ_CORPUS='"$(srcdir)/tests/fuzz/corpus/conf"'
tests_fuzz_fuzz_conf_CFLAGS = $(AM_CFLAGS) $(FB_CFLAGS)
tests_fuzz_fuzz_conf_LDADD = $(FB_LIBS)
EXTRA_DIST += tests/fuzz/corpus/conf

check_PROGRAMS += tests/test_notify
TESTS += tests/test_notify
tests_test_notify_SOURCES = tests/test_notify.c
tests_test_notify_CFLAGS = $(AM_CFLAGS) $(FB_CFLAGS) $(CMOCKA_CFLAGS)
tests_test_notify_LDADD = $(FB_LIBS) $(CMOCKA_LIBS)

# daemon/store/: the spool and the journal, their fuzz targets.
check_PROGRAMS += tests/test_spool
TESTS += tests/test_spool
tests_test_spool_SOURCES = tests/test_spool.c tests/testutil.c \
	tests/testutil.h
tests_test_spool_CFLAGS = $(AM_CFLAGS) $(FB_CFLAGS) $(CMOCKA_CFLAGS)
tests_test_spool_LDADD = $(FB_LIBS) $(CMOCKA_LIBS)

check_PROGRAMS += tests/fuzz/fuzz_spool
TESTS += tests/fuzz/fuzz_spool
tests_fuzz_fuzz_spool_SOURCES = tests/fuzz/fuzz_spool.c tests/fuzz/standalone.c \
	tests/testutil.c tests/testutil.h
tests_fuzz_fuzz_spool_CPPFLAGS = $(AM_CPPFLAGS) -DFUZZ_CORPUS='"$(srcdir)/tests/fuzz/corpus/spool"'
tests_fuzz_fuzz_spool_CFLAGS = $(AM_CFLAGS) $(FB_CFLAGS)
tests_fuzz_fuzz_spool_LDADD = $(FB_LIBS)
EXTRA_DIST += tests/fuzz/corpus/spool

check_PROGRAMS += tests/test_journal
TESTS += tests/test_journal
tests_test_journal_SOURCES = tests/test_journal.c tests/testutil.c \
	tests/testutil.h
tests_test_journal_CFLAGS = $(AM_CFLAGS) $(FB_CFLAGS) $(CMOCKA_CFLAGS)
tests_test_journal_LDADD = $(FB_LIBS) $(CMOCKA_LIBS)

check_PROGRAMS += tests/fuzz/fuzz_journal
TESTS += tests/fuzz/fuzz_journal
tests_fuzz_fuzz_journal_SOURCES = tests/fuzz/fuzz_journal.c tests/fuzz/standalone.c \
	tests/testutil.c tests/testutil.h
tests_fuzz_fuzz_journal_CPPFLAGS = $(AM_CPPFLAGS) -DFUZZ_CORPUS='"$(srcdir)/tests/fuzz/corpus/journal"'
tests_fuzz_fuzz_journal_CFLAGS = $(AM_CFLAGS) $(FB_CFLAGS)
tests_fuzz_fuzz_journal_LDADD = $(FB_LIBS)
EXTRA_DIST += tests/fuzz/corpus/journal

check_PROGRAMS += tests/test_sessions
TESTS += tests/test_sessions
tests_test_sessions_SOURCES = tests/test_sessions.c tests/testutil.c \
	tests/testutil.h
tests_test_sessions_CFLAGS = $(AM_CFLAGS) $(FB_CFLAGS) $(CMOCKA_CFLAGS)
tests_test_sessions_LDADD = $(FB_LIBS) $(CMOCKA_LIBS)

# Commands from the cloud: the message parser, the durable queue, their
# fuzz targets (issue 11).
check_PROGRAMS += tests/test_cmdmsg tests/test_cmdq
TESTS += tests/test_cmdmsg tests/test_cmdq
tests_test_cmdmsg_SOURCES = tests/test_cmdmsg.c
tests_test_cmdmsg_CFLAGS = $(AM_CFLAGS) $(FB_CFLAGS) $(CMOCKA_CFLAGS)
tests_test_cmdmsg_LDADD = $(FB_LIBS) $(CMOCKA_LIBS)
tests_test_cmdq_SOURCES = tests/test_cmdq.c tests/testutil.c tests/testutil.h
tests_test_cmdq_CFLAGS = $(AM_CFLAGS) $(FB_CFLAGS) $(CMOCKA_CFLAGS)
tests_test_cmdq_LDADD = $(FB_LIBS) $(CMOCKA_LIBS)

check_PROGRAMS += tests/fuzz/fuzz_cmdmsg
TESTS += tests/fuzz/fuzz_cmdmsg
tests_fuzz_fuzz_cmdmsg_SOURCES = tests/fuzz/fuzz_cmdmsg.c tests/fuzz/standalone.c
tests_fuzz_fuzz_cmdmsg_CPPFLAGS = $(AM_CPPFLAGS) -DFUZZ_CORPUS='"$(srcdir)/tests/fuzz/corpus/cmdmsg"'
tests_fuzz_fuzz_cmdmsg_CFLAGS = $(AM_CFLAGS) $(FB_CFLAGS)
tests_fuzz_fuzz_cmdmsg_LDADD = $(FB_LIBS)
EXTRA_DIST += tests/fuzz/corpus/cmdmsg

check_PROGRAMS += tests/fuzz/fuzz_cmdq
TESTS += tests/fuzz/fuzz_cmdq
tests_fuzz_fuzz_cmdq_SOURCES = tests/fuzz/fuzz_cmdq.c tests/fuzz/standalone.c
tests_fuzz_fuzz_cmdq_CPPFLAGS = $(AM_CPPFLAGS) -DFUZZ_CORPUS='"$(srcdir)/tests/fuzz/corpus/cmdq"'
tests_fuzz_fuzz_cmdq_CFLAGS = $(AM_CFLAGS) $(FB_CFLAGS)
tests_fuzz_fuzz_cmdq_LDADD = $(FB_LIBS)
EXTRA_DIST += tests/fuzz/corpus/cmdq

check_PROGRAMS += tests/fuzz/fuzz_sessions
TESTS += tests/fuzz/fuzz_sessions
tests_fuzz_fuzz_sessions_SOURCES = tests/fuzz/fuzz_sessions.c tests/fuzz/standalone.c \
	tests/fuzz/fuzzreg.h
tests_fuzz_fuzz_sessions_CPPFLAGS = $(AM_CPPFLAGS) -DFUZZ_CORPUS='"$(srcdir)/tests/fuzz/corpus/sessions"'
tests_fuzz_fuzz_sessions_CFLAGS = $(AM_CFLAGS) $(FB_CFLAGS)
tests_fuzz_fuzz_sessions_LDADD = $(FB_LIBS)
EXTRA_DIST += tests/fuzz/corpus/sessions

check_PROGRAMS += tests/test_fsutil
TESTS += tests/test_fsutil
tests_test_fsutil_SOURCES = tests/test_fsutil.c tests/testutil.c \
	tests/testutil.h
tests_test_fsutil_CFLAGS = $(AM_CFLAGS) $(FB_CFLAGS) $(CMOCKA_CFLAGS)
tests_test_fsutil_LDADD = $(FB_LIBS) $(CMOCKA_LIBS)

# The folders' arrows (DESIGN.md): a forbidden #include fails the suite.
TESTS += tests/test_layering.sh
dist_noinst_SCRIPTS += tests/test_layering.sh

# A broker name with several addresses (issue 15): refused, blackholed and
# working ones in both orders, DNS gone silent; and the daemon under Debian's
# stock /etc/hosts (in test_resilience).
TESTS += tests/e2e/test_addresses
dist_noinst_SCRIPTS += tests/e2e/test_addresses

check_PROGRAMS += tests/test_status
TESTS += tests/test_status
tests_test_status_SOURCES = tests/test_status.c tests/testutil.c \
	tests/testutil.h
tests_test_status_CFLAGS = $(AM_CFLAGS) $(FB_CFLAGS) $(CMOCKA_CFLAGS)
tests_test_status_LDADD = $(FB_LIBS) $(CMOCKA_LIBS)

# The per device counters of the status file (daemon/devstats.c).
check_PROGRAMS += tests/test_devstats
TESTS += tests/test_devstats
tests_test_devstats_SOURCES = tests/test_devstats.c
tests_test_devstats_CFLAGS = $(AM_CFLAGS) $(FB_CFLAGS) $(CMOCKA_CFLAGS)
tests_test_devstats_LDADD = $(FB_LIBS) $(CMOCKA_LIBS)

# The Cayenne LPP payload decoder (daemon/decode_lpp.c).
check_PROGRAMS += tests/test_decode_lpp
TESTS += tests/test_decode_lpp
tests_test_decode_lpp_SOURCES = tests/test_decode_lpp.c
tests_test_decode_lpp_CFLAGS = $(AM_CFLAGS) $(FB_CFLAGS) $(CMOCKA_CFLAGS)
tests_test_decode_lpp_LDADD = $(FB_LIBS) $(CMOCKA_LIBS)

check_PROGRAMS += tests/fuzz/fuzz_lpp
TESTS += tests/fuzz/fuzz_lpp
tests_fuzz_fuzz_lpp_SOURCES = tests/fuzz/fuzz_lpp.c tests/fuzz/standalone.c
tests_fuzz_fuzz_lpp_CPPFLAGS = $(AM_CPPFLAGS) -DFUZZ_CORPUS='"$(srcdir)/tests/fuzz/corpus/lpp"'
tests_fuzz_fuzz_lpp_CFLAGS = $(AM_CFLAGS) $(FB_CFLAGS)
tests_fuzz_fuzz_lpp_LDADD = $(FB_LIBS)
EXTRA_DIST += tests/fuzz/corpus/lpp

# daemon/sandbox/ and the clock flag (daemon/wallclock.c).
check_PROGRAMS += tests/test_sandbox tests/test_privsep tests/test_wallclock
TESTS += tests/test_sandbox tests/test_privsep tests/test_wallclock
tests_test_sandbox_SOURCES = tests/test_sandbox.c
tests_test_sandbox_CFLAGS = $(AM_CFLAGS) $(FB_CFLAGS) $(CMOCKA_CFLAGS)
tests_test_sandbox_LDADD = $(FB_LIBS) $(CMOCKA_LIBS)
tests_test_privsep_SOURCES = tests/test_privsep.c
tests_test_privsep_CFLAGS = $(AM_CFLAGS) $(FB_CFLAGS) $(CMOCKA_CFLAGS)
tests_test_privsep_LDADD = $(FB_LIBS) $(CMOCKA_LIBS)
tests_test_wallclock_SOURCES = tests/test_wallclock.c
tests_test_wallclock_CFLAGS = $(AM_CFLAGS) $(FB_CFLAGS) $(CMOCKA_CFLAGS)
tests_test_wallclock_LDADD = $(FB_LIBS) $(CMOCKA_LIBS)

# The parent's parser of the child's messages reads untrusted bytes.
check_PROGRAMS += tests/fuzz/fuzz_privsep
TESTS += tests/fuzz/fuzz_privsep
tests_fuzz_fuzz_privsep_SOURCES = tests/fuzz/fuzz_privsep.c tests/fuzz/standalone.c
tests_fuzz_fuzz_privsep_CPPFLAGS = $(AM_CPPFLAGS) -DFUZZ_CORPUS='"$(srcdir)/tests/fuzz/corpus/privsep"'
tests_fuzz_fuzz_privsep_CFLAGS = $(AM_CFLAGS) $(FB_CFLAGS)
tests_fuzz_fuzz_privsep_LDADD = $(FB_LIBS)
EXTRA_DIST += tests/fuzz/corpus/privsep


# The unit file: systemd-analyze verify and security (skips without it).
TESTS += tests/test_unit.sh
dist_noinst_SCRIPTS += tests/test_unit.sh
TESTS += tests/test_completion.sh
dist_noinst_SCRIPTS += tests/test_completion.sh
EXTRA_DIST += systemd/fieldbridge.service

# End to end, on the real binary: confinement seen from /proc, the test
# hooks' escapes killed; broker, pty, certificate and registry changes
# survived while confined.  Both skip (77) when not run as root.
TESTS += tests/e2e/test_confine tests/e2e/test_resilience
dist_noinst_SCRIPTS += tests/e2e/test_confine tests/e2e/test_resilience

# A second client with our client id, recognised and survived; a
# configuration the worker cannot use exits 78 naming the configured file
# (issue 12).
TESTS += tests/e2e/test_takeover tests/e2e/test_exit_config
dist_noinst_SCRIPTS += tests/e2e/test_takeover tests/e2e/test_exit_config

# Tests of radio (moved here: each local.mk builds only its own folder).
check_PROGRAMS += tests/test_sframe
TESTS += tests/test_sframe
tests_test_sframe_SOURCES = tests/test_sframe.c
tests_test_sframe_CFLAGS = $(AM_CFLAGS) $(FB_CFLAGS) $(CMOCKA_CFLAGS)
tests_test_sframe_LDADD = $(FB_LIBS) $(CMOCKA_LIBS)

check_PROGRAMS += tests/fuzz/fuzz_sframe
TESTS += tests/fuzz/fuzz_sframe
tests_fuzz_fuzz_sframe_SOURCES = tests/fuzz/fuzz_sframe.c tests/fuzz/standalone.c
tests_fuzz_fuzz_sframe_CPPFLAGS = $(AM_CPPFLAGS) -DFUZZ_CORPUS='"$(srcdir)/tests/fuzz/corpus/sframe"'
tests_fuzz_fuzz_sframe_CFLAGS = $(AM_CFLAGS) $(FB_CFLAGS)
tests_fuzz_fuzz_sframe_LDADD = $(FB_LIBS)
EXTRA_DIST += tests/fuzz/corpus/sframe

check_PROGRAMS += tests/test_port
TESTS += tests/test_port
tests_test_port_SOURCES = tests/test_port.c
tests_test_port_CFLAGS = $(AM_CFLAGS) $(FB_CFLAGS) $(CMOCKA_CFLAGS)
tests_test_port_LDADD = $(FB_LIBS) -lutil $(CMOCKA_LIBS)

# The text-module drivers on real ptys (tests/ptymod.c plays the module).
check_PROGRAMS += tests/test_drv_rn2483 tests/test_drv_rak3172
TESTS += tests/test_drv_rn2483 tests/test_drv_rak3172
tests_test_drv_rn2483_SOURCES = tests/test_drv_rn2483.c tests/ptymod.c \
	tests/ptymod.h
tests_test_drv_rn2483_CFLAGS = $(AM_CFLAGS) $(FB_CFLAGS) $(CMOCKA_CFLAGS)
tests_test_drv_rn2483_LDADD = $(FB_LIBS) -lutil $(CMOCKA_LIBS)
tests_test_drv_rak3172_SOURCES = tests/test_drv_rak3172.c tests/ptymod.c \
	tests/ptymod.h
tests_test_drv_rak3172_CFLAGS = $(AM_CFLAGS) $(FB_CFLAGS) $(CMOCKA_CFLAGS)
tests_test_drv_rak3172_LDADD = $(FB_LIBS) -lutil $(CMOCKA_LIBS)

# One fuzz target per driver's line parser.
check_PROGRAMS += tests/fuzz/fuzz_rn2483 tests/fuzz/fuzz_rak3172
TESTS += tests/fuzz/fuzz_rn2483 tests/fuzz/fuzz_rak3172
tests_fuzz_fuzz_rn2483_SOURCES = tests/fuzz/fuzz_rn2483.c \
	tests/fuzz/standalone.c
tests_fuzz_fuzz_rn2483_CPPFLAGS = $(AM_CPPFLAGS) -DFUZZ_CORPUS='"$(srcdir)/tests/fuzz/corpus/rn2483"'
tests_fuzz_fuzz_rn2483_CFLAGS = $(AM_CFLAGS) $(FB_CFLAGS)
tests_fuzz_fuzz_rn2483_LDADD = $(FB_LIBS)
tests_fuzz_fuzz_rak3172_SOURCES = tests/fuzz/fuzz_rak3172.c \
	tests/fuzz/standalone.c
tests_fuzz_fuzz_rak3172_CPPFLAGS = $(AM_CPPFLAGS) -DFUZZ_CORPUS='"$(srcdir)/tests/fuzz/corpus/rak3172"'
tests_fuzz_fuzz_rak3172_CFLAGS = $(AM_CFLAGS) $(FB_CFLAGS)
tests_fuzz_fuzz_rak3172_LDADD = $(FB_LIBS)
EXTRA_DIST += tests/fuzz/corpus/rn2483 tests/fuzz/corpus/rak3172 \
	tests/fuzz/textdrv_body.c

# The serial line is ours alone: UUCP lock, TIOCEXCL (issue 9).
check_PROGRAMS += tests/test_serlock
TESTS += tests/test_serlock
tests_test_serlock_SOURCES = tests/test_serlock.c tests/testutil.c \
	tests/testutil.h
tests_test_serlock_CFLAGS = $(AM_CFLAGS) $(FB_CFLAGS) $(CMOCKA_CFLAGS)
tests_test_serlock_LDADD = $(FB_LIBS) -lutil $(CMOCKA_LIBS)

# Tests of policy (moved here: each local.mk builds only its own folder).
check_PROGRAMS += tests/test_link
TESTS += tests/test_link
tests_test_link_SOURCES = tests/test_link.c tests/testutil.c \
	tests/testutil.h
tests_test_link_CFLAGS = $(AM_CFLAGS) $(FB_CFLAGS) $(CMOCKA_CFLAGS)
tests_test_link_LDADD = $(FB_LIBS) $(CMOCKA_LIBS)

check_PROGRAMS += tests/test_registry
TESTS += tests/test_registry
tests_test_registry_SOURCES = tests/test_registry.c
tests_test_registry_CFLAGS = $(AM_CFLAGS) $(FB_CFLAGS) $(CMOCKA_CFLAGS)
tests_test_registry_LDADD = $(FB_LIBS) $(CMOCKA_LIBS)

# Rules per device and class (least privilege).
check_PROGRAMS += tests/test_rules
TESTS += tests/test_rules
tests_test_rules_SOURCES = tests/test_rules.c
tests_test_rules_CFLAGS = $(AM_CFLAGS) $(FB_CFLAGS) $(CMOCKA_CFLAGS)
tests_test_rules_LDADD = $(FB_LIBS) $(CMOCKA_LIBS)

check_PROGRAMS += tests/test_airtime
TESTS += tests/test_airtime
tests_test_airtime_SOURCES = tests/test_airtime.c
tests_test_airtime_CFLAGS = $(AM_CFLAGS) $(FB_CFLAGS) $(CMOCKA_CFLAGS)
tests_test_airtime_LDADD = $(FB_LIBS) $(CMOCKA_LIBS)

check_PROGRAMS += tests/test_ident
TESTS += tests/test_ident
tests_test_ident_SOURCES = tests/test_ident.c
tests_test_ident_CFLAGS = $(AM_CFLAGS) $(FB_CFLAGS) $(CMOCKA_CFLAGS)
tests_test_ident_LDADD = $(FB_LIBS) $(CMOCKA_LIBS)

check_PROGRAMS += tests/fuzz/fuzz_link
TESTS += tests/fuzz/fuzz_link
tests_fuzz_fuzz_link_SOURCES = tests/fuzz/fuzz_link.c tests/fuzz/standalone.c \
	tests/fuzz/fuzzreg.h
tests_fuzz_fuzz_link_CPPFLAGS = $(AM_CPPFLAGS) -DFUZZ_CORPUS='"$(srcdir)/tests/fuzz/corpus/link"'
tests_fuzz_fuzz_link_CFLAGS = $(AM_CFLAGS) $(FB_CFLAGS)
tests_fuzz_fuzz_link_LDADD = $(FB_LIBS)
EXTRA_DIST += tests/fuzz/corpus/link

check_PROGRAMS += tests/fuzz/fuzz_registry
TESTS += tests/fuzz/fuzz_registry
tests_fuzz_fuzz_registry_SOURCES = tests/fuzz/fuzz_registry.c tests/fuzz/standalone.c
tests_fuzz_fuzz_registry_CPPFLAGS = $(AM_CPPFLAGS) -DFUZZ_CORPUS='"$(srcdir)/tests/fuzz/corpus/registry"'
tests_fuzz_fuzz_registry_CFLAGS = $(AM_CFLAGS) $(FB_CFLAGS)
tests_fuzz_fuzz_registry_LDADD = $(FB_LIBS)
EXTRA_DIST += tests/fuzz/corpus/registry

# Tests of node (moved here: each local.mk builds only its own folder).
# The state machine against the real gateway (policy/ident.c), the spec's
# vectors through both back-ends.
check_PROGRAMS += tests/test_node
TESTS += tests/test_node
tests_test_node_SOURCES = tests/test_node.c node/fbnode_mbedtls.c \
	tests/testutil.c tests/testutil.h
tests_test_node_CFLAGS = $(AM_CFLAGS) $(FB_CFLAGS) $(CMOCKA_CFLAGS)
tests_test_node_LDADD = node/libfbnode.a $(FB_LIBS) $(MBEDTLS_LIBS) \
	$(CMOCKA_LIBS)

check_PROGRAMS += tests/fuzz/fuzz_node
TESTS += tests/fuzz/fuzz_node
tests_fuzz_fuzz_node_SOURCES = tests/fuzz/fuzz_node.c tests/fuzz/standalone.c
tests_fuzz_fuzz_node_CPPFLAGS = $(AM_CPPFLAGS) -DFUZZ_CORPUS='"$(srcdir)/tests/fuzz/corpus/node"'
tests_fuzz_fuzz_node_CFLAGS = $(AM_CFLAGS) $(FB_CFLAGS)
tests_fuzz_fuzz_node_LDADD = node/libfbnode.a $(FB_LIBS)
EXTRA_DIST += tests/fuzz/corpus/node

# Freestanding: the library compiles for a Cortex-M0+ with -Werror and
# calls nothing but the listed libc functions (skipped without
# gcc-arm-none-eabi, which tools/dev installs).
TESTS += tests/test_node_freestanding.sh
dist_noinst_SCRIPTS += tests/test_node_freestanding.sh

# Tests of tools (moved here: each local.mk builds only its own folder).
# fieldbridge decode on every encoding and on garbage (issue 13).
TESTS += tests/test_cli_decode
dist_noinst_SCRIPTS += tests/test_cli_decode

check_PROGRAMS += tests/test_cli
TESTS += tests/test_cli
tests_test_cli_SOURCES = tests/test_cli.c tools/cli_status.c tools/cli_json.c
tests_test_cli_CFLAGS = $(AM_CFLAGS) $(FB_CFLAGS) $(CMOCKA_CFLAGS)
tests_test_cli_LDADD = $(FB_LIBS) $(CMOCKA_LIBS)

# The status file, damaged, as `fieldbridge status` and status_json read it.
check_PROGRAMS += tests/fuzz/fuzz_status
TESTS += tests/fuzz/fuzz_status
tests_fuzz_fuzz_status_SOURCES = tests/fuzz/fuzz_status.c tests/fuzz/standalone.c \
	tools/cli_status.c
tests_fuzz_fuzz_status_CPPFLAGS = $(AM_CPPFLAGS) -DFUZZ_CORPUS='"$(srcdir)/tests/fuzz/corpus/status"'
tests_fuzz_fuzz_status_CFLAGS = $(AM_CFLAGS) $(FB_CFLAGS)
tests_fuzz_fuzz_status_LDADD = $(FB_LIBS)

# The registry files edited as text (`fieldbridge device`).
check_PROGRAMS += tests/test_regedit
TESTS += tests/test_regedit
tests_test_regedit_SOURCES = tests/test_regedit.c
tests_test_regedit_CFLAGS = $(AM_CFLAGS) $(FB_CFLAGS) $(CMOCKA_CFLAGS)
tests_test_regedit_LDADD = $(FB_LIBS) $(CMOCKA_LIBS)

check_PROGRAMS += tests/fuzz/fuzz_regedit
TESTS += tests/fuzz/fuzz_regedit
tests_fuzz_fuzz_regedit_SOURCES = tests/fuzz/fuzz_regedit.c tests/fuzz/standalone.c
tests_fuzz_fuzz_regedit_CPPFLAGS = $(AM_CPPFLAGS) -DFUZZ_CORPUS='"$(srcdir)/tests/fuzz/corpus/regedit"'
tests_fuzz_fuzz_regedit_CFLAGS = $(AM_CFLAGS) $(FB_CFLAGS)
tests_fuzz_fuzz_regedit_LDADD = $(FB_LIBS)
EXTRA_DIST += tests/fuzz/corpus/regedit

# The Debian package built, linted, installed into a fresh Debian 12 root
# (tests/pkg/mkroot, cached), upgraded over itself, removed and purged.
TESTS += tests/pkg/test_package
dist_noinst_SCRIPTS += tests/pkg/test_package tests/pkg/mkroot
