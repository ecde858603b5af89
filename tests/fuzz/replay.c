/* Runs a libFuzzer target's LLVMFuzzerTestOneInput over files, without
 * libFuzzer: the ordinary (gcc, ASan) builds replay the seed corpora through
 * every fuzz target, so their properties are checked by `ctest` too.
 * usage: replay_<target> FILE_OR_DIR... (a directory: its regular files) */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

#define MAX_INPUT (8u << 20) /* larger than any -max_len we fuzz with */
#define MAX_DIR_ENTRIES 100000u

static long inputs;

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        perror(path);
        return 1;
    }
    uint8_t *buf = malloc(MAX_INPUT);
    size_t n = buf ? fread(buf, 1, MAX_INPUT, f) : 0;
    int err = buf == NULL || ferror(f);
    fclose(f);
    if (err) {
        fprintf(stderr, "replay: cannot read %s\n", path);
        free(buf);
        return 1;
    }
    /* An exact-size copy, as libFuzzer gives, so ASan sees overreads. */
    uint8_t *data = malloc(n ? n : 1);
    if (data == NULL) {
        free(buf);
        return 1;
    }
    memcpy(data, buf, n);
    free(buf);
    LLVMFuzzerTestOneInput(data, n);
    free(data);
    inputs++;
    return 0;
}

static int run_path(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        perror(path);
        return 1;
    }
    if (!S_ISDIR(st.st_mode))
        return run_file(path);
    DIR *d = opendir(path);
    if (d == NULL) {
        perror(path);
        return 1;
    }
    int rc = 0;
    struct dirent *e;
    char full[4096];
    for (unsigned i = 0; i < MAX_DIR_ENTRIES && (e = readdir(d)) != NULL;
         i++) {
        if (e->d_name[0] == '.')
            continue;
        int w = snprintf(full, sizeof full, "%s/%s", path, e->d_name);
        if (w < 0 || (size_t)w >= sizeof full)
            continue;
        if (stat(full, &st) == 0 && S_ISREG(st.st_mode))
            rc |= run_file(full);
    }
    closedir(d);
    return rc;
}

int main(int argc, char **argv)
{
    if (LLVMFuzzerInitialize != NULL)
        LLVMFuzzerInitialize(&argc, &argv);
    int rc = 0;
    for (int i = 1; i < argc; i++)
        rc |= run_path(argv[i]);
    printf("replay: %ld inputs, no property violated\n", inputs);
    return rc;
}
