/* transfer.h: what BuildKit transfers of the context for a build, and the
 * number `docker build --progress=plain` prints as "transferring
 * context: N".
 *
 * BuildKit's Dockerfile frontend (dockerfile2llb, buildkit v0.13) asks the
 * client for the paths the target's stages read from the context (each
 * COPY/ADD source and RUN --mount=type=bind source, path.Join("/", src)),
 * as the local source's FollowPaths; a source naming the root asks for
 * the whole context, and a build that reads nothing from it loads no
 * context.  fsutil's sender then walks the context with those paths as
 * include patterns (their symlinks followed) beside the .dockerignore's
 * exclude patterns, sends the directories above what it sends lazily,
 * and streams packets the receiver counts by their protobuf size
 * (receive.go: size += p.Size() for every packet it reads):
 *  - one STAT packet per entry sent (path, Go's FileMode bits, uid, gid,
 *    size, mtime in ns, link name; a zero field takes no byte);
 *  - per regular file the receiver asks for (not a hard link to an earlier
 *    one): DATA packets of at most 32 KiB (the sender's buffer), then an
 *    empty DATA packet, each with the file's ID (its STAT's index);
 *  - the closing empty STAT (no byte) and the FIN packet (2 bytes).
 * This is a first transfer: a receiver that kept an earlier copy of the
 * same context asks only for the files that changed.  Extended attributes
 * are not counted (the walk does not read them).
 *
 * The entries sent are what the build reads (used_reads: USED_READ and
 * USED_VIA, through buildview) and the directories above them, or every
 * entry the walk sends when a source names the root. */
#ifndef CTXPACK_TRANSFER_H
#define CTXPACK_TRANSFER_H

#include <stdbool.h>
#include <stdint.h>

struct used;

struct transfer {
	bool whole;	     /* a source names the root: the whole context */
	bool none;	     /* no source reads the context: nothing is transferred */
	uint64_t entries;    /* STAT packets: entries sent */
	uint64_t files;	     /* regular files whose data is sent */
	uint64_t data_bytes; /* their bytes */
	uint64_t bytes;	     /* the packets' size: what BuildKit reports */
};

/* Fills out for the resolution u (for CTXPACK_BUILDER_BUILDKIT) of its
 * walk.  sent, when not NULL (one flag per u->res entry, zeroed by the
 * caller), receives TRANSFER_SENT for each entry transferred.  Returns 0,
 * -EINVAL when u was resolved for the classic builder, or -ENOMEM. */
#define TRANSFER_SENT 0x1
int transfer_compute(struct transfer *out, uint8_t *sent, const struct used *u);

#endif
