/* purple-otr - GPL-2.0-or-later
 * Helpers shared by the C unit tests (see testutil.h). */

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <libotr/proto.h>

#include "testutil.h"

static char *potr_test_home;

static void potr_test_rmtree(const char *path);

/* At exit, after g_test_run(): remove the fake HOME. */
static void
potr_test_remove_home(void)
{
    if (potr_test_home != NULL)
        potr_test_rmtree(potr_test_home);
    g_clear_pointer(&potr_test_home, g_free);
}

void
potr_test_init(int *argc, char ***argv)
{
    static const char *const xdg[] = {
        "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME", "XDG_RUNTIME_DIR",
    };
    gsize i;

    g_test_init(argc, argv, NULL);
    potr_test_home = potr_test_dir_new();
    atexit(potr_test_remove_home);
    g_setenv("HOME", potr_test_home, TRUE);
    for (i = 0; i < G_N_ELEMENTS(xdg); i++)
        g_setenv(xdg[i], potr_test_home, TRUE);
    if (otrl_init(OTRL_VERSION_MAJOR, OTRL_VERSION_MINOR, OTRL_VERSION_SUB) != 0)
        g_error("libotr %s does not match the headers this test was built with",
                otrl_version());
}

char *
potr_test_dir_new(void)
{
    GError *error = NULL;
    char *dir = g_dir_make_tmp("potr-test-XXXXXX", &error);

    g_assert_no_error(error);
    g_assert_nonnull(dir);
    return dir;
}

static void
potr_test_rmtree(const char *path)
{
    struct stat st;

    if (lstat(path, &st) != 0) {
        g_assert_cmpint(errno, ==, ENOENT);
        return;
    }
    if (S_ISDIR(st.st_mode)) {
        char **names;
        char **n;

        /* a test may have taken the write bit away */
        g_assert_cmpint(chmod(path, 0700), ==, 0);
        names = potr_test_dir_list(path);
        for (n = names; *n != NULL; n++) {
            char *child = g_build_filename(path, *n, NULL);

            potr_test_rmtree(child);
            g_free(child);
        }
        g_strfreev(names);
        g_assert_cmpint(g_rmdir(path), ==, 0);
    } else {
        g_assert_cmpint(g_unlink(path), ==, 0);
    }
}

void
potr_test_dir_free(char **dir)
{
    if (*dir == NULL)
        return;
    potr_test_rmtree(*dir);
    g_clear_pointer(dir, g_free);
}

static int
potr_test_strcmp(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

char **
potr_test_dir_list(const char *dir)
{
    GError *error = NULL;
    GDir *d = g_dir_open(dir, 0, &error);
    GPtrArray *names = g_ptr_array_new();
    const char *name;

    g_assert_no_error(error);
    while ((name = g_dir_read_name(d)) != NULL)
        g_ptr_array_add(names, g_strdup(name));
    g_dir_close(d);
    g_ptr_array_sort(names, potr_test_strcmp);
    g_ptr_array_add(names, NULL);
    return (char **)g_ptr_array_free(names, FALSE);
}

char *
potr_test_read(const char *path, gsize *len)
{
    GError *error = NULL;
    char *content = NULL;
    gsize n = 0;

    g_file_get_contents(path, &content, &n, &error);
    g_assert_no_error(error);
    if (len != NULL)
        *len = n;
    return content;
}

void
potr_test_write(const char *path, const char *content, gssize len, int mode)
{
    gsize n = len < 0 ? strlen(content) : (gsize)len;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);

    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(fchmod(fd, mode), ==, 0);
    g_assert_cmpint(write(fd, content, n), ==, (gssize)n);
    g_assert_cmpint(close(fd), ==, 0);
}

int
potr_test_mode(const char *path)
{
    struct stat st;

    g_assert_cmpint(stat(path, &st), ==, 0);
    return (int)(st.st_mode & 07777);
}

static gboolean
potr_test_deadline(gpointer data)
{
    *(gboolean *)data = TRUE;
    return G_SOURCE_REMOVE;
}

gboolean
potr_test_wait(GMainContext *context, const gboolean *flag, guint timeout_ms,
               void (*each)(gpointer data), gpointer data)
{
    gboolean expired = FALSE;
    GSource *timer = g_timeout_source_new(timeout_ms);

    g_source_set_callback(timer, potr_test_deadline, &expired, NULL);
    g_source_attach(timer, context);
    while (!*flag && !expired) {
        g_main_context_iteration(context, TRUE);
        if (each != NULL)
            each(data);
    }
    g_source_destroy(timer);
    g_source_unref(timer);
    return *flag;
}
