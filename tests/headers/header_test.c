/* header_test.c: the public header needs nothing included before it. */
#include "ctxpack/ctxpack.h"

int main(void)
{
	struct ctxpack_decision d = { CTXPACK_NONE, -1, false };
	return d.verdict == CTXPACK_NONE ? 0 : 1;
}
