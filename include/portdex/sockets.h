/* portdex/sockets.h - part of the libportdex API (see portdex.h). */
#ifndef PORTDEX_SOCKETS_H
#define PORTDEX_SOCKETS_H
#include "portdex.h"
#endif
