/* portdex/scan.h - part of the libportdex API (see portdex.h). */
#ifndef PORTDEX_SCAN_H
#define PORTDEX_SCAN_H
#include "portdex.h"
#endif
