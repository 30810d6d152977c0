/*
 * test_status.c - the status file and the counters line (daemon/status.c):
 * the loop's snapshot and the sections of the uplink and the outbox land
 * in one file, in order, with the STATUS_K_ keys the reader uses; the
 * counters line keeps its stable format; a write that cannot happen
 * leaves the old file.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/fsutil.h"
#include "daemon/status.h"
#include "tests/testutil.h"

static char	*dir;
static int	dfd = -1;

static int
setup(void **state)
{
	(void)state;
	dir = testutil_tmpdir();
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return dfd < 0 ? -1 : 0;
}

static int
teardown(void **state)
{
	(void)state;
	close(dfd);
	testutil_rm_rf(dir);
	free(dir);
	dir = NULL;
	return 0;
}

static void
fill(struct status_loop *l)
{
	memset(l, 0, sizeof(*l));
	l->state = "running";
	l->gateway_id = "farm-01";
	l->uptime_s = 61;
	l->clock_synced = 1;
	l->mqtt_connected = 1;
	l->mqtt_connects = 2;
	l->mqtt_disconnects = 1;
	l->mqtt_inflight = 3;
	l->ports = 2;
	l->ports_open = 1;
	l->sandbox = "chroot+seccomp";
	l->records_accepted = 1000;
	l->records_pending = 7;
	l->batches_sealed = 40;
	l->batches_delivered = 39;
	l->records_delivered = 990;
	l->drops[0].name = "unknown";
	l->drops[0].value = 5;
	l->drops[1].name = "stream";
	l->drops[1].value = 0;
	l->drops[2].name = "serial_crc";
	l->drops[2].value = 9;
	l->ndrops = 3;
	l->spool_dropped_batches = 1;
	l->spool_dropped_records = 25;
	l->lost_batches = 0;
	l->lost_records = 0;
	l->downlinks = 12;
	l->downlinks_failed = 2;
}

static void
sec_uplink(void *arg, FILE *f)
{
	(*(int *)arg)++;
	status_str(f, STATUS_K_MQTT_STATE, "connected");
}

static void
sec_outbox(void *arg, FILE *f)
{
	(*(int *)arg)++;
	status_i64(f, STATUS_K_SPOOL_OLDEST_AGE_S, -1);
	status_rate(f, STATUS_K_DRAIN_BYTES_PER_S, 1234.6);
}

static void
sec_radio(void *arg, FILE *f)
{
	(*(int *)arg)++;
	status_str(f, "airtime_region", "none");
}

static void
test_file(void **state)
{
	struct status_loop l;
	int calls = 0;
	const struct status_sections sec = {
		.uplink = sec_uplink,
		.outbox = sec_outbox,
		.radio = sec_radio,
		.arg = &calls,
	};
	char buf[4096], *p, *q;
	ssize_t n;
	int fd;

	(void)state;
	fill(&l);
	assert_int_equal(status_write(dfd, &l, &sec, (gid_t)-1), 0);
	assert_int_equal(calls, 3);
	assert_true((fd = openat(dfd, STATUS_FILE, O_RDONLY)) >= 0);
	n = fsutil_read_full(fd, buf, sizeof(buf) - 1);
	close(fd);
	assert_true(n > 0);
	buf[n] = '\0';
	assert_non_null(strstr(buf, "state=running\n"));
	assert_non_null(strstr(buf, "\ngateway_id=farm-01\n"));
	assert_non_null(strstr(buf, "\nuptime_s=61\n"));
	assert_non_null(strstr(buf, "\nmqtt_inflight=3\n"));
	assert_non_null(strstr(buf, "\nsandbox=chroot+seccomp\n"));
	assert_non_null(strstr(buf, "\ndrop_unknown=5\n"));
	assert_non_null(strstr(buf, "\ndrop_stream=0\n"));
	assert_non_null(strstr(buf, "\ndrop_serial_crc=9\n"));
	assert_non_null(strstr(buf, "\ndrop_spool_records=25\n"));
	assert_non_null(strstr(buf, "\ndownlinks_failed=2\n"));
	assert_non_null(strstr(buf, "\nspool_oldest_age_s=-1\n"));
	assert_non_null(strstr(buf, "\ndrain_bytes_per_s=1235\n"));
	/* The uplink's section follows the mqtt_ keys, the outbox's the
	 * record counts: the order a reader of the raw file expects. */
	p = strstr(buf, "mqtt_state=");
	q = strstr(buf, "mqtt_inflight=");
	assert_true(p != NULL && q != NULL && q < p);
	p = strstr(buf, "spool_oldest_age_s=");
	q = strstr(buf, "records_delivered=");
	assert_true(p != NULL && q != NULL && q < p);
	p = strstr(buf, "airtime_region=none\n");
	q = strstr(buf, "downlinks_failed=");
	assert_true(p != NULL && q != NULL && q < p);
	/* Every line is key=value. */
	for (p = buf; *p != '\0'; p = q + 1) {
		q = strchr(p, '\n');
		assert_non_null(q);
		assert_true(memchr(p, '=', (size_t)(q - p)) != NULL);
	}
	assert_int_equal(faccessat(dfd, STATUS_FILE ".tmp", F_OK, 0), -1);
}

static void
test_write_failure_keeps_old(void **state)
{
	struct status_loop l;
	char buf[256];
	ssize_t n;
	int fd, nodir;

	(void)state;
	fill(&l);
	assert_int_equal(status_write(dfd, &l, NULL, (gid_t)-1), 0);
	/* A descriptor that is no directory: nothing is written. */
	assert_true((nodir = openat(dfd, STATUS_FILE, O_RDONLY)) >= 0);
	l.state = "stopped";
	assert_int_equal(status_write(nodir, &l, NULL, (gid_t)-1), -ENOTDIR);
	close(nodir);
	assert_true((fd = openat(dfd, STATUS_FILE, O_RDONLY)) >= 0);
	n = fsutil_read_full(fd, buf, sizeof(buf) - 1);
	close(fd);
	assert_true(n > 0);
	buf[n] = '\0';
	assert_non_null(strstr(buf, "state=running\n"));
}

static void
test_counters_line(void **state)
{
	struct status_loop l;
	char line[1024], small[100];

	(void)state;
	fill(&l);
	assert_string_equal(status_counters_line(line, sizeof(line), "final: ",
	    &l), "final: records accepted 1000, batches sealed 40, delivered "
	    "39 (records 990), dropped: unknown=5 stream=0 serial_crc=9 "
	    "queue=1 (records 25) lost=0 (records 0)");
	/* A short buffer gets whole fields only, and stays a string. */
	status_counters_line(small, sizeof(small), "", &l);
	assert_true(strlen(small) < sizeof(small));
	assert_int_equal(strncmp(small, "records accepted 1000", 21), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_failure_keeps_old,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_counters_line, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
