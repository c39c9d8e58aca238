/* match.h: the compiled matcher (see match.c).  The interface is the public
 * one in ctxpack.h; this header exists for symmetry and future internals. */
#ifndef CTXPACK_MATCH_H
#define CTXPACK_MATCH_H

#include "ctxpack/ctxpack.h"

#endif
