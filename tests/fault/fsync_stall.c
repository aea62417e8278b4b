// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Fault injection for the integration tests, LD_PRELOADed into the agent:
 * while the file named by $SLOTAP_FAULT_STALL exists, fsync() and
 * fdatasync() wait for it to go, as a disk that hangs does: the state
 * save, on the main thread, stalls the ring buffer's drain (test healthz).
 */
#include <dlfcn.h>
#include <stdlib.h>
#include <unistd.h>

static void stall(void)
{
	const char *sw = getenv("SLOTAP_FAULT_STALL");

	while (sw && !access(sw, F_OK))
		usleep(50000);
}

int fsync(int fd)
{
	static int (*real)(int);

	stall();
	if (!real)
		real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
	return real(fd);
}

int fdatasync(int fd)
{
	static int (*real)(int);

	stall();
	if (!real)
		real = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
	return real(fd);
}
