/* purple-otr - GPL-2.0-or-later
 * Test-only LD_PRELOAD shim: the plugins bind their gettext domain to the
 * LOCALEDIR they were configured with (an install path); the translation
 * tests run them from the build tree, before anything is installed. With
 * POTR_LOCALEDIR set, this bindtextdomain() sends the "purple-otr" domain
 * there instead (a folder of LL/LC_MESSAGES/purple-otr.mo that the test
 * compiles from po/LL.po); every other domain, and every call without the
 * variable, goes to the C library unchanged. Never installed. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

typedef char *(*BindFunc)(const char *domain, const char *dir);

/* Contract: as bindtextdomain(3). Returns NULL if the C library's own
 * function cannot be found (nothing else would work either). */
char *bindtextdomain(const char *domain, const char *dir);

char *
bindtextdomain(const char *domain, const char *dir)
{
    static BindFunc real = NULL;
    const char *over = getenv("POTR_LOCALEDIR");

    if (real == NULL)
        *(void **)&real = dlsym(RTLD_NEXT, "bindtextdomain");
    if (real == NULL)
        return NULL;
    /* why only a non-NULL dir: NULL asks for the current binding, and the
     * answer must stay truthful */
    if (over != NULL && over[0] != '\0' && domain != NULL && dir != NULL &&
        strcmp(domain, "purple-otr") == 0)
        dir = over;
    return real(domain, dir);
}
