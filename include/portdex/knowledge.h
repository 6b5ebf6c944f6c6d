/* portdex/knowledge.h - part of the libportdex API (see portdex.h). */
#ifndef PORTDEX_KNOWLEDGE_H
#define PORTDEX_KNOWLEDGE_H
#include "portdex.h"
#endif
