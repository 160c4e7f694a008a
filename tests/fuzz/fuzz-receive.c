/* purple-otr - GPL-2.0-or-later
 * Fuzz target: the receive hook with a real engine, outside and inside an
 * encrypted session with an in-process libotr peer. The first byte picks
 * what the rest is:
 *   0  a message from someone we have no session with (query, key
 *      exchange, data, error, fragments, tags: anything)
 *   1  a message from the peer, as it is, while private with it
 *   2  a text the peer's libotr encrypts and sends (decryption, HTML)
 *   3  TLVs (type, length, value ...) the peer sends in an encrypted
 *      message: verification (SMP), disconnect, padding, unknown
 * Everything sent in return is passed on until it settles. */
#include <config.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <libotr/tlv.h>

#include "env.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    potr_fuzz_env_start();
    if (!potr_fuzz_env_private())
        abort();
    return 0;
}

/* TLVs from DATA: [type byte][length byte][value] ... */
static OtrlTLV *
tlvs_from(const uint8_t *data, size_t size)
{
    OtrlTLV *first = NULL;
    OtrlTLV **next = &first;
    size_t at = 0;

    while (at + 2 <= size) {
        unsigned short type = data[at] % 12;
        unsigned short len = data[at + 1];

        at += 2;
        if (len > size - at)
            len = (unsigned short)(size - at);
        *next = otrl_tlv_new(type, len, data + at);
        next = &(*next)->next;
        at += len;
    }
    return first;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = NULL;
    OtrlTLV *tlvs = NULL;

    if (size < 1)
        return 0;
    text = g_strndup((const char *)data + 1, size - 1);
    switch (data[0] % 4) {
    case 0:
        potr_fuzz_env_receive(POTR_FUZZ_STRANGER, text);
        break;
    case 1:
        if (potr_fuzz_env_private())
            potr_fuzz_env_receive(POTR_FUZZ_PEER, text);
        break;
    case 2:
        if (potr_fuzz_env_private())
            potr_fuzz_env_peer_send(text, NULL);
        break;
    default:
        tlvs = tlvs_from(data + 1, size - 1);
        if (potr_fuzz_env_private())
            potr_fuzz_env_peer_send("", tlvs);
        otrl_tlv_free(tlvs);
        break;
    }
    potr_fuzz_env_pump();
    g_free(text);
    return 0;
}
