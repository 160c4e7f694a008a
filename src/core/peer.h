/* purple-otr - GPL-2.0-or-later
 * Peers: the one place that names a buddy (or an account) in the core's
 * tables. A leaf module: it knows libpurple only. */
#ifndef POTR_PEER_H
#define POTR_PEER_H

#include <glib.h>
#include <purple.h>

/* Normalised buddy name (newly allocated), as used for context usernames
 * and in otr.fingerprints: purple_normalize() of WHO for ACCOUNT. */
char *potr_peer_normalize(PurpleAccount *account, const char *who);

/* Account from libotr's ACCOUNTNAME/PROTOCOL pair, or NULL. */
PurpleAccount *potr_peer_find_account(const char *accountname, const char *protocol);

/* The key of WHO on ACCOUNT in the core's tables, newly allocated:
 * "protocol\naccount\nnormalised buddy". Why one format for every table:
 * a peer is found again by the same key whichever module stored it, and
 * the key is split in one place (below). */
char *potr_peer_key(PurpleAccount *account, const char *who);

/* The key of ACCOUNT itself ("protocol\naccount"), newly allocated; a
 * peer key of ACCOUNT starts with it and a newline. */
char *potr_peer_account_key(PurpleAccount *account);

/* The normalised buddy name inside KEY (a potr_peer_key(); points into
 * KEY), or NULL if KEY is malformed or, ACCOUNT non-NULL, belongs to
 * another account. */
const char *potr_peer_key_buddy(const char *key, PurpleAccount *account);

/* The account KEY (a potr_peer_key()) belongs to, or NULL if KEY is
 * malformed or the account is gone. */
PurpleAccount *potr_peer_key_account(const char *key);

#endif /* POTR_PEER_H */
