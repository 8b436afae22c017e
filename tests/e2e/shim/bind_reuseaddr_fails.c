/* A deliberately broken libc for one test (LD_PRELOAD): bind() of a socket with SO_REUSEADDR
 * set fails with EADDRINUSE. The suite run under it must fail, or the e2e tests that run real
 * cases would not notice a broken kernel or runner. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <sys/socket.h>

int bind(int fd, const struct sockaddr *addr, socklen_t len)
{
	static int (*real_bind)(int, const struct sockaddr *, socklen_t);
	int on = 0;
	socklen_t olen = sizeof(on);

	if (getsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, &olen) == 0 && on) {
		errno = EADDRINUSE;
		return -1;
	}
	if (!real_bind)
		real_bind = (int (*)(int, const struct sockaddr *, socklen_t))dlsym(RTLD_NEXT, "bind");
	return real_bind(fd, addr, len);
}
