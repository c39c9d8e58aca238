/* tar_header.c: formats tar headers with src/tarheader.c alone (no file
 * opened, no libarchive), for docker_tar_headers.py to compare with the
 * header blocks of the tars the docker CLI wrote.
 *
 * stdin, per member: a line "TYPE MODE SIZE MTIME DEVMAJOR DEVMINOR
 * NAME_LEN LINK_LEN CAP_LEN" (TYPE a character, CAP_LEN -1 for no
 * capability), then the name, link and capability bytes.
 * stdout, per member: a line "LEN" and the LEN bytes of its header blocks,
 * or a line "error: MESSAGE". */
#include <stdio.h>
#include <stdlib.h>

#include "tarheader.h"

static char *read_bytes(long long len)
{
	char *p = malloc(len > 0 ? (size_t)len : 1);

	if (!p || (len > 0 && fread(p, 1, (size_t)len, stdin) != (size_t)len)) {
		fprintf(stderr, "tar_header: short input\n");
		exit(2);
	}
	return p;
}

int main(void)
{
	struct tar_header_buf b = TAR_HEADER_BUF_INIT;
	long long mode, size, mtime, major, minor, nlen, llen, clen;
	char type, err[256];

	while (scanf(" %c %lld %lld %lld %lld %lld %lld %lld %lld", &type, &mode, &size, &mtime,
		     &major, &minor, &nlen, &llen, &clen) == 9) {
		struct tar_header h = {0};
		char *name, *link, *cap = NULL;
		int rc;

		if (getchar() != '\n')
			return 2;
		name = read_bytes(nlen);
		link = read_bytes(llen);
		if (clen >= 0)
			cap = read_bytes(clen);
		h = (struct tar_header){name,  (size_t)nlen, link, (size_t)llen,
					type,  mode,	     size, mtime,
					major, minor,	     cap,  clen >= 0 ? (size_t)clen : 0};
		rc = tar_header_format(&b, &h, err, sizeof(err));
		if (rc)
			printf("error: %s\n", err);
		else
			printf("%zu\n", b.len);
		if (!rc)
			fwrite(b.data, 1, b.len, stdout);
		free(name);
		free(link);
		free(cap);
	}
	tar_header_buf_release(&b);
	return fflush(stdout) ? 1 : 0;
}
