#include "lib/sockaddr.h"

#include <stdbool.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>

socklen_t sockaddr_fill(struct sockaddr_storage *ss, int family, const void *addr, unsigned short port)
{
	struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
	bool v6 = family == AF_INET6;

	memset(ss, 0, sizeof(*ss));
	ss->ss_family = v6 ? AF_INET6 : AF_INET;
	*(v6 ? &a6->sin6_port : &a4->sin_port) = htons(port);
	if (addr)
		memcpy(v6 ? (void *)&a6->sin6_addr : (void *)&a4->sin_addr, addr,
		       v6 ? sizeof(a6->sin6_addr) : sizeof(a4->sin_addr));
	return v6 ? sizeof(*a6) : sizeof(*a4);
}
