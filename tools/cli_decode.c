/*
 * cli_decode.c - `fieldbridge decode`: a published payload in, its JSON
 * document out (cli_decode.h).  The decoding is daemon/encoding.c's, the
 * same code the daemon's tests check its own encoder with, so the CLI and
 * the daemon cannot disagree about a format.
 *
 * The input is untrusted bytes: it is read up to a bound, and the
 * document is bounded too (ENCODING_DOC_MAX_BYTES), so a small hostile
 * payload cannot inflate into gigabytes.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/encoding.h"
#include "daemon/fsutil.h"
#include "tools/cli_decode.h"

static void
cli_decode_usage(FILE *f)
{
	fprintf(f, "usage: fieldbridge decode [FILE]\n"
	    "  prints the JSON document of a payload fieldbridged published "
	    "(any\n"
	    "  encoding: json, zlib), read from FILE or from standard input\n"
	    "exit status: 0 decoded, 1 not a fieldbridge payload, 2 error\n");
}

int
cli_decode_main(int argc, char **argv)
{
	const char *path = NULL, *name = "stdin", *why = NULL;
	uint8_t *in = NULL;
	char *doc = NULL, extra;
	size_t dlen = 0;
	ssize_t n;
	int fd = STDIN_FILENO, r, rc = 2;

	if (argc > 2 || (argc == 2 && argv[1][0] == '-' &&
	    argv[1][1] != '\0')) {
		cli_decode_usage(argc == 2 && (strcmp(argv[1], "-h") == 0 ||
		    strcmp(argv[1], "--help") == 0) ? stdout : stderr);
		return argc == 2 && (strcmp(argv[1], "-h") == 0 ||
		    strcmp(argv[1], "--help") == 0) ? 0 : 2;
	}
	if (argc == 2 && strcmp(argv[1], "-") != 0) {
		path = name = argv[1];
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
			fprintf(stderr, "fieldbridge decode: %s: %s\n", name,
			    strerror(errno));
			return 2;
		}
	}
	if ((in = malloc(CLI_DECODE_INPUT_MAX_BYTES)) == NULL) {
		fprintf(stderr, "fieldbridge decode: out of memory\n");
		goto out;
	}
	if ((n = fsutil_read_full(fd, in, CLI_DECODE_INPUT_MAX_BYTES)) < 0) {
		fprintf(stderr, "fieldbridge decode: %s: %s\n", name,
		    strerror((int)-n));
		goto out;
	}
	if ((size_t)n == CLI_DECODE_INPUT_MAX_BYTES &&
	    fsutil_read_full(fd, &extra, 1) == 1) {
		fprintf(stderr, "fieldbridge decode: %s: larger than %u bytes: "
		    "not a fieldbridge payload\n", name,
		    CLI_DECODE_INPUT_MAX_BYTES);
		rc = 1;
		goto out;
	}
	r = encoding_decode(in, (size_t)n, ENCODING_DOC_MAX_BYTES, &doc,
	    &dlen, &why);
	if (r == -ENOMEM) {
		fprintf(stderr, "fieldbridge decode: out of memory\n");
		goto out;
	}
	if (r != 0) {
		fprintf(stderr, "fieldbridge decode: %s: not a fieldbridge "
		    "payload: %s\n", name, why != NULL ? why : strerror(-r));
		rc = 1;
		goto out;
	}
	if (fwrite(doc, 1, dlen, stdout) != dlen || putchar('\n') == EOF ||
	    fflush(stdout) != 0) {
		fprintf(stderr, "fieldbridge decode: writing: %s\n",
		    strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (path != NULL)
		(void)close(fd);
	free(in);
	free(doc);
	return rc;
}
