/* purple-otr - GPL-2.0-or-later
 * Store: the key, fingerprint and instance-tag files (pidgin-otr's names and
 * formats), written atomically, and private keys generated off the main
 * loop. What the rest of the core includes: the store's modules (file,
 * line, sync, keys, fingerprints, instags) and the files' names. */
#ifndef POTR_STORE_H
#define POTR_STORE_H

#include "file.h"
#include "line.h"
#include "sync.h"
#include "keys.h"
#include "fingerprints.h"
#include "instags.h"

#define POTR_FILE_PRIVKEY "otr.private_key"
#define POTR_FILE_FINGERPRINTS "otr.fingerprints"
#define POTR_FILE_INSTAGS "otr.instance_tags"

#endif /* POTR_STORE_H */
