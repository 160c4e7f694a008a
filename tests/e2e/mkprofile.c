/* purple-otr - GPL-2.0-or-later
 * Test helper: writes a user folder's OTR files the way pidgin-otr 4.0.2
 * does, with libotr's own file functions (the ones pidgin-otr calls):
 *
 *   mkprofile DIR ACCOUNT PROTOCOL [BUDDY FINGERPRINT TRUST]...
 *
 * makes DIR/otr.private_key (a new DSA key for ACCOUNT), DIR/otr.instance_tags
 * and DIR/otr.fingerprints (each BUDDY with FINGERPRINT, 40 hex, and TRUST),
 * then prints the new key's fingerprint (40 hex) on stdout. */
#include <stdio.h>
#include <string.h>

#include <glib.h>
#include <libotr/proto.h>
#include <libotr/context.h>
#include <libotr/instag.h>
#include <libotr/privkey.h>
#include <libotr/userstate.h>

static gboolean
parse_fingerprint(const char *hex, unsigned char out[20])
{
    if (strlen(hex) != 40)
        return FALSE;
    for (int i = 0; i < 20; i++) {
        int hi = g_ascii_xdigit_value(hex[2 * i]);
        int lo = g_ascii_xdigit_value(hex[2 * i + 1]);

        if (hi < 0 || lo < 0)
            return FALSE;
        out[i] = (unsigned char)(hi << 4 | lo);
    }
    return TRUE;
}

int
main(int argc, char **argv)
{
    OtrlUserState us = NULL;
    char *keys = NULL;
    char *tags = NULL;
    char *fps = NULL;
    unsigned char hash[20];
    int status = 1;

    if (argc < 4 || (argc - 4) % 3 != 0) {
        fprintf(stderr, "usage: %s DIR ACCOUNT PROTOCOL [BUDDY FINGERPRINT TRUST]...\n", argv[0]);
        return 2;
    }
    if (otrl_init(OTRL_VERSION_MAJOR, OTRL_VERSION_MINOR, OTRL_VERSION_SUB) != 0)
        return 1;
    us = otrl_userstate_create();
    keys = g_build_filename(argv[1], "otr.private_key", NULL);
    tags = g_build_filename(argv[1], "otr.instance_tags", NULL);
    fps = g_build_filename(argv[1], "otr.fingerprints", NULL);
    if (otrl_privkey_generate(us, keys, argv[2], argv[3]) != 0
        || otrl_instag_generate(us, tags, argv[2], argv[3]) != 0)
        goto cleanup;
    for (int i = 4; i + 2 < argc; i += 3) {
        ConnContext *context = otrl_context_find(us, argv[i], argv[2], argv[3], OTRL_INSTAG_MASTER,
                                                 1, NULL, NULL, NULL);
        unsigned char fp[20];

        if (!parse_fingerprint(argv[i + 1], fp))
            goto cleanup;
        otrl_context_set_trust(otrl_context_find_fingerprint(context, fp, 1, NULL), argv[i + 2]);
    }
    if (otrl_privkey_write_fingerprints(us, fps) != 0
        || otrl_privkey_fingerprint_raw(us, hash, argv[2], argv[3]) == NULL)
        goto cleanup;
    for (int i = 0; i < 20; i++)
        printf("%02x", hash[i]);
    printf("\n");
    status = 0;

cleanup:
    otrl_userstate_free(us);
    g_free(keys);
    g_free(tags);
    g_free(fps);
    return status;
}
