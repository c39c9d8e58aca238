/* classify.c: what a name in a build context usually is (see classify.h). */
#include <string.h>

#include "classify.h"

struct dir_name {
	const char *name;
	enum classify_kind kind;
};

/* Names that are almost never sources.  "build", "out" and "vendor" can
 * be sources in some projects; they are reported, never acted on. */
static const struct dir_name dirs[] = {
	{ ".git", KIND_VCS },
	{ ".hg", KIND_VCS },
	{ ".svn", KIND_VCS },
	{ ".bzr", KIND_VCS },
	{ "node_modules", KIND_DEPENDENCIES },
	{ "bower_components", KIND_DEPENDENCIES },
	{ "jspm_packages", KIND_DEPENDENCIES },
	{ "vendor", KIND_DEPENDENCIES },
	{ ".venv", KIND_DEPENDENCIES },
	{ "venv", KIND_DEPENDENCIES },
	{ "site-packages", KIND_DEPENDENCIES },
	{ ".bundle", KIND_DEPENDENCIES },
	{ "Pods", KIND_DEPENDENCIES },
	{ "__pycache__", KIND_CACHE },
	{ ".cache", KIND_CACHE },
	{ ".pytest_cache", KIND_CACHE },
	{ ".mypy_cache", KIND_CACHE },
	{ ".ruff_cache", KIND_CACHE },
	{ ".tox", KIND_CACHE },
	{ ".nox", KIND_CACHE },
	{ ".gradle", KIND_CACHE },
	{ ".npm", KIND_CACHE },
	{ ".yarn", KIND_CACHE },
	{ ".pnpm-store", KIND_CACHE },
	{ ".parcel-cache", KIND_CACHE },
	{ ".turbo", KIND_CACHE },
	{ ".terraform", KIND_CACHE },
	{ ".idea", KIND_CACHE },
	{ ".vscode", KIND_CACHE },
	{ "dist", KIND_BUILD_OUTPUT },
	{ "build", KIND_BUILD_OUTPUT },
	{ "target", KIND_BUILD_OUTPUT },
	{ "out", KIND_BUILD_OUTPUT },
	{ ".next", KIND_BUILD_OUTPUT },
	{ ".nuxt", KIND_BUILD_OUTPUT },
	{ "coverage", KIND_BUILD_OUTPUT },
	{ ".svelte-kit", KIND_BUILD_OUTPUT },
	{ "bin", KIND_NONE }, /* too often sources (scripts) */
};

enum classify_kind classify_dir(const char *name, size_t len)
{
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		if (strlen(dirs[i].name) == len && !memcmp(dirs[i].name, name, len))
			return dirs[i].kind;
	return KIND_NONE;
}

const char *classify_kind_name(enum classify_kind k)
{
	static const char *const names[] = { "", "vcs", "dependencies", "cache", "build-output" };

	return (unsigned)k < sizeof(names) / sizeof(names[0]) ? names[k] : "";
}
