/*
 * util-int.h - small pieces util.c shares with the library's other files
 * (and its tests), not part of the API the tool sees.
 */
#ifndef PDX_UTIL_INT_H
#define PDX_UTIL_INT_H
#include <jansson.h>

/* s as a JSON string, control bytes and invalid UTF-8 made '?'. */
json_t	*pdx_json_clean(const char *s);

#endif
