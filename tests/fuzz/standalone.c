/* standalone.c: replays fuzz inputs (files, or every file in directories)
 * through LLVMFuzzerTestOneInput without libFuzzer, printing TAP; used by
 * `meson test` to keep the checked-in corpus passing under gcc. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int count;

static void run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t n = 0, cap = 0, r;

	if (!f) {
		printf("not ok %d - %s # cannot open\n", ++count, path);
		return;
	}
	do {
		if (n == cap) {
			cap = cap ? cap * 2 : 4096;
			buf = realloc(buf, cap);
		}
		r = fread(buf + n, 1, cap - n, f);
		n += r;
	} while (r > 0);
	fclose(f);
	LLVMFuzzerTestOneInput(buf, n);
	free(buf);
	printf("ok %d - %s\n", ++count, path);
}

static void run_path(const char *path)
{
	struct stat st;
	struct dirent **ents;
	int ne;

	if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode)) {
		run_file(path);
		return;
	}
	ne = scandir(path, &ents, NULL, alphasort);
	for (int i = 0; i < ne; i++) {
		if (ents[i]->d_name[0] != '.') {
			char *p = malloc(strlen(path) + strlen(ents[i]->d_name) + 2);
			sprintf(p, "%s/%s", path, ents[i]->d_name);
			run_path(p);
			free(p);
		}
		free(ents[i]);
	}
	free(ents);
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		run_path(argv[i]);
	printf("1..%d\n", count);
	return 0;
}
