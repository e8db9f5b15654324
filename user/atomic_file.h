/* SPDX-License-Identifier: GPL-2.0 */
/*
 * atomic_file.h - write a report so that its path holds either the old file or the whole new
 * one, never a part of it, and check beforehand that it can be written.
 *
 * A report written in place (fopen "w") is truncated first: a full disk, a kill or a crash
 * then leaves a partial file that a CI job may parse as a report. Here the content goes to a
 * temporary file in the same directory (rename() is atomic only within one file system), is
 * fsync()ed, and is renamed over the path; the directory is fsync()ed so that the rename
 * survives a crash too. A path that exists and is not a regular file (/dev/stdout, a FIFO,
 * /dev/null, a terminal) is written in place: renaming over it would replace the device.
 *
 * Header-only: sgtrace and sgstress are separate programs, each includes it once.
 */
#ifndef ATOMIC_FILE_H
#define ATOMIC_FILE_H

#ifndef _GNU_SOURCE
#error "atomic_file.h needs _GNU_SOURCE (mkostemp) defined before the first #include"
#endif

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The file a report goes to, and how it is written. */
struct afile_target {
	char path[PATH_MAX];	/* what a symbolic link points to: replacing the link would cut it */
	char tmp[PATH_MAX];	/* the temporary file next to it ("" when writing in place) */
	bool inplace;		/* exists and is not a regular file */
	bool exists;
	mode_t mode;		/* of the new file: the old one's, or 0666 & ~umask */
};

static inline int afile_resolve(const char *path, struct afile_target *t)
{
	const char *slash;
	struct stat st;
	mode_t mask;
	int n;

	memset(t, 0, sizeof(*t));
	if (stat(path, &st) == 0) {
		t->exists = true;
		if (S_ISDIR(st.st_mode))
			return -EISDIR;
		t->inplace = !S_ISREG(st.st_mode);
		t->mode = st.st_mode & 07777;
		if (!realpath(path, t->path))
			return -errno;
		if (t->inplace)
			return 0;
	} else if (errno != ENOENT) {
		return -errno;
	} else {
		if (strlen(path) >= sizeof(t->path))
			return -ENAMETOOLONG;
		strcpy(t->path, path);
		/* umask() is the only way to read it; no other thread creates files meanwhile. */
		mask = umask(0);
		umask(mask);
		t->mode = 0666 & ~mask;
	}
	slash = strrchr(t->path, '/');
	if (slash)
		n = snprintf(t->tmp, sizeof(t->tmp), "%.*s.%s.XXXXXX", (int)(slash + 1 - t->path),
			     t->path, slash + 1);
	else
		n = snprintf(t->tmp, sizeof(t->tmp), ".%s.XXXXXX", t->path);
	return n < 0 || (size_t)n >= sizeof(t->tmp) ? -ENAMETOOLONG : 0;
}

/* write() may write less than asked, or be interrupted by our own signal handlers. */
static inline int afile_write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		buf += n;
		len -= n;
	}
	return 0;
}

/* Devices, pipes and some file systems cannot be synced: nothing to make durable there. */
static inline bool afile_sync_unsupported(int err)
{
	return err == EINVAL || err == EROFS || err == ENOTSUP;
}

static inline int afile_write_inplace(const char *path, const char *buf, size_t len,
				      const char **step)
{
	int fd, ret;

	*step = "opening it to write in place";
	fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	*step = "writing it in place";
	ret = afile_write_all(fd, buf, len);
	if (!ret && fsync(fd) && !afile_sync_unsupported(errno)) {
		*step = "syncing it";
		ret = -errno;
	}
	if (close(fd) && !ret) {
		*step = "closing it";
		ret = -errno;
	}
	return ret;
}

/* Makes the rename durable: it lives in the directory. */
static inline int afile_sync_dir(const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	int fd, ret = 0;

	if (!slash)
		strcpy(dir, ".");
	else if (slash == path)
		strcpy(dir, "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fsync(fd) && !afile_sync_unsupported(errno))
		ret = -errno;
	close(fd);
	return ret;
}

/**
 * afile_write() - replace @path with @len bytes of @buf, or leave it as it was
 * @path: the file; "-" is stdout
 * @buf: the content
 * @len: its length
 * @step: set to what failed ("creating a temporary file next to it", ...) for the message
 *
 * On failure the temporary file is removed and @path is untouched (unless it is written in
 * place, see above).
 *
 * Return: 0, or -errno.
 */
static inline int afile_write(const char *path, const char *buf, size_t len, const char **step)
{
	struct afile_target t;
	int fd, ret;

	*step = "writing it";
	if (!strcmp(path, "-")) {
		if (fflush(stdout))
			return -errno;
		return afile_write_all(STDOUT_FILENO, buf, len);
	}
	*step = "looking it up";
	ret = afile_resolve(path, &t);
	if (ret)
		return ret;
	if (t.inplace)
		return afile_write_inplace(t.path, buf, len, step);

	*step = "creating a temporary file next to it";
	fd = mkostemp(t.tmp, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	*step = "writing it";
	ret = afile_write_all(fd, buf, len);
	if (!ret && fchmod(fd, t.mode)) {
		*step = "setting its mode";
		ret = -errno;
	}
	if (!ret && fsync(fd) && !afile_sync_unsupported(errno)) {
		*step = "syncing it";
		ret = -errno;
	}
	if (close(fd) && !ret) {
		*step = "closing it";
		ret = -errno;
	}
	if (!ret && rename(t.tmp, t.path)) {
		*step = "renaming the temporary file over it";
		ret = -errno;
	}
	if (ret) {
		unlink(t.tmp);
		return ret;
	}
	ret = afile_sync_dir(t.path);
	if (ret)
		*step = "syncing its directory";
	return ret;
}

/**
 * afile_check() - can afile_write() write @path? Changes nothing.
 * @path: the file; "-" is stdout
 * @step: set to what failed
 *
 * Creates and removes a temporary file next to @path (the rename needs the directory to be
 * writable, not the file); for a path written in place, checks that it can be opened for
 * writing (without opening it: a FIFO would block).
 *
 * Return: 0, or -errno.
 */
static inline int afile_check(const char *path, const char **step)
{
	struct afile_target t;
	int fd, ret;

	if (!strcmp(path, "-"))
		return 0;
	*step = "looking it up";
	ret = afile_resolve(path, &t);
	if (ret)
		return ret;
	if (t.inplace) {
		*step = "checking that it is writable";
		return access(t.path, W_OK) ? -errno : 0;
	}
	*step = "creating a temporary file next to it";
	fd = mkostemp(t.tmp, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	close(fd);
	unlink(t.tmp);
	return 0;
}

#endif /* ATOMIC_FILE_H */
