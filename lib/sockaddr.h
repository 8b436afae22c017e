/* Socket addresses of either family, built and read in one place. */
#ifndef SOCKREUSE_SOCKADDR_H
#define SOCKREUSE_SOCKADDR_H
#include <sys/socket.h>

/* Fills *ss with family's address addr (a struct in_addr or in6_addr; NULL for the wildcard)
 * and port (host order); returns the length to pass to bind or connect. */
socklen_t sockaddr_fill(struct sockaddr_storage *ss, int family, const void *addr, unsigned short port);

#endif
