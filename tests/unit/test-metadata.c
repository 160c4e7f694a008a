/* purple-otr - GPL-2.0-or-later
 * Unit tests of the metadata module: the bucket sizes, the padding TLV
 * fitted to a message and to what else varies in a data message. */
#include <config.h>

#include <string.h>
#include <libotr/proto.h>
#include <libotr/context_priv.h>
#include <libotr/userstate.h>

#include "headless.h"
#include "metadata.h"
#include "testutil.h"

static void
test_buckets(void)
{
    static const struct {
        gsize used, padded;
    } rows[] = {
        { 0, 256 }, { 1, 256 }, { 255, 256 }, { 256, 256 }, { 257, 512 },
        { 2005, 2048 }, { 2048, 2048 }, { 2049, 2304 },
    };

    for (guint i = 0; i < G_N_ELEMENTS(rows); i++)
        g_assert_cmpuint(potr_metadata_padded_size(rows[i].used), ==, rows[i].padded);
}

/* What libotr encrypts besides the fixed fields: text, NUL, TLV header,
 * padding, revealed MAC keys. */
static gsize
encrypted_size(const char *text, const OtrlTLV *padding, unsigned int saved_keys)
{
    return strlen(text) + 1 + 4 + padding->len + 20 * saved_keys;
}

static void
test_fit(void)
{
    char *dir = potr_test_dir_new();
    OtrlUserState us = NULL;
    ConnContext *context = NULL;
    OtrlTLV *padding = NULL;
    char text[2001];
    gsize first = 0;

    potr_headless_start(dir);
    potr_policy_init_prefs();
    g_assert_true(purple_prefs_get_bool(POTR_PREF_PADDING));
    g_assert_false(purple_prefs_get_bool(POTR_PREF_CHATSTATES));
    padding = potr_metadata_padding_new();
    g_assert_nonnull(padding);
    g_assert_cmpuint(padding->type, ==, OTRL_TLV_PADDING);

    /* every length of one bucket gives the same size; the next one differs */
    for (gsize n = 0; n <= 251; n++) {
        memset(text, 'a', n);
        text[n] = '\0';
        potr_metadata_fit_padding(padding, NULL, text);
        if (n == 0)
            first = encrypted_size(text, padding, 0);
        g_assert_cmpuint(encrypted_size(text, padding, 0), ==, first);
    }
    g_assert_cmpuint(first, ==, POTR_PAD_BUCKET);
    memset(text, 'a', 252);
    text[252] = '\0';
    potr_metadata_fit_padding(padding, NULL, text);
    g_assert_cmpuint(encrypted_size(text, padding, 0), ==, 2 * POTR_PAD_BUCKET);

    /* MAC keys libotr reveals in the message are taken off the padding */
    g_assert_cmpint(otrl_init(OTRL_VERSION_MAJOR, OTRL_VERSION_MINOR, OTRL_VERSION_SUB), ==, 0);
    us = otrl_userstate_create();
    context = otrl_context_find(us, "bob@example.org", "alice@example.org", "prpl-jabber",
                                OTRL_INSTAG_MASTER, 1, NULL, NULL, NULL);
    g_assert_nonnull(context);
    strcpy(text, "hello");
    potr_metadata_fit_padding(padding, context, text);
    first = encrypted_size(text, padding, 0);
    context->context_priv->numsavedkeys = 3;
    potr_metadata_fit_padding(padding, context, text);
    g_assert_cmpuint(encrypted_size(text, padding, 3), ==, first);
    context->context_priv->numsavedkeys = 0;
    otrl_userstate_free(us);

    /* switched off: no TLV at all */
    purple_prefs_set_bool(POTR_PREF_PADDING, FALSE);
    otrl_tlv_free(padding);
    g_assert_null(potr_metadata_padding_new());
    potr_metadata_fit_padding(NULL, NULL, text);   /* nothing to fit */

    potr_headless_stop();
    potr_test_dir_free(&dir);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/metadata/buckets", test_buckets);
    g_test_add_func("/metadata/fit", test_fit);
    return g_test_run();
}
