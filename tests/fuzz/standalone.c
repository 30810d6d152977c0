/*
 * standalone.c - runs a fuzz target over files without libFuzzer, so every
 * target is built by the normal compiler and replays its seed corpus (and
 * any crash files found later) in `make check`, under the sanitizers in CI.
 *
 * Usage: fuzz_X [FILE|DIR...]   Each file is one input, one call.  With no
 * argument it replays FUZZ_CORPUS, the seed directory it was built with.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
run_file(const char *path)
{
	FILE *f;
	uint8_t *buf = NULL;
	long n;
	int r = -1;

	if ((f = fopen(path, "rb")) == NULL) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0)
		goto out;
	/* malloc(0) may return NULL; always give the target a real buffer. */
	if ((buf = malloc((size_t)n + 1)) == NULL)
		goto out;
	if (n > 0 && fread(buf, 1, (size_t)n, f) != (size_t)n)
		goto out;
	(void)LLVMFuzzerTestOneInput(buf, (size_t)n);
	r = 0;
out:
	if (r != 0)
		fprintf(stderr, "%s: cannot read\n", path);
	free(buf);
	fclose(f);
	return r;
}

static int
run_path(const char *path, int *count)
{
	struct stat st;
	DIR *d;
	struct dirent *de;
	char sub[4096];
	int r = 0;

	if (stat(path, &st) != 0) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		(*count)++;
		return run_file(path);
	}
	if ((d = opendir(path)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name);
		if (run_path(sub, count) != 0)
			r = -1;
	}
	closedir(d);
	return r;
}

int
main(int argc, char **argv)
{
	int i, count = 0, r = 0;

#ifdef FUZZ_CORPUS
	if (argc == 1 && run_path(FUZZ_CORPUS, &count) != 0)
		r = 1;
#endif
	for (i = 1; i < argc; i++)
		if (run_path(argv[i], &count) != 0)
			r = 1;
	if (count == 0) {
		fprintf(stderr, "no inputs\n");
		return 1;
	}
	printf("%d inputs replayed\n", count);
	return r;
}
