/* purple-otr - GPL-2.0-or-later
 * Seed corpora for the fuzz targets, made by libotr itself:
 *
 *   mkseeds DIR
 *
 * writes DIR/TARGET/NAME for every target: key, fingerprint and instance
 * tag files from libotr's own writers; the messages of a real key
 * exchange, of data messages, of a verification (SMP), of fragments and
 * of an ending, between two in-process libotr peers; XMPP stanzas that
 * carry them (live, stored, carbons, archive, XHTML-IM, decoys); command
 * lines; HTML. Keys are new each run: the corpora are made at build time,
 * never kept in the source tree. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <libotr/proto.h>
#include <libotr/context.h>
#include <libotr/instag.h>
#include <libotr/message.h>
#include <libotr/privkey.h>
#include <libotr/userstate.h>

#define PRPL "prpl-jabber"
#define ALICE "alice@seed.example/pc"
#define BOB "bob@seed.example/phone"

typedef struct {
    OtrlUserState us;
    const char *name;
    const char *peer;
    int max_size;      /* fragment above this (0: never) */
} Side;

static Side alice;
static Side bob;
static GPtrArray *wire = NULL;      /* every message, in order (owned) */
static GQueue pending = G_QUEUE_INIT;   /* (Side *to, char *text) pairs, flattened */
static const char *out_dir = NULL;
static guint seq = 0;

static void
seed(const char *target, const char *data, gsize len)
{
    char *dir = g_build_filename(out_dir, target, NULL);
    char *name = g_strdup_printf("%s/seed-%04u", dir, seq++);
    GError *error = NULL;

    g_mkdir_with_parents(dir, 0755);
    if (!g_file_set_contents(name, data, (gssize)len, &error)) {
        fprintf(stderr, "mkseeds: %s\n", error->message);
        exit(1);
    }
    g_free(name);
    g_free(dir);
}

static void
seed_str(const char *target, const char *text)
{
    seed(target, text, strlen(text));
}

/* a seed of the receive and commands targets: mode byte, then text */
static void
seed_mode(const char *target, char mode, const char *text)
{
    char *data = g_strdup_printf("%c%s", mode, text);

    seed(target, data, strlen(text) + 1);
    g_free(data);
}

static void
seed_file(const char *target, const char *path)
{
    char *data = NULL;
    gsize len = 0;

    if (!g_file_get_contents(path, &data, &len, NULL)) {
        fprintf(stderr, "mkseeds: cannot read %s\n", path);
        exit(1);
    }
    seed(target, data, len);
    g_free(data);
}

/* ---- two libotr peers on a loopback */

static OtrlPolicy
op_policy(void *opdata, ConnContext *context)
{
    return OTRL_POLICY_DEFAULT;
}

static int
op_logged_in(void *opdata, const char *accountname, const char *protocol, const char *recipient)
{
    return 1;
}

static void
op_inject(void *opdata, const char *accountname, const char *protocol, const char *recipient,
          const char *message)
{
    Side *from = opdata;
    Side *to = from == &alice ? &bob : &alice;

    g_ptr_array_add(wire, g_strdup(message));
    g_queue_push_tail(&pending, to);
    g_queue_push_tail(&pending, g_strdup(message));
}

static int
op_max_size(void *opdata, ConnContext *context)
{
    return ((Side *)opdata)->max_size;
}

static const OtrlMessageAppOps ops = {
    .policy = op_policy,
    .is_logged_in = op_logged_in,
    .inject_message = op_inject,
    .max_message_size = op_max_size,
};

static void
deliver_all(void)
{
    Side *to = NULL;

    while ((to = g_queue_pop_head(&pending)) != NULL) {
        char *text = g_queue_pop_head(&pending);
        char *plain = NULL;
        OtrlTLV *tlvs = NULL;

        otrl_message_receiving(to->us, &ops, to, to->name, PRPL, to->peer, text, &plain, &tlvs,
                               NULL, NULL, NULL);
        otrl_tlv_free(tlvs);
        otrl_message_free(plain);
        g_free(text);
    }
}

static void
send_text(Side *from, const char *text, OtrlTLV *tlvs)
{
    char *out = NULL;

    if (otrl_message_sending(from->us, &ops, from, from->name, PRPL, from->peer, OTRL_INSTAG_BEST,
                             text, tlvs, &out, OTRL_FRAGMENT_SEND_ALL, NULL, NULL, NULL) == 0
        && out != NULL && *out != '\0')
        op_inject(from, from->name, PRPL, from->peer, out);
    otrl_message_free(out);
    deliver_all();
}

static ConnContext *
context_of(Side *side)
{
    return otrl_context_find(side->us, side->peer, side->name, PRPL, OTRL_INSTAG_BEST, 0, NULL,
                             NULL, NULL);
}

static void
make_side(Side *side, const char *name, const char *peer, const char *dir)
{
    char *keys = g_build_filename(dir, name[0] == 'a' ? "alice.keys" : "bob.keys", NULL);
    char *tags = g_build_filename(dir, name[0] == 'a' ? "alice.tags" : "bob.tags", NULL);

    side->us = otrl_userstate_create();
    side->name = name;
    side->peer = peer;
    if (otrl_privkey_generate(side->us, keys, name, PRPL) != 0
        || otrl_instag_generate(side->us, tags, name, PRPL) != 0) {
        fprintf(stderr, "mkseeds: no key for %s\n", name);
        exit(1);
    }
    seed_file("fuzz-privkey", keys);
    seed_file("fuzz-instags", tags);
    g_free(keys);
    g_free(tags);
}

/* ---- the files */

static void
file_seeds(const char *dir)
{
    char *keys = g_build_filename(dir, "two.keys", NULL);
    char *tags = g_build_filename(dir, "two.tags", NULL);
    char *fps = g_build_filename(dir, "fps", NULL);
    OtrlUserState us = otrl_userstate_create();
    static const char *const trusts[] = { "", "verified", "smp", NULL };
    unsigned char fp[20];

    /* a second account beside alice's in one file */
    if (otrl_privkey_generate(alice.us, keys, "alice@irc.example", "prpl-irc") != 0
        || otrl_instag_generate(alice.us, tags, "alice@irc.example", "prpl-irc") != 0)
        exit(1);
    seed_file("fuzz-privkey", keys);
    seed_file("fuzz-instags", tags);
    for (guint n = 0; n < 3; n++) {
        for (guint i = 0; i <= n * 2; i++) {
            char *buddy = g_strdup_printf("buddy%u@seed.example", i);
            ConnContext *c = otrl_context_find(us, buddy, ALICE, PRPL, OTRL_INSTAG_MASTER, 1, NULL,
                                               NULL, NULL);

            for (guint k = 0; k < 20; k++)
                fp[k] = (unsigned char)(i * 31 + k * 7 + n);
            otrl_context_set_trust(otrl_context_find_fingerprint(c, fp, 1, NULL),
                                   trusts[(i + n) % G_N_ELEMENTS(trusts)]);
            g_free(buddy);
        }
        if (otrl_privkey_write_fingerprints(us, fps) != 0)
            exit(1);
        seed_file("fuzz-fingerprints", fps);
    }
    otrl_userstate_free(us);
    g_free(keys);
    g_free(tags);
    g_free(fps);
}

/* ---- messages */

static void
conversation(void)
{
    ConnContext *c = NULL;
    OtrlTLV *pad = otrl_tlv_new(OTRL_TLV_PADDING, 3, (const unsigned char *)"abc");

    op_inject(&alice, ALICE, PRPL, BOB, "?OTRv23?\nalice has asked for a private conversation.");
    deliver_all();
    if ((c = context_of(&alice)) == NULL || c->msgstate != OTRL_MSGSTATE_ENCRYPTED) {
        fprintf(stderr, "mkseeds: the key exchange did not finish\n");
        exit(1);
    }
    send_text(&alice, "hello <b>bob</b>", NULL);
    send_text(&bob, "hi alice\nsecond line", NULL);
    send_text(&alice, "padded", pad);
    otrl_tlv_free(pad);
    otrl_message_initiate_smp_q(alice.us, &ops, &alice, context_of(&alice), "Where did we meet?",
                                (const unsigned char *)"harbour", 7);
    deliver_all();
    otrl_message_respond_smp(bob.us, &ops, &bob, context_of(&bob),
                             (const unsigned char *)"harbour", 7);
    deliver_all();
    /* fragments of one long message */
    alice.max_size = 120;
    send_text(&alice, "a long message that has to travel in several fragments to get there", NULL);
    alice.max_size = 0;
    otrl_message_disconnect_all_instances(bob.us, &ops, &bob, bob.name, PRPL, bob.peer);
    deliver_all();
}

static const char *const plain_texts[] = {
    "hello", "<b>bold</b> &amp; <i>it</i><br>line", "a < b & c > d", "?OTRv23?",
    "?OTR Error: You sent encrypted data I did not expect", "text ?OTRv2? text",
    "tagged \x20\x09\x20\x20\x09\x09\x09\x09\x20\x09\x20\x09\x20\x09\x20\x20"
    "\x20\x20\x09\x09\x20\x20\x09\x20\x20\x20\x09\x09\x20\x20\x09\x09",
    "caf\xc3\xa9 \xe2\x80\x9cquoted\xe2\x80\x9d", "line\r\nbreak",
};

static void
stanza_seeds(void)
{
    static const char *const frames[] = {
        "<message xmlns='jabber:client' from='bob@seed.example/phone' type='chat'><body>%s</body></message>",
        "<message xmlns='jabber:client' from='bob@seed.example/phone' type='chat'><body>%s</body>"
        "<delay xmlns='urn:xmpp:delay' stamp='2020-01-01T00:00:00Z'/></message>",
        "<message xmlns='jabber:client' from='bob@seed.example' type='chat'><body xmlns='urn:example'>x</body>"
        "<body>%s</body><x xmlns='jabber:x:delay' stamp='20200101T00:00:00'/></message>",
        "<message xmlns='jabber:client' from='bob@seed.example' type='chat'><body>plain</body>"
        "<html xmlns='http://jabber.org/protocol/xhtml-im'><body xmlns='http://www.w3.org/1999/xhtml'>"
        "<p>%s<img src='cid:a@b' alt='x'/></p></body></html>"
        "<delay xmlns='urn:xmpp:delay' stamp='2020-01-01T00:00:00Z'/></message>",
        "<message xmlns='jabber:client' from='alice@seed.example'><received xmlns='urn:xmpp:carbons:2'>"
        "<forwarded xmlns='urn:xmpp:forward:0'><message from='bob@seed.example/phone' type='chat'>"
        "<body>%s</body></message></forwarded></received></message>",
        "<message xmlns='jabber:client'><result xmlns='urn:xmpp:mam:2' id='1'><forwarded xmlns='urn:xmpp:forward:0'>"
        "<delay xmlns='urn:xmpp:delay' stamp='2020-01-01T00:00:00Z'/><message to='bob@seed.example'>"
        "<body>%s</body></message></forwarded></result></message>",
    };
    guint n = MIN(wire->len, 12);

    for (guint f = 0; f < G_N_ELEMENTS(frames); f++) {
        for (guint i = 0; i < n + G_N_ELEMENTS(plain_texts); i++) {
            const char *text = i < n ? g_ptr_array_index(wire, i) : plain_texts[i - n];
            char *escaped = g_markup_escape_text(text, -1);
            char **parts = g_strsplit(frames[f], "%s", 2);   /* (no format string) */
            char *xml = g_strconcat(parts[0], escaped, parts[1], NULL);

            if ((i + f) % 3 == 0 || i >= n)
                seed_str("fuzz-xmpp", xml);
            g_free(xml);
            g_strfreev(parts);
            g_free(escaped);
        }
    }
}

static void
receive_seeds(void)
{
    static const unsigned char smp_tlvs[] = {
        2, 8, 0, 0, 0, 1, 0, 0, 0, 1,   /* SMP1, a count and a bad MPI */
        6, 0,                           /* SMP abort */
        1, 0,                           /* disconnected */
    };

    for (guint i = 0; i < wire->len; i++) {
        seed_mode("fuzz-receive", 0, g_ptr_array_index(wire, i));
        seed_mode("fuzz-receive", 1, g_ptr_array_index(wire, i));
    }
    for (guint i = 0; i < G_N_ELEMENTS(plain_texts); i++) {
        seed_mode("fuzz-receive", 0, plain_texts[i]);
        seed_mode("fuzz-receive", 2, plain_texts[i]);
        seed_str("fuzz-html", plain_texts[i]);
    }
    {
        char data[sizeof smp_tlvs + 1];

        data[0] = 3;
        memcpy(data + 1, smp_tlvs, sizeof smp_tlvs);
        seed("fuzz-receive", data, sizeof data);
    }
}

static void
command_seeds(void)
{
    static const char *const lines[] = {
        "start", "refresh", "end", "status", "help", "trust", "distrust", "fingerprint",
        "fingerprint all", "policy", "policy always", "policy default", "policy bogus",
        "instance", "instance list", "instance best", "instance recent", "instance 256",
        "smp", "smp ask \"Where did we meet?\" the old harbour", "smp ask secret",
        "smp ask \"unterminated secret", "smp ask \"esc \\\" \\\\ aped\" s", "smp respond harbour",
        "smp abort", "forget 00000000 11111111 22222222 33333333 44444444", "forget",
        "  start  ", "", "unknown words",
    };

    for (guint i = 0; i < G_N_ELEMENTS(lines); i++) {
        seed_mode("fuzz-commands", 0, lines[i]);
        seed_mode("fuzz-commands", 1, lines[i]);
    }
}

int
main(int argc, char **argv)
{
    char *tmp = NULL;

    if (argc != 2) {
        fprintf(stderr, "usage: %s DIR\n", argv[0]);
        return 2;
    }
    out_dir = argv[1];
    if (otrl_init(OTRL_VERSION_MAJOR, OTRL_VERSION_MINOR, OTRL_VERSION_SUB) != 0)
        return 1;
    tmp = g_dir_make_tmp("potr-mkseeds-XXXXXX", NULL);
    if (tmp == NULL)
        return 1;
    wire = g_ptr_array_new_with_free_func(g_free);
    make_side(&alice, ALICE, BOB, tmp);
    make_side(&bob, BOB, ALICE, tmp);
    file_seeds(tmp);
    conversation();
    stanza_seeds();
    receive_seeds();
    command_seeds();
    printf("mkseeds: %u seeds in %s (%u OTR messages)\n", seq, out_dir, wire->len);
    otrl_userstate_free(alice.us);
    otrl_userstate_free(bob.us);
    g_ptr_array_free(wire, TRUE);
    {
        GDir *d = g_dir_open(tmp, 0, NULL);
        const char *name = NULL;

        while (d != NULL && (name = g_dir_read_name(d)) != NULL) {
            char *path = g_build_filename(tmp, name, NULL);
            g_unlink(path);
            g_free(path);
        }
        if (d != NULL)
            g_dir_close(d);
        g_rmdir(tmp);
    }
    g_free(tmp);
    return 0;
}
