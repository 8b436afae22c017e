/* One record of the socket-options iterator: what sock_diag does not tell about a socket.
 * Shared by the BPF program (observe/sockopts.bpf.c) and its reader (observe/sockopts.c). */
#ifndef SOCKREUSE_OBSERVE_SOCKOPTS_REC_H
#define SOCKREUSE_OBSERVE_SOCKOPTS_REC_H
#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

struct sockopt_rec {
	__u64 cookie;        /* the socket cookie sock_diag reports: how the two views are joined */
	__u16 family;        /* AF_INET, AF_INET6 */
	__u16 lport;         /* host order */
	__u8 proto;          /* IPPROTO_TCP, IPPROTO_UDP */
	__u8 state;
	__u8 reuse;          /* sk_reuse: SO_REUSEADDR (1, or 2 for SK_FORCE_REUSE) */
	__u8 reuseport;      /* sk_reuseport: SO_REUSEPORT */
	__u8 ipv6only;       /* sk_ipv6only: IPV6_V6ONLY */
	__u8 pad[3];
	__s32 bound_dev_if;  /* SO_BINDTODEVICE */
	__u32 pad2;
};

#endif
