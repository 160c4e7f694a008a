/* purple-otr - GPL-2.0-or-later
 * Metadata: padding of encrypted messages, and typing notifications and
 * chat states withheld while a conversation is private. */
#include "i18n.h"
#include "metadata.h"

#include <string.h>
#include <gcrypt.h>
#include <libotr/context_priv.h>

#include "core.h"

/* Why pad, and why this bucket scheme: OTR encrypts with AES in counter
 * mode, so without padding the ciphertext is exactly as long as the text
 * and the server learns the length of every message (enough to tell "ok"
 * from a paragraph, or to match a known document). Every data message
 * carries a padding TLV (type 0, which every OTR implementation ignores)
 * that makes the encrypted part a whole number of 256-byte buckets.
 * Chat is mostly short: every message up to about 250 bytes looks the
 * same, a message costs at most 255 bytes more, and 1..2000 characters
 * fall into 8 lengths. bench/bench-metadata.py measures it: for lengths
 * spread evenly over 1..2000 characters, 13% more plaintext and 11% more
 * bytes on the wire; powers of two would give fewer lengths (4) but cost
 * about 37%, and up to 100% for a message just past a power. */

/* The largest DH public key a data message carries (1536-bit group). */
#define POTR_DH_PUB_MAX 192
/* Bytes of one revealed MAC key. */
#define POTR_MAC_KEY_LEN 20
/* Header of a TLV: type and length, two bytes each. */
#define POTR_TLV_HEADER 4

/* Why chat states are withheld: XEP-0085 chat states, typing
 * notifications of other protocols and read markers travel in clear
 * beside the ciphertext, so the server (and its logs) would learn when
 * someone types, stops, reads or leaves a private conversation. */
#define POTR_NS_CHATSTATES "http://jabber.org/protocol/chatstates"
#define POTR_NS_CHAT_MARKERS "urn:xmpp:chat-markers:0"
#define POTR_NS_RECEIPTS "urn:xmpp:receipts"

typedef unsigned int (*PotrSendTyping)(PurpleConnection *gc, const char *name,
                                       PurpleTypingState state);

/* A protocol whose send_typing we filter, and its own function. */
typedef struct {
    PurplePluginProtocolInfo *info;
    PotrSendTyping original;
} TypingSlot;

static GSList *typing_slots = NULL;

gsize
potr_metadata_padded_size(gsize used)
{
    if (used == 0)
        used = 1;
    return (used + POTR_PAD_BUCKET - 1) / POTR_PAD_BUCKET * POTR_PAD_BUCKET;
}

OtrlTLV *
potr_metadata_padding_new(void)
{
    unsigned char zeros[POTR_PAD_BUCKET];

    if (!purple_prefs_get_bool(POTR_PREF_PADDING))
        return NULL;
    memset(zeros, 0, sizeof zeros);
    return otrl_tlv_new(OTRL_TLV_PADDING, sizeof zeros, zeros);
}

/* Bytes of CONTEXT's next data message that vary from message to
 * message besides the text: the MAC keys libotr reveals in it, minus the
 * bytes its DH public key is shorter than the longest (an MPI loses its
 * leading zero bytes). Both would otherwise leak through the padding. */
static gssize
variable_overhead(ConnContext *context)
{
    ConnContextPriv *priv = context != NULL ? context->context_priv : NULL;
    gssize extra = 0;

    if (priv == NULL)
        return 0;
    extra = (gssize)priv->numsavedkeys * POTR_MAC_KEY_LEN;
    if (priv->our_dh_key.pub != NULL) {
        gssize len = (gssize)(gcry_mpi_get_nbits(priv->our_dh_key.pub) + 7) / 8;

        if (len < POTR_DH_PUB_MAX)
            extra -= POTR_DH_PUB_MAX - len;
    }
    return extra;
}

void
potr_metadata_fit_padding(OtrlTLV *padding, ConnContext *context, const char *message)
{
    gssize used = 0;
    gsize target = 0;

    if (padding == NULL || message == NULL)
        return;
    /* the text, its NUL, the TLV's header, and what else varies */
    used = (gssize)strlen(message) + 1 + POTR_TLV_HEADER + variable_overhead(context);
    if (used < 1)
        used = 1;
    target = potr_metadata_padded_size((gsize)used);
    /* never more than the TLV holds: target - used < POTR_PAD_BUCKET */
    padding->len = (unsigned short)MIN(target - (gsize)used, (gsize)POTR_PAD_BUCKET - 1);
}

gboolean
potr_metadata_hide_chat_states(PurpleAccount *account, const char *who)
{
    ConnContext *master = NULL;

    if (account == NULL || who == NULL || purple_prefs_get_bool(POTR_PREF_CHATSTATES))
        return FALSE;
    master = potr_core_find_context(account, who, OTRL_INSTAG_MASTER, FALSE);
    for (ConnContext *c = master; c != NULL && c->m_context == master; c = c->next)
        if (c->msgstate == OTRL_MSGSTATE_ENCRYPTED)
            return TRUE;
    return FALSE;
}

static TypingSlot *
find_slot(PurplePluginProtocolInfo *info)
{
    for (GSList *l = typing_slots; l != NULL; l = l->next)
        if (((TypingSlot *)l->data)->info == info)
            return l->data;
    return NULL;
}

/* Every protocol's send_typing while the core runs: libpurple has no
 * signal before a typing notification leaves, and the UIs call
 * serv_send_typing directly. Returning 0 tells the UI not to repeat it. */
static unsigned int
filtered_send_typing(PurpleConnection *gc, const char *name, PurpleTypingState state)
{
    PurplePlugin *prpl = gc != NULL ? purple_connection_get_prpl(gc) : NULL;
    TypingSlot *slot = prpl != NULL ? find_slot(PURPLE_PLUGIN_PROTOCOL_INFO(prpl)) : NULL;

    if (slot == NULL || slot->original == NULL)
        return 0;
    if (potr_metadata_hide_chat_states(purple_connection_get_account(gc), name))
        return 0;
    return slot->original(gc, name, state);
}

static void
wrap_protocols(void)
{
    for (GList *l = purple_plugins_get_protocols(); l != NULL; l = l->next) {
        PurplePluginProtocolInfo *info = PURPLE_PLUGIN_PROTOCOL_INFO((PurplePlugin *)l->data);
        TypingSlot *slot = NULL;

        if (info == NULL || info->send_typing == NULL
            || info->send_typing == filtered_send_typing || find_slot(info) != NULL)
            continue;
        slot = g_new0(TypingSlot, 1);
        slot->info = info;
        slot->original = info->send_typing;
        info->send_typing = filtered_send_typing;
        typing_slots = g_slist_prepend(typing_slots, slot);
    }
}

static void
unwrap_protocols(void)
{
    for (GSList *l = typing_slots; l != NULL; l = l->next) {
        TypingSlot *slot = l->data;

        /* another plugin may have wrapped it after us: leave its chain */
        if (slot->info->send_typing == filtered_send_typing)
            slot->info->send_typing = slot->original;
    }
    g_slist_free_full(typing_slots, g_free);
    typing_slots = NULL;
}

static gboolean
is_chat_state(xmlnode *child)
{
    const char *ns = NULL;

    if (child->type != XMLNODE_TYPE_TAG)
        return FALSE;
    ns = xmlnode_get_namespace(child);
    return g_strcmp0(ns, POTR_NS_CHATSTATES) == 0 || g_strcmp0(ns, POTR_NS_CHAT_MARKERS) == 0
           || (g_strcmp0(ns, POTR_NS_RECEIPTS) == 0 && g_strcmp0(child->name, "received") == 0);
}

/* Chat states that prpl-jabber puts on message stanzas (<active/> beside
 * every body) go too. A stanza holding nothing but a chat state does not
 * get here while private: its send_typing was filtered above. */
static void
on_sending_xmlnode(PurpleConnection *gc, xmlnode **packet, gpointer data)
{
    xmlnode *child = NULL;
    xmlnode *next = NULL;

    if (packet == NULL || *packet == NULL || g_strcmp0((*packet)->name, "message") != 0
        || !potr_metadata_hide_chat_states(purple_connection_get_account(gc),
                                           xmlnode_get_attrib(*packet, "to")))
        return;
    for (child = (*packet)->child; child != NULL; child = next) {
        next = child->next;
        if (is_chat_state(child))
            xmlnode_free(child);
    }
}

void
potr_metadata_init(void *handle)
{
    PurplePlugin *jabber = purple_find_prpl("prpl-jabber");

    wrap_protocols();
    if (jabber != NULL)
        purple_signal_connect_priority(jabber, "jabber-sending-xmlnode", handle,
                                       PURPLE_CALLBACK(on_sending_xmlnode), NULL,
                                       PURPLE_SIGNAL_PRIORITY_HIGHEST - 1);
}

void
potr_metadata_uninit(void)
{
    /* the signal goes with the core's handle in potr_core_stop() */
    unwrap_protocols();
}
