/* purple-otr - GPL-2.0-or-later
 * Fuzz target: the private key file reader, with libotr's reader as a
 * differential oracle: when ours accepts a non-empty file, libotr's
 * accepts it too and both hold the same keys (account, protocol, public
 * key), in any order; when ours rejects it, the error says so. */
#include <config.h>

#include <stdlib.h>
#include <string.h>
#include <libotr/privkey.h>

#include "files.h"
#include "store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The same keys, whatever their order in the list (the store merges and
 * may keep another order than libotr's reader; the order is never seen). */
static gboolean
has_key(OtrlUserState us, const OtrlPrivKey *key)
{
    for (OtrlPrivKey *k = us->privkey_root; k != NULL; k = k->next)
        if (strcmp(k->accountname, key->accountname) == 0 && strcmp(k->protocol, key->protocol) == 0
            && k->pubkey_datalen == key->pubkey_datalen
            && memcmp(k->pubkey_data, key->pubkey_data, k->pubkey_datalen) == 0)
            return TRUE;
    return FALSE;
}

static void
compare(OtrlUserState ours, OtrlUserState theirs)
{
    for (OtrlPrivKey *a = ours->privkey_root; a != NULL; a = a->next)
        if (!has_key(theirs, a))
            abort();
    for (OtrlPrivKey *b = theirs->privkey_root; b != NULL; b = b->next)
        if (!has_key(ours, b))
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
    potr_store_release(ours);   /* what the store remembers of this userstate */
    otrl_userstate_free(ours);
    otrl_userstate_free(theirs);
    return 0;
}
