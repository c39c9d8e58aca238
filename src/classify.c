/* classify.c: what a name in a build context usually is (see classify.h). */
#define _GNU_SOURCE
#include <stdbool.h>
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

enum classify_kind classify_path(const char *path, size_t len)
{
	const char *slash = memrchr(path, '/', len);
	const char *name = slash ? slash + 1 : path;
	size_t n = len - (size_t)(name - path), plen = slash ? (size_t)(slash - path) : 0;
	bool in_yarn = slash && plen >= 5 && !memcmp(slash - 5, ".yarn", 5) &&
		       (plen == 5 || slash[-6] == '/');

	if (in_yarn)
		return (n == 5 && !memcmp(name, "cache", 5)) || (n == 9 && !memcmp(name, "unplugged", 9))
			       ? KIND_CACHE
			       : KIND_NONE;
	return classify_dir(name, n);
}

/* Lines of the common .dockerignore templates (GitHub's, Docker's
 * `docker init`, the Node and Python ones), as written there. */
static const char *const defensive[] = {
	".idea", ".DS_Store", "Thumbs.db", "dist", "node_modules", "*.log", ".git", ".gitignore",
	".gitattributes", ".env", ".env.*", "coverage", "__pycache__", "*.pyc", "*.pyo", "*.pyd",
	".vscode", "Dockerfile*", ".dockerignore", "docker-compose*", "compose*.y*ml",
	"npm-debug.log", "npm-debug.log*", "yarn-debug.log*", "yarn-error.log*", "build", "tmp",
	".cache", "*.swp", "*~", ".pytest_cache", ".mypy_cache", ".tox", ".venv", "venv", "env",
	".next", "out", "target", "bin", "obj", "*.md", "README*", "LICENSE", ".github",
	".gitlab-ci.yml", ".eslintcache", ".npm", ".nyc_output", "logs", "temp",
	/* Yarn's install state (Berry) */
	".yarn/cache", ".yarn/unplugged", ".yarn/install-state.gz", ".yarn/build-state.yml", ".pnp.*",
};

/* A leading '/' or "**" + '/': written for the same thing. */
static const char *strip_anchors(const char *pat, size_t *len)
{
	while (*len && pat[0] == '/')
		pat++, (*len)--;
	while (*len >= 3 && !memcmp(pat, "**/", 3))
		pat += 3, *len -= 3;
	return pat;
}

int classify_type_rule(const char *pat, size_t len)
{
	pat = strip_anchors(pat, &len);
	if (len < 2 || pat[0] != '*')
		return 0;
	for (size_t i = 1; i < len; i++)
		if (strchr("*?[\\/", pat[i]))
			return 0;
	return 1;
}

int classify_vendor_installed(const char *name, size_t len)
{
	return (len == 12 && !memcmp(name, "autoload.php", 12)) ||
	       (len == 8 && !memcmp(name, "composer", 8)) || (len == 6 && !memcmp(name, "bundle", 6));
}

int classify_defensive_rule(const char *pat, size_t len)
{
	if (classify_type_rule(pat, len))
		return 1;
	/* A trailing '/' or '/' + "**": written for the same thing. */
	pat = strip_anchors(pat, &len);
	if (len >= 3 && !memcmp(pat + len - 3, "/**", 3))
		len -= 3;
	while (len && pat[len - 1] == '/')
		len--;
	if (len && classify_dir(pat, len) != KIND_NONE)
		return 1;
	for (size_t i = 0; i < sizeof(defensive) / sizeof(defensive[0]); i++)
		if (strlen(defensive[i]) == len && !memcmp(defensive[i], pat, len))
			return 1;
	return 0;
}

const char *classify_kind_name(enum classify_kind k)
{
	static const char *const names[] = { "", "vcs", "dependencies", "cache", "build-output" };

	return (unsigned)k < sizeof(names) / sizeof(names[0]) ? names[k] : "";
}
