/* purple-otr - GPL-2.0-or-later
 * Fuzz target: the instance tag file reader, with libotr's reader as a
 * differential oracle (same tags, same order), and read twice into the
 * same user state without duplicates. */
#include <config.h>

#include <stdlib.h>
#include <string.h>
#include <libotr/instag.h>

#include "files.h"
#include "store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
compare(OtrlUserState ours, OtrlUserState theirs)
{
    OtrlInsTag *a = ours->instag_root;
    OtrlInsTag *b = theirs->instag_root;

    for (; a != NULL && b != NULL; a = a->next, b = b->next)
        if (strcmp(a->accountname, b->accountname) != 0 || strcmp(a->protocol, b->protocol) != 0
            || a->instag != b->instag)
            abort();
    if (a != NULL || b != NULL)
        abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = potr_fuzz_file("otr.instance_tags", data, size);
    OtrlUserState ours = otrl_userstate_create();
    OtrlUserState theirs = otrl_userstate_create();
    GError *error = NULL;
    gboolean ok = potr_store_load_instags(ours, path, &error)
                  && potr_store_load_instags(ours, path, &error);

    if (ok != (error == NULL))
        abort();
    if (ok) {
        if (otrl_instag_read(theirs, path) != 0)
            abort();
        compare(ours, theirs);
    }
    g_clear_error(&error);
    otrl_userstate_free(ours);
    otrl_userstate_free(theirs);
    return 0;
}
