/* purple-otr - GPL-2.0-or-later
 * Fuzz target: the instance tag file reader, with libotr's reader as a
 * differential oracle (every tag ours reads, libotr reads alike; ours is
 * stricter), and read twice into the same user state without duplicates. */
#include <config.h>

#include <stdlib.h>
#include <string.h>
#include <libotr/instag.h>

#include "files.h"
#include "store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The same tags, whatever their order in the list. */
static gboolean
has_tag(OtrlUserState us, const OtrlInsTag *tag)
{
    for (OtrlInsTag *t = us->instag_root; t != NULL; t = t->next)
        if (strcmp(t->accountname, tag->accountname) == 0 && strcmp(t->protocol, tag->protocol) == 0
            && t->instag == tag->instag)
            return TRUE;
    return FALSE;
}

/* Ours is stricter than libotr's reader (a tag field with junk after a
 * hex prefix is skipped, and the file is marked damaged): every tag ours
 * reads, libotr reads alike; never a tag libotr would not have. */
static void
compare(OtrlUserState ours, OtrlUserState theirs)
{
    for (OtrlInsTag *a = ours->instag_root; a != NULL; a = a->next)
        if (!has_tag(theirs, a))
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
    potr_store_release(ours);   /* what the store remembers of this userstate */
    otrl_userstate_free(ours);
    otrl_userstate_free(theirs);
    return 0;
}
