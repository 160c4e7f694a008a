/* purple-otr - GPL-2.0-or-later
 * Fuzzing: one headless libpurple core with the whole engine linked in, a
 * loopback protocol, our account and an in-process libotr peer, shared by
 * the targets that need the engine (commands, receive hook). */
#ifndef POTR_FUZZ_ENV_H
#define POTR_FUZZ_ENV_H

#include <glib.h>
#include <purple.h>
#include <libotr/proto.h>
#include <libotr/context.h>
#include <libotr/tlv.h>

/* Names used by the environment. */
#define POTR_FUZZ_PRPL "prpl-potr-fuzz"
#define POTR_FUZZ_ME "me@fuzz.example"
#define POTR_FUZZ_PEER "peer@fuzz.example"          /* a libotr peer, private with us */
#define POTR_FUZZ_STRANGER "stranger@fuzz.example"  /* a peer we have no session with */

/* Start everything once per process (later calls do nothing): libpurple
 * in a temporary user dir, the loopback protocol, our account (connected,
 * with a key), the engine, and the peer (its own user state and key).
 * Aborts on failure: a fuzzer without its environment is useless. */
void potr_fuzz_env_start(void);

/* Our account. */
PurpleAccount *potr_fuzz_env_account(void);

/* Our conversation with WHO (created if needed). */
PurpleConversation *potr_fuzz_env_conv(const char *who);

/* Deliver TEXT to our account as an IM from WHO (serv_got_im: every
 * receive hook runs, as with a real protocol). */
void potr_fuzz_env_receive(const char *who, const char *text);

/* Pass messages back and forth (ours to the peer's libotr, the peer's to
 * us) and run the main loop, until nothing moves or a bound is reached. */
void potr_fuzz_env_pump(void);

/* Make sure we and the peer share an encrypted session (a key exchange
 * started by the peer when there is none). Returns FALSE if it could not
 * be set up. */
gboolean potr_fuzz_env_private(void);

/* The peer's context with us (after potr_fuzz_env_private). */
ConnContext *potr_fuzz_env_peer_context(void);

/* Have the peer send MESSAGE to us (through its libotr: encrypted when
 * private), with TLVS (may be NULL; not freed). */
void potr_fuzz_env_peer_send(const char *message, OtrlTLV *tlvs);

/* Drop every message still queued for us or the peer. */
void potr_fuzz_env_drain(void);

#endif
