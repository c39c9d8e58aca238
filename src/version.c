/* version.c: the library version, set by the build. */
#include "ctxpack/ctxpack.h"

const char *ctxpack_version(void)
{
	return CTXPACK_VERSION_STRING;
}
