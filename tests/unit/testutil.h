/* purple-otr - GPL-2.0-or-later
 * Helpers shared by the C unit tests: set-up, temporary folders, files, and
 * waiting on a main context with a deadline instead of sleeping. */
#ifndef POTR_TESTUTIL_H
#define POTR_TESTUTIL_H

#include <glib.h>

/* g_test_init(), then HOME and the XDG folders pointed into a new temporary
 * folder (so nothing can reach the developer's ~/.purple; it is removed at
 * exit), then otrl_init(); aborts the test program if libotr does not match
 * its headers. (GLib's G_TEST_OPTION_ISOLATE_DIRS does the same per test,
 * but GLib 2.74 leaks its strings: valgrind reports definite leaks.) */
void potr_test_init(int *argc, char ***argv);

/* A new empty temporary folder (mode 0700); free with potr_test_dir_free(). */
char *potr_test_dir_new(void);

/* Remove *DIR and everything in it, free the string and NULL *DIR.
 * Fails the test if something cannot be removed. NULL *DIR is a no-op. */
void potr_test_dir_free(char **dir);

/* The names in DIR, sorted, as a NULL-terminated array (g_strfreev). */
char **potr_test_dir_list(const char *dir);

/* The whole content of PATH (failing the test if it cannot be read);
 * *LEN (may be NULL) gets its length. g_free() the result. */
char *potr_test_read(const char *path, gsize *len);

/* Write LEN bytes (-1: a NUL-terminated string) to PATH, replacing it,
 * with MODE. Fails the test on error. */
void potr_test_write(const char *path, const char *content, gssize len, int mode);

/* The permission bits of PATH (fails the test if it does not exist). */
int potr_test_mode(const char *path);

/* Iterate CONTEXT (NULL: the default one) until *FLAG becomes TRUE or
 * TIMEOUT_MS pass. Returns *FLAG. Each iteration calls EACH (may be NULL)
 * with DATA, so a test can check a condition while it waits. */
gboolean potr_test_wait(GMainContext *context, const gboolean *flag, guint timeout_ms,
                        void (*each)(gpointer data), gpointer data);

#endif /* POTR_TESTUTIL_H */
