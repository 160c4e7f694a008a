/* purple-otr - GPL-2.0-or-later
 * Fuzzing the file readers: the input as a file (see files.h). */
#include <config.h>

#include "files.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static char *folder = NULL;
static char *path = NULL;

static void
remove_folder(void)
{
    if (path != NULL)
        unlink(path);
    if (folder != NULL)
        rmdir(folder);
}

const char *
potr_fuzz_file(const char *name, const uint8_t *data, size_t size)
{
    FILE *fp = NULL;

    if (folder == NULL) {
        folder = g_dir_make_tmp("potr-fuzz-files-XXXXXX", NULL);
        if (folder == NULL)
            abort();
        path = g_build_filename(folder, name, NULL);
        atexit(remove_folder);
    }
    fp = fopen(path, "wb");
    if (fp == NULL || (size > 0 && fwrite(data, 1, size, fp) != size) || fclose(fp) != 0)
        abort();
    return path;
}
