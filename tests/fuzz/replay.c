/*
 * Runs a fuzz target without libFuzzer, so every build exercises it: each
 * file of the corpus directories given as arguments, then every prefix of
 * each file and a batch of deterministic mutations of it (byte flips,
 * truncations, splices). With clang and -DSIGNET_FUZZ=ON the same target is
 * linked with libFuzzer instead for real fuzzing.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* A target may check what a corpus file did when run as it is (before its
 * mutations): nonzero fails the replay. Optional, hence weak. */
int fuzz_replay_seed_check(const char *name) __attribute__((weak));

#define REPLAY_MAX_INPUT (1 << 20)
#ifndef REPLAY_MUTATIONS /* per corpus file; CMake sets it per target */
#define REPLAY_MUTATIONS 20000
#endif

static uint32_t rng_state = 0x5151abcd;

static uint32_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 17;
	rng_state ^= rng_state << 5;
	return rng_state;
}

static void mutate_and_run(const uint8_t *in, size_t len, uint8_t *buf)
{
	for (size_t cut = 0; cut <= len; cut++)
		LLVMFuzzerTestOneInput(in, cut);
	for (int i = 0; i < REPLAY_MUTATIONS && len > 0; i++) {
		size_t n = len;

		memcpy(buf, in, len);
		for (int flips = 1 + (int)(rng() % 4); flips > 0; flips--)
			buf[rng() % n] ^= (uint8_t)(1u << (rng() % 8));
		if (rng() % 4 == 0)
			n = rng() % (len + 1);
		LLVMFuzzerTestOneInput(buf, n);
	}
}

/* 0, -1 when the file cannot be read, 1 when the target's seed check fails */
static int run_file(const char *path, const char *name, uint8_t *data, uint8_t *scratch)
{
	FILE *f = fopen(path, "rb");
	size_t len;
	int r = 0;

	if (f == NULL)
		return -1;
	len = fread(data, 1, REPLAY_MAX_INPUT, f);
	fclose(f);
	LLVMFuzzerTestOneInput(data, len);
	if (fuzz_replay_seed_check != NULL && fuzz_replay_seed_check(name) != 0)
		r = 1;
	mutate_and_run(data, len, scratch);
	return r;
}

int main(int argc, char **argv)
{
	uint8_t *data = malloc(REPLAY_MAX_INPUT), *scratch = malloc(REPLAY_MAX_INPUT);
	int files = 0, bad = 0;

	if (data == NULL || scratch == NULL)
		return 2;
	for (int a = 1; a < argc; a++) {
		DIR *d = opendir(argv[a]);
		struct dirent *e;
		char path[4096];

		if (d == NULL) {
			fprintf(stderr, "cannot open corpus %s\n", argv[a]);
			return 2;
		}
		while ((e = readdir(d)) != NULL) {
			if (e->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", argv[a], e->d_name);
			switch (run_file(path, e->d_name, data, scratch)) {
			case 1:
				bad++;
				/* fall through */
			case 0:
				files++;
				break;
			default:
				break;
			}
		}
		closedir(d);
	}
	free(data);
	free(scratch);
	printf("replayed %d corpus files with mutations\n", files);
	if (bad > 0)
		printf("%d corpus files did not do what the target expects of them\n", bad);
	return files > 0 && bad == 0 ? 0 : 1;
}
