/* portdex/rpc.h - part of the libportdex API (see portdex.h). */
#ifndef PORTDEX_RPC_H
#define PORTDEX_RPC_H
#include "portdex.h"
#endif
