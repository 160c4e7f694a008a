/* purple-otr - GPL-2.0-or-later
 * Fuzz target: the fingerprint file reader, with libotr's reader as a
 * differential oracle: on a file our reader takes whole (nothing skipped,
 * lines short enough for libotr's 1000-byte buffer), both user states
 * must hold the same contexts, fingerprints (in order) and trust. */
#include <config.h>

#include <stdlib.h>
#include <string.h>
#include <libotr/privkey.h>

#include "files.h"
#include "store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* libotr reads lines with fgets() into 1000 bytes: longer ones are cut */
static gboolean
lines_fit_libotr(const uint8_t *data, size_t size)
{
    size_t len = 0;

    for (size_t i = 0; i < size; i++) {
        len = data[i] == '\n' ? 0 : len + 1;
        if (len >= 998)
            return FALSE;
    }
    return TRUE;
}

static void
compare(OtrlUserState ours, OtrlUserState theirs)
{
    ConnContext *a = ours->context_root;
    ConnContext *b = theirs->context_root;

    for (; a != NULL && b != NULL; a = a->next, b = b->next) {
        Fingerprint *fa = a->fingerprint_root.next;
        Fingerprint *fb = b->fingerprint_root.next;

        if (strcmp(a->username, b->username) != 0 || strcmp(a->accountname, b->accountname) != 0
            || strcmp(a->protocol, b->protocol) != 0 || a->their_instance != b->their_instance)
            abort();
        for (; fa != NULL && fb != NULL; fa = fa->next, fb = fb->next)
            if (memcmp(fa->fingerprint, fb->fingerprint, 20) != 0
                || g_strcmp0(fa->trust, fb->trust) != 0)
                abort();
        if (fa != NULL || fb != NULL)
            abort();
    }
    if (a != NULL || b != NULL)
        abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = potr_fuzz_file("otr.fingerprints", data, size);
    OtrlUserState ours = otrl_userstate_create();
    OtrlUserState theirs = otrl_userstate_create();
    GError *error = NULL;
    guint skipped = 0;
    gboolean ok = potr_store_load_fingerprints(ours, path, NULL, NULL, &skipped, &error);

    if (ok != (error == NULL))
        abort();
    if (ok && skipped == 0 && lines_fit_libotr(data, size)) {
        if (otrl_privkey_read_fingerprints(theirs, path, NULL, NULL) != 0)
            abort();
        compare(ours, theirs);
    }
    g_clear_error(&error);
    potr_store_release(ours);   /* what the store remembers of this userstate */
    otrl_userstate_free(ours);
    otrl_userstate_free(theirs);
    return 0;
}
