/* outfile.c: the one writer of the files the program names (outfile.h). */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "outfile.h"

/* The temporary names that exist, for the signal handler: a slot's path
 * is written before it is marked used, and is only read while it is. */
#define SLOTS 4
static volatile sig_atomic_t slot_used[SLOTS];
static char slot_path[SLOTS][PATH_MAX];
static const int caught[] = { SIGINT, SIGTERM, SIGHUP };

static void on_signal(int sig)
{
	for (int i = 0; i < SLOTS; i++)
		if (slot_used[i])
			unlink(slot_path[i]);
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Installs on_signal for the signals that are not ignored (an ignored
 * SIGINT stays ignored, as nohup and background jobs want). */
static void catch_signals(void)
{
	static bool done;
	struct sigaction sa;

	if (done)
		return;
	done = true;
	for (size_t i = 0; i < sizeof(caught) / sizeof(caught[0]); i++) {
		if (sigaction(caught[i], NULL, &sa) || sa.sa_handler != SIG_DFL)
			continue;
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_signal;
		sigemptyset(&sa.sa_mask);
		for (size_t j = 0; j < sizeof(caught) / sizeof(caught[0]); j++)
			sigaddset(&sa.sa_mask, caught[j]);
		sigaction(caught[i], &sa, NULL);
	}
}

/* Blocks (or restores) the caught signals around naming or unnaming a
 * temporary file, so that a handler never leaves one behind nor removes
 * a target.  errno is kept. */
static void hold_signals(bool hold, sigset_t *old)
{
	int e = errno;
	sigset_t set;

	if (hold) {
		sigemptyset(&set);
		for (size_t i = 0; i < sizeof(caught) / sizeof(caught[0]); i++)
			sigaddset(&set, caught[i]);
		sigprocmask(SIG_BLOCK, &set, old);
	} else {
		sigprocmask(SIG_SETMASK, old, NULL);
	}
	errno = e;
}

static int free_slot(void)
{
	for (int i = 0; i < SLOTS; i++)
		if (!slot_used[i])
			return i;
	errno = EMFILE;
	return -1;
}

/* Removes o's temporary name, if it has one. */
static void drop_name(struct outfile *o)
{
	sigset_t old;

	if (!o->named)
		return;
	hold_signals(true, &old);
	unlink(slot_path[o->slot]);
	slot_used[o->slot] = 0;
	hold_signals(false, &old);
	o->named = false;
}

/* p's directory into dir ("." when p has no slash); returns its last
 * component.  p is shorter than PATH_MAX. */
static const char *split(const char *p, char dir[PATH_MAX])
{
	const char *slash = strrchr(p, '/');
	size_t n;

	if (!slash) {
		strcpy(dir, ".");
		return p;
	}
	n = slash == p ? 1 : (size_t)(slash - p);
	memcpy(dir, p, n);
	dir[n] = '\0';
	return slash + 1;
}

#define DESCRIPTOR_LINK 1

/* Follows the symlinks of name's last component, as open(2) would, into
 * out (which then names a file that is not a symlink, or nothing yet).
 * Returns 0; DESCRIPTOR_LINK when a link is one of the kernel's (every
 * symlink in procfs: /proc/PID/fd/N, reached by /dev/stdout or /dev/fd/N,
 * names an open file, not a path; out is that link); -1 with errno. */
static int resolve(char out[PATH_MAX], const char *name)
{
	char dir[PATH_MAX], link[PATH_MAX];
	struct statfs fs;
	struct stat st;
	ssize_t n;

	if (!*name || strlen(name) >= PATH_MAX) {
		errno = *name ? ENAMETOOLONG : ENOENT;
		return -1;
	}
	strcpy(out, name);
	for (int hops = 0; lstat(out, &st) == 0 && S_ISLNK(st.st_mode); hops++) {
		split(out, dir);
		if (statfs(dir, &fs) == 0 && fs.f_type == PROC_SUPER_MAGIC)
			return DESCRIPTOR_LINK;
		if (hops == 40) {
			errno = ELOOP;
			return -1;
		}
		n = readlink(out, link, sizeof(link) - 1);
		if (n < 0)
			return -1;
		link[n] = '\0';
		if (link[0] == '/' ? snprintf(out, PATH_MAX, "%s", link) >= PATH_MAX
				   : snprintf(out, PATH_MAX, "%s/%s", dir, link) >= PATH_MAX) {
			errno = ENAMETOOLONG;
			return -1;
		}
	}
	return 0;
}

/* A descriptor link, opened for writing: our own descriptor N
 * (/proc/self/fd/N, whatever name reached it) is duplicated, so that its
 * offset and O_APPEND hold and a pipe or socket works; another process's
 * is opened as the shell's '>' would. */
static int open_descriptor(const char *link)
{
	char dir[PATH_MAX], *end;
	const char *base = split(link, dir);
	struct stat a, b;
	long n;
	int fl;

	if (!isdigit((unsigned char)base[0]) || stat(dir, &a) || stat("/proc/self/fd", &b) ||
	    a.st_dev != b.st_dev || a.st_ino != b.st_ino)
		return open(link, O_WRONLY | O_TRUNC | O_NOCTTY | O_CLOEXEC);
	errno = 0;
	n = strtol(base, &end, 10);
	if (*end || errno || n > INT_MAX) {
		errno = EBADF;
		return -1;
	}
	fl = fcntl((int)n, F_GETFL);
	if (fl < 0)
		return -1;
	if ((fl & O_ACCMODE) == O_RDONLY || (fl & O_PATH)) {
		errno = EBADF;
		return -1;
	}
	return fcntl((int)n, F_DUPFD_CLOEXEC, 0);
}

/* A named temporary file in dir, where O_TMPFILE is not supported. */
static int make_named(struct outfile *o, const char *dir)
{
	sigset_t old;
	int s = free_slot(), fd;

	if (s < 0)
		return -1;
	if (snprintf(slot_path[s], PATH_MAX, "%s/.ctxpack-XXXXXX", dir) >= PATH_MAX) {
		errno = ENAMETOOLONG;
		return -1;
	}
	hold_signals(true, &old);
	fd = mkostemp(slot_path[s], O_CLOEXEC);
	slot_used[s] = fd >= 0;
	hold_signals(false, &old);
	o->named = fd >= 0;
	o->slot = s;
	return fd;
}

int outfile_open(struct outfile *o, const char *name)
{
	char dir[PATH_MAX];
	struct stat st;
	bool exists;
	int r;

	memset(o, 0, sizeof(*o));
	o->name = name;
	o->fd = -1;
	if (!name) {
		o->kind = OUTFILE_STDOUT;
		o->fd = STDOUT_FILENO;
		return 0;
	}
	catch_signals();
	r = resolve(o->path, name);
	exists = r == 0 && stat(o->path, &st) == 0;
	o->kind = OUTFILE_DIRECT;
	if (r == DESCRIPTOR_LINK) {
		o->fd = open_descriptor(o->path);
	} else if (r < 0) {
		o->fd = -1;
	} else if (exists && S_ISDIR(st.st_mode)) {
		errno = EISDIR;
	} else if (exists && !S_ISREG(st.st_mode)) {
		/* A device, a FIFO (blocks until it has a reader), a socket. */
		o->fd = open(o->path, O_WRONLY | O_NOCTTY | O_CLOEXEC);
	} else if (!*split(o->path, dir)) {
		errno = EISDIR; /* "name/" */
	} else {
		o->kind = OUTFILE_REPLACE;
		o->fd = open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0666);
		o->unnamed = o->fd >= 0;
		if (o->fd < 0)
			o->fd = make_named(o, dir);
	}
	if (o->fd >= 0)
		return 0;
	fprintf(stderr, "ctxpack: cannot write '%s': %s\n", name, strerror(errno));
	return -1;
}

static ssize_t stream_write(void *cookie, const char *buf, size_t n)
{
	struct outfile *o = cookie;
	size_t done = 0;

	while (done < n) {
		ssize_t w = write(o->fd, buf + done, n - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			if (!o->err)
				o->err = w < 0 ? errno : EIO;
			break;
		}
		done += (size_t)w;
	}
	return (ssize_t)done; /* short: stdio marks the stream failed */
}

FILE *outfile_stream(struct outfile *o)
{
	static const cookie_io_functions_t io = { .write = stream_write };

	if (!o->stream) {
		o->stream = fopencookie(o, "w", io);
		if (!o->stream)
			fprintf(stderr, "ctxpack: cannot write '%s': %s\n", o->name ? o->name : "stdout",
				strerror(errno));
	}
	return o->stream;
}

static mode_t current_umask(void)
{
	mode_t m = umask(0);

	umask(m);
	return m;
}

/* The replaced file's mode, and its owner and group where the process
 * may set them (root; a group the user is in); a new file's 0666 minus
 * the umask. */
static int set_attributes(struct outfile *o)
{
	struct stat st, mine;

	if (stat(o->path, &st) < 0 || !S_ISREG(st.st_mode))
		return fchmod(o->fd, 0666 & ~current_umask());
	if (fstat(o->fd, &mine) < 0)
		return -1;
	if ((mine.st_uid != st.st_uid || mine.st_gid != st.st_gid) &&
	    fchown(o->fd, st.st_uid, st.st_gid) < 0) {
		if (errno != EPERM && errno != EINVAL)
			return -1;
		if (mine.st_gid != st.st_gid && fchown(o->fd, (uid_t)-1, st.st_gid) < 0 &&
		    errno != EPERM && errno != EINVAL)
			return -1;
	}
	return fchmod(o->fd, st.st_mode & 07777);
}

/* Gives the unnamed file a temporary name next to its target. */
static int link_unnamed(struct outfile *o)
{
	char proc[64], dir[PATH_MAX];
	sigset_t old;
	int s = free_slot(), rc = -1;

	if (s < 0)
		return -1;
	split(o->path, dir);
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", o->fd);
	for (int i = 0; i < 100 && rc < 0; i++) {
		if (snprintf(slot_path[s], PATH_MAX, "%s/.ctxpack-%d-%d", dir, (int)getpid(), i) >=
		    PATH_MAX) {
			errno = ENAMETOOLONG;
			return -1;
		}
		hold_signals(true, &old);
		rc = linkat(AT_FDCWD, proc, AT_FDCWD, slot_path[s], AT_SYMLINK_FOLLOW);
		slot_used[s] = rc == 0;
		hold_signals(false, &old);
		if (rc < 0 && errno != EEXIST)
			return -1;
	}
	o->named = rc == 0;
	o->slot = s;
	return rc;
}

/* The named temporary file renamed over the target; the name is
 * forgotten in the same held section, so a signal never removes the
 * target. */
static int rename_over(struct outfile *o)
{
	sigset_t old;
	int rc;

	hold_signals(true, &old);
	rc = rename(slot_path[o->slot], o->path);
	if (rc == 0)
		slot_used[o->slot] = 0;
	hold_signals(false, &old);
	if (rc == 0)
		o->named = false;
	return rc;
}

/* Everything but the rename: the stream flushed, the mode set, the bytes
 * on disk, a temporary name.  -1 with errno. */
static int prepare(struct outfile *o)
{
	int e = 0;

	if (o->stream) {
		errno = 0;
		if (fflush(o->stream) || ferror(o->stream))
			e = o->err ? o->err : errno ? errno : EIO;
		fclose(o->stream);
		o->stream = NULL;
		if (e) {
			errno = e;
			return -1;
		}
	}
	if (o->kind != OUTFILE_REPLACE)
		return 0;
	return set_attributes(o) || fsync(o->fd) || (o->unnamed && link_unnamed(o)) ? -1 : 0;
}

/* The rename over the target (for a replaced file) and the close.  -1
 * with errno. */
static int install(struct outfile *o)
{
	int rc = o->kind == OUTFILE_REPLACE ? rename_over(o) : 0;

	if (!rc && o->kind != OUTFILE_STDOUT) {
		rc = close(o->fd);
		o->fd = -1;
	}
	return rc;
}

int outfile_commit_all(struct outfile *const *v, size_t n)
{
	size_t bad = n;
	int e = 0;

	for (size_t i = 0; i < n && bad == n; i++)
		if (prepare(v[i]))
			bad = i;
	for (size_t i = 0; i < n && bad == n; i++)
		if (install(v[i]))
			bad = i;
	if (bad == n)
		return 0;
	e = errno;
	if (v[bad]->name)
		fprintf(stderr, "ctxpack: cannot write '%s': %s\n", v[bad]->name, strerror(e));
	else
		fprintf(stderr, "ctxpack: cannot write output: %s\n", strerror(e));
	for (size_t i = 0; i < n; i++)
		outfile_abort(v[i]);
	return -1;
}

int outfile_commit(struct outfile *o)
{
	return outfile_commit_all(&o, 1);
}

void outfile_abort(struct outfile *o)
{
	if (o->stream)
		fclose(o->stream);
	o->stream = NULL;
	if (o->kind != OUTFILE_STDOUT && o->fd >= 0)
		close(o->fd);
	o->fd = -1;
	drop_name(o);
}

/* What outfile_distinct compares: the file, or where it would be made. */
struct ident {
	bool exists, chr;
	dev_t dev;
	ino_t ino;
	char path[PATH_MAX]; /* when it does not exist: the resolved path, or "" */
};

static void identify(struct ident *id, const char *name)
{
	char dir[PATH_MAX], real[PATH_MAX], base[NAME_MAX + 1];
	struct stat st;

	memset(id, 0, sizeof(*id));
	if (name ? stat(name, &st) == 0 : fstat(STDOUT_FILENO, &st) == 0) {
		id->exists = true;
		id->chr = S_ISCHR(st.st_mode);
		id->dev = st.st_dev;
		id->ino = st.st_ino;
		return;
	}
	if (!name || resolve(id->path, name) != 0) {
		id->path[0] = '\0';
		return;
	}
	if (snprintf(base, sizeof(base), "%s", split(id->path, dir)) >= (int)sizeof(base) ||
	    !realpath(dir, real))
		return; /* compared as resolved so far */
	if (snprintf(id->path, PATH_MAX, "%s%s%s", real, strcmp(real, "/") ? "/" : "", base) >=
	    PATH_MAX)
		id->path[0] = '\0';
}

static bool same_file(const struct ident *a, const struct ident *b)
{
	if (a->exists != b->exists)
		return false;
	if (a->exists)
		return a->dev == b->dev && a->ino == b->ino && !a->chr;
	return a->path[0] && !strcmp(a->path, b->path);
}

static const char *describe(char *buf, size_t sz, const struct outfile_use *u)
{
	if (!u->name)
		return u->opt;
	snprintf(buf, sz, "%s '%s'", u->opt, u->name);
	return buf;
}

int outfile_distinct(const struct command *cmd, const struct outfile_use *u, size_t n)
{
	static struct ident a, b;
	char da[PATH_MAX + 64], db[PATH_MAX + 64];

	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++) {
			identify(&a, u[i].name);
			identify(&b, u[j].name);
			if (!same_file(&a, &b))
				continue;
			usage_error(cmd, "%s and %s name the same file (one file cannot take two outputs)",
				    describe(da, sizeof(da), &u[i]), describe(db, sizeof(db), &u[j]));
			return -1;
		}
	return 0;
}
