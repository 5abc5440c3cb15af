/*
 * replay_main.c: runs a fuzz target over every file of the corpus
 * directories given, without libFuzzer, so `ctest` replays the corpora
 * with any compiler (and under ASan/UBSan in the sanitizer build).
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
run_file(const char *path)
{
	FILE *fp;
	uint8_t *buf;
	struct stat st;
	size_t n;

	if (stat(path, &st) == -1 || (fp = fopen(path, "rb")) == NULL) {
		perror(path);
		return -1;
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
		fclose(fp);
		return -1;
	}
	n = fread(buf, 1, (size_t)st.st_size, fp);
	fclose(fp);
	LLVMFuzzerTestOneInput(buf, n);
	free(buf);
	return 0;
}

int
main(int argc, char **argv)
{
	DIR *d;
	struct dirent *de;
	char path[4096];
	int i, files = 0, failed = 0;

	for (i = 1; i < argc; i++) {
		if ((d = opendir(argv[i])) == NULL) {
			if (run_file(argv[i]) == -1)
				failed++;
			else
				files++;
			continue;
		}
		while ((de = readdir(d)) != NULL) {
			if (de->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", argv[i],
			    de->d_name);
			if (run_file(path) == -1)
				failed++;
			else
				files++;
		}
		closedir(d);
	}
	printf("replayed %d inputs, %d unreadable\n", files, failed);
	return (files == 0 || failed) ? 1 : 0;
}
