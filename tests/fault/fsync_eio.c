// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Fault injection for the integration tests, LD_PRELOADed into the agent:
 * while the file named by $SLOTAP_FAULT_EIO exists, fsync() and
 * fdatasync() fail with EIO, as a disk that cannot write back does (what
 * the kernel reports after writeback fails). A real EIO needs a failing
 * device; this kernel has no device-mapper to make one.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

static int failing(void)
{
	const char *sw = getenv("SLOTAP_FAULT_EIO");

	return sw && !access(sw, F_OK);
}

int fsync(int fd)
{
	static int (*real)(int);

	if (failing()) {
		errno = EIO;
		return -1;
	}
	if (!real)
		real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
	return real(fd);
}

int fdatasync(int fd)
{
	static int (*real)(int);

	if (failing()) {
		errno = EIO;
		return -1;
	}
	if (!real)
		real = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
	return real(fd);
}
