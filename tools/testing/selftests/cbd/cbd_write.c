// SPDX-License-Identifier: GPL-2.0
/*
 * cbd_write FILE STRING
 *
 * Write STRING to FILE (a sysfs attribute) in exactly one write(2) and
 * print the result on stdout: "OK" if the whole string was accepted,
 * "PARTIAL <n>" if write(2) returned a short count n, or the errno name
 * ("EINVAL", "EBUSY", ...) if it failed.  The exit status is 0 in all of
 * these cases; 2 on a usage error or if FILE cannot be opened (the errno
 * name of the open failure is printed prefixed with "open:").
 *
 * STRING may contain the escapes \xHH (any byte, including NUL), \n, \t
 * and \\, so that tests can send binary bytes and embedded NULs.
 *
 * Build statically so that it runs in the test VM's initramfs:
 *   gcc -static -O2 -o cbd_write cbd_write.c
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const struct {
	int err;
	const char *name;
} errnames[] = {
	{ EPERM, "EPERM" },	{ ENOENT, "ENOENT" },	{ ESRCH, "ESRCH" },
	{ EINTR, "EINTR" },	{ EIO, "EIO" },		{ ENXIO, "ENXIO" },
	{ E2BIG, "E2BIG" },	{ EBADF, "EBADF" },	{ EAGAIN, "EAGAIN" },
	{ ENOMEM, "ENOMEM" },	{ EACCES, "EACCES" },	{ EFAULT, "EFAULT" },
	{ ENOTBLK, "ENOTBLK" },	{ EBUSY, "EBUSY" },	{ EEXIST, "EEXIST" },
	{ EXDEV, "EXDEV" },	{ ENODEV, "ENODEV" },	{ ENOTDIR, "ENOTDIR" },
	{ EISDIR, "EISDIR" },	{ EINVAL, "EINVAL" },	{ ENFILE, "ENFILE" },
	{ EMFILE, "EMFILE" },	{ ENOTTY, "ENOTTY" },	{ EFBIG, "EFBIG" },
	{ ENOSPC, "ENOSPC" },	{ ESPIPE, "ESPIPE" },	{ EROFS, "EROFS" },
	{ ERANGE, "ERANGE" },	{ EDEADLK, "EDEADLK" },
	{ ENAMETOOLONG, "ENAMETOOLONG" },		{ ENOSYS, "ENOSYS" },
	{ ENOTEMPTY, "ENOTEMPTY" },			{ ENODATA, "ENODATA" },
	{ ETIMEDOUT, "ETIMEDOUT" },			{ EOVERFLOW, "EOVERFLOW" },
	{ EOPNOTSUPP, "EOPNOTSUPP" },			{ EALREADY, "EALREADY" },
	{ EINPROGRESS, "EINPROGRESS" },			{ ESTALE, "ESTALE" },
	{ EUCLEAN, "EUCLEAN" },				{ EMEDIUMTYPE, "EMEDIUMTYPE" },
	{ ECANCELED, "ECANCELED" },			{ ENOKEY, "ENOKEY" },
	{ EKEYREJECTED, "EKEYREJECTED" },		{ EILSEQ, "EILSEQ" },
	{ 524, "ENOTSUPP" },	/* kernel-internal, can leak from drivers */
};

static void print_errno(const char *prefix, int err)
{
	size_t i;

	for (i = 0; i < sizeof(errnames) / sizeof(errnames[0]); i++) {
		if (errnames[i].err == err) {
			printf("%s%s\n", prefix, errnames[i].name);
			return;
		}
	}
	printf("%sE%d\n", prefix, err);
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decode the escapes of @s into @out; return the decoded length. */
static size_t unescape(const char *s, char *out)
{
	size_t n = 0;

	while (*s) {
		if (s[0] == '\\' && s[1] == 'x' &&
		    hexval(s[2]) >= 0 && hexval(s[3]) >= 0) {
			out[n++] = (char)(hexval(s[2]) * 16 + hexval(s[3]));
			s += 4;
		} else if (s[0] == '\\' && s[1] == 'n') {
			out[n++] = '\n';
			s += 2;
		} else if (s[0] == '\\' && s[1] == 't') {
			out[n++] = '\t';
			s += 2;
		} else if (s[0] == '\\' && s[1] == '\\') {
			out[n++] = '\\';
			s += 2;
		} else {
			out[n++] = *s++;
		}
	}
	return n;
}

int main(int argc, char **argv)
{
	size_t len;
	ssize_t ret;
	char *buf;
	int fd;

	if (argc != 3) {
		fprintf(stderr, "usage: %s FILE STRING\n", argv[0]);
		return 2;
	}

	buf = malloc(strlen(argv[2]) + 1);
	if (!buf) {
		perror("malloc");
		return 2;
	}
	len = unescape(argv[2], buf);

	fd = open(argv[1], O_WRONLY);
	if (fd < 0) {
		print_errno("open:", errno);
		return 2;
	}

	ret = write(fd, buf, len);
	if (ret < 0)
		print_errno("", errno);
	else if ((size_t)ret != len)
		printf("PARTIAL %zd\n", ret);
	else
		printf("OK\n");

	close(fd);
	free(buf);
	return 0;
}
