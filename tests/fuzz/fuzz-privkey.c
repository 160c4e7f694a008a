/* purple-otr - GPL-2.0-or-later
 * Fuzz target: the private key file reader, with libotr's reader as a
 * differential oracle: when ours accepts a non-empty file, libotr's
 * accepts it too and both hold the same keys (account, protocol, public
 * key), in the same order; when ours rejects it, the error says so. */
#include <config.h>

#include <stdlib.h>
#include <string.h>
#include <libotr/privkey.h>

#include "files.h"
#include "store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
compare(OtrlUserState ours, OtrlUserState theirs)
{
    OtrlPrivKey *a = ours->privkey_root;
    OtrlPrivKey *b = theirs->privkey_root;

    for (; a != NULL && b != NULL; a = a->next, b = b->next)
        if (strcmp(a->accountname, b->accountname) != 0 || strcmp(a->protocol, b->protocol) != 0
            || a->pubkey_datalen != b->pubkey_datalen
            || memcmp(a->pubkey_data, b->pubkey_data, a->pubkey_datalen) != 0)
            abort();
    if (a != NULL || b != NULL)
        abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = potr_fuzz_file("otr.private_key", data, size);
    OtrlUserState ours = otrl_userstate_create();
    OtrlUserState theirs = otrl_userstate_create();
    GError *error = NULL;
    gboolean ok = potr_store_load_keys(ours, path, &error);

    if (ok != (error == NULL))
        abort();
    if (ok && size > 0) {
        if (otrl_privkey_read(theirs, path) != 0)
            abort();
        compare(ours, theirs);
    }
    g_clear_error(&error);
    otrl_userstate_free(ours);
    otrl_userstate_free(theirs);
    return 0;
}
