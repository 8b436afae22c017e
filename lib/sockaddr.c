#include "lib/sockaddr.h"

#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>

socklen_t sockaddr_fill(struct sockaddr_storage *ss, int family, const void *addr, unsigned short port)
{
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;

		a->sin6_family = AF_INET6;
		a->sin6_port = htons(port);
		if (addr)
			memcpy(&a->sin6_addr, addr, sizeof(a->sin6_addr));
		return sizeof(*a);
	}
	struct sockaddr_in *a = (struct sockaddr_in *)ss;

	a->sin_family = AF_INET;
	a->sin_port = htons(port);
	if (addr)
		memcpy(&a->sin_addr, addr, sizeof(a->sin_addr));
	return sizeof(*a);
}
