/*
 * spool_bench.c - figures for the durable spool (daemon/spool.c), one
 * "name value unit" line each, for bench/run:
 *
 *	spool_append_records_per_s	records of ~150 bytes in batches of the
 *					default size (batch.max_bytes 4900),
 *					spool_sync every durability window (1 s)
 *	spool_read_ack_records_per_s	spool_next + spool_ack + sync, draining
 *	spool_write_amplification	bytes the process wrote to disk
 *					(/proc/self/io write_bytes) per JSON
 *					byte, appending and draining at full rate
 *	spool_write_amplification_sync_per_batch   the same when every batch
 *					is synced and acked on its own (a
 *					trickle of data: the worst case)
 *	spool_startup_ms_1gb		spool_open of a 1 GiB backlog (page
 *					cache warm), in a fresh process (best)
 *	spool_startup_ms_1gb_cold	the same after the backlog was written
 *					out and evicted from the page cache
 *					(skipped with -c)
 *	spool_rss_1gb_backlog_kib	peak RSS of that process after opening
 *					and reading 10 entries (median)
 *	spool_rss_empty_kib		the same for an empty spool
 *
 * Usage: spool_bench [-c] [-d DIR] [-s GIB]   DIR defaults to /var/tmp (1 GiB is
 * written there and deleted afterwards).  Runs in well under a minute.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "daemon/spool.h"

#define REC_BYTES	150
#define BATCH_BYTES_MAX	4900	/* etc/fieldbridge.conf batch.max_bytes */
#define WINDOW_MS	1000	/* default durability window */
#define APPEND_SECONDS	3
#define RUNS		7	/* start-up measurements per case */

static uint64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static uint64_t
write_bytes(void)
{
	char line[256];
	uint64_t v = 0;
	FILE *f = fopen("/proc/self/io", "r");

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "write_bytes: %" SCNu64, &v) == 1)
			break;
	fclose(f);
	return v;
}

static long
vm_hwm_kib(void)
{
	char line[256];
	long v = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "VmHWM: %ld", &v) == 1)
			break;
	fclose(f);
	return v;
}

static int
rm_cb(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(p);
}

/* A batch of JSON records of about REC_BYTES each, under the size cap. */
static void
make_batch(struct batch *b, char *buf, size_t sz, uint64_t seq)
{
	size_t n = 0, i;
	uint32_t nrec = 0;

	memset(b, 0, sizeof(*b));
	n += (size_t)snprintf(buf + n, sz - n,
	    "{\"gw\":\"farm-01\",\"seq\":%" PRIu64 ",\"records\":[", seq);
	while (n + REC_BYTES + 3 < BATCH_BYTES_MAX && n + REC_BYTES + 3 < sz) {
		i = (size_t)snprintf(buf + n, sz - n,
		    "%s{\"eui\":\"70b3d57ed00%05u\",\"fcnt\":%u,\"rssi\":-%u,"
		    "\"snr\":7.5,\"t\":1700000000.%03u,\"p\":\"",
		    nrec ? "," : "", (unsigned)(seq % 99991), nrec,
		    (unsigned)(60 + nrec % 50), nrec);
		n += i;
		while (i < REC_BYTES - 2) {
			buf[n++] = 'A' + (char)((seq + i) % 26);
			i++;
		}
		buf[n++] = '"';
		buf[n++] = '}';
		nrec++;
	}
	buf[n++] = ']';
	buf[n++] = '}';
	b->seq = seq;
	snprintf(b->stream, sizeof(b->stream), "cattle");
	b->nrecords = nrec;
	b->len = n;
	b->data = buf;
}

static void
die(const char *what, int r)
{
	fprintf(stderr, "spool_bench: %s: %s\n", what, strerror(-r));
	exit(1);
}

/* Appends at full speed for APPEND_SECONDS, then drains with acks. */
static void
bench_append(const char *base)
{
	char dir[600], buf[8192];
	struct spool *sp;
	struct spool_entry *e;
	struct batch b;
	uint64_t t0, t1, last_sync, seq = 0, recs = 0, json = 0, w0, w1;
	uint64_t acked = 0;
	int r;

	snprintf(dir, sizeof(dir), "%s/append", base);
	if ((r = spool_open(dir, NULL, &sp)) != 0)
		die("spool_open", r);
	w0 = write_bytes();
	t0 = last_sync = now_us();
	do {
		make_batch(&b, buf, sizeof(buf), ++seq);
		if ((r = spool_append(sp, &b)) != 0)
			die("spool_append", r);
		recs += b.nrecords;
		json += b.len;
		t1 = now_us();
		if (t1 - last_sync >= WINDOW_MS * 1000) {
			if ((r = spool_sync(sp)) != 0)
				die("spool_sync", r);
			last_sync = t1;
		}
	} while (t1 - t0 < APPEND_SECONDS * 1000000ULL);
	if ((r = spool_sync(sp)) != 0)
		die("spool_sync", r);
	t1 = now_us();
	printf("spool_append_records_per_s %.0f records/s\n",
	    (double)recs * 1e6 / (double)(t1 - t0));

	t0 = last_sync = now_us();
	spool_rewind(sp);
	while ((r = spool_next(sp, SPOOL_NEXT_ANY, &e)) == 1) {
		acked += e->nrecords;
		if ((r = spool_ack(sp, e->seq)) != 0)
			die("spool_ack", r);
		spool_entry_free(e);
		t1 = now_us();
		if (t1 - last_sync >= WINDOW_MS * 1000) {
			(void)spool_sync(sp);
			last_sync = t1;
		}
	}
	if (r < 0)
		die("spool_next", r);
	(void)spool_sync(sp);
	t1 = now_us();
	w1 = write_bytes();
	printf("spool_read_ack_records_per_s %.0f records/s\n",
	    (double)acked * 1e6 / (double)(t1 - t0));
	printf("spool_write_amplification %.3f bytes/byte\n",
	    (double)(w1 - w0) / (double)json);
	spool_free(sp);
	(void)nftw(dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

/* Every batch synced and acked alone: the trickle case. */
static void
bench_trickle(const char *base)
{
	char dir[600], buf[8192];
	struct spool *sp;
	struct spool_entry *e;
	struct batch b;
	uint64_t seq, json = 0, w0, w1;
	int r;

	snprintf(dir, sizeof(dir), "%s/trickle", base);
	if ((r = spool_open(dir, NULL, &sp)) != 0)
		die("spool_open", r);
	w0 = write_bytes();
	for (seq = 1; seq <= 300; seq++) {
		make_batch(&b, buf, sizeof(buf), seq);
		if ((r = spool_append(sp, &b)) != 0)
			die("spool_append", r);
		json += b.len;
		if ((r = spool_next(sp, SPOOL_NEXT_ANY, &e)) != 1)
			die("spool_next", r < 0 ? r : -ENOENT);
		(void)spool_ack(sp, e->seq);
		spool_entry_free(e);
		if ((r = spool_sync(sp)) != 0)
			die("spool_sync", r);
	}
	w1 = write_bytes();
	printf("spool_write_amplification_sync_per_batch %.3f bytes/byte\n",
	    (double)(w1 - w0) / (double)json);
	spool_free(sp);
	(void)nftw(dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

/*
 * Fills a backlog in a child that exits without a final sync: the data
 * only needs to be in the page cache for the start-up figure, and a 1 GiB
 * flush would dominate the run time.
 */
static void
fill_backlog(const char *dir, uint64_t bytes)
{
	char buf[8192];
	struct spool_conf c;
	struct spool *sp;
	struct batch b;
	uint64_t seq = 0, done = 0;
	pid_t pid;
	int st, r;

	if ((pid = fork()) < 0)
		die("fork", -errno);
	if (pid == 0) {
		spool_conf_init(&c);
		c.quota_bytes = bytes + bytes / 4;
		if ((r = spool_open(dir, &c, &sp)) != 0)
			die("spool_open", r);
		while (done < bytes) {
			make_batch(&b, buf, sizeof(buf), ++seq);
			if ((r = spool_append(sp, &b)) != 0)
				die("spool_append", r);
			done += b.len + 64;
		}
		_exit(0);
	}
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) ||
	    WEXITSTATUS(st) != 0)
		die("filling the backlog", -EIO);
}

/* Child mode: open, read 10 entries, print the time and peak RSS. */
static int
child_open(const char *dir, uint64_t quota)
{
	struct spool_conf c;
	struct spool *sp;
	struct spool_entry *e;
	uint64_t t0, t1;
	int i, r;

	spool_conf_init(&c);
	c.quota_bytes = quota;
	t0 = now_us();
	if ((r = spool_open(dir, &c, &sp)) != 0)
		die("spool_open", r);
	t1 = now_us();
	for (i = 0; i < 10; i++) {
		if ((r = spool_next(sp, SPOOL_NEXT_ANY, &e)) < 0)
			die("spool_next", r);
		spool_entry_free(e);
	}
	printf("%.3f %ld\n", (double)(t1 - t0) / 1000.0, vm_hwm_kib());
	spool_free(sp);
	return 0;
}

/* Writes the backlog out and drops it from the page cache. */
static int
evict_cb(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	int fd;

	(void)st;
	(void)f;
	if (flag != FTW_F)
		return 0;
	if ((fd = open(p, O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	(void)fdatasync(fd);
	(void)posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	close(fd);
	return 0;
}

static int
long_cmp(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return x < y ? -1 : x > y;
}

static void
run_child(const char *dir, uint64_t quota, double *ms, long *kib)
{
	char cmd[1024], out[128];
	FILE *p;

	snprintf(cmd, sizeof(cmd), "/proc/%d/exe --child-open '%s' %" PRIu64,
	    (int)getpid(), dir, quota);
	if ((p = popen(cmd, "r")) == NULL)
		die("popen", -errno);
	if (fgets(out, sizeof(out), p) == NULL ||
	    sscanf(out, "%lf %ld", ms, kib) != 2)
		die("child", -EIO);
	if (pclose(p) != 0)
		die("child exit", -EIO);
}

int
main(int argc, char **argv)
{
	char base[512], dir[600];
	const char *parent = "/var/tmp";
	double gib = 1.0, ms_empty, ms_full, best = 1e9;
	long kib_empty, kib_full, kib_e[RUNS], kib_f[RUNS];
	uint64_t bytes, quota;
	int opt, i, skip_cold = 0;

	if (argc == 4 && strcmp(argv[1], "--child-open") == 0)
		return child_open(argv[2], strtoull(argv[3], NULL, 10));
	while ((opt = getopt(argc, argv, "cd:s:")) != -1) {
		switch (opt) {
		case 'c':
			skip_cold = 1;
			break;
		case 'd':
			parent = optarg;
			break;
		case 's':
			gib = strtod(optarg, NULL);
			break;
		default:
			fprintf(stderr, "usage: spool_bench [-c] [-d DIR] "
			    "[-s GIB]\n");
			return 2;
		}
	}
	snprintf(base, sizeof(base), "%s/spool_bench.XXXXXX", parent);
	if (mkdtemp(base) == NULL)
		die(base, -errno);
	setvbuf(stdout, NULL, _IOLBF, 0);

	bench_append(base);
	bench_trickle(base);

	bytes = (uint64_t)(gib * 1024 * 1024 * 1024);
	quota = bytes + bytes / 4;
	/*
	 * Peak RSS varies by about 100 KiB from run to run (layout
	 * randomisation): take the median of RUNS fresh processes.
	 */
	snprintf(dir, sizeof(dir), "%s/empty", base);
	for (i = 0; i < RUNS; i++)
		run_child(dir, quota, &ms_empty, &kib_e[i]);
	snprintf(dir, sizeof(dir), "%s/backlog", base);
	fill_backlog(dir, bytes);
	for (i = 0; i < RUNS; i++) {
		run_child(dir, quota, &ms_full, &kib_f[i]);
		if (ms_full < best)
			best = ms_full;
	}
	qsort(kib_e, RUNS, sizeof(long), long_cmp);
	qsort(kib_f, RUNS, sizeof(long), long_cmp);
	kib_empty = kib_e[RUNS / 2];
	kib_full = kib_f[RUNS / 2];
	printf("spool_startup_ms_1gb %.1f ms\n", best);
	if (!skip_cold) {
		(void)nftw(dir, evict_cb, 16, FTW_PHYS);
		run_child(dir, quota, &ms_full, &kib_f[0]);
		printf("spool_startup_ms_1gb_cold %.1f ms\n", ms_full);
	}
	printf("spool_rss_1gb_backlog_kib %ld KiB\n", kib_full);
	printf("spool_rss_empty_kib %ld KiB\n", kib_empty);
	(void)nftw(base, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}
