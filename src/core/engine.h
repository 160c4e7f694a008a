/* purple-otr - GPL-2.0-or-later
 * Engine: the composition root. It starts and stops every core module
 * (potr_core_start/stop, public in potr.h), connects the layers' callbacks
 * and hands libotr its app ops. No other core module includes this header
 * (the process state every module shares is in core.h). */
#ifndef POTR_ENGINE_H
#define POTR_ENGINE_H

#include <libotr/proto.h>
#include <libotr/message.h>

#include "potr.h"

/* The app ops handed to libotr. */
const OtrlMessageAppOps *potr_core_ops(void);

#endif /* POTR_ENGINE_H */
