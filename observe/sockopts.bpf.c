/* A read-only BPF iterator over the TCP and UDP sockets of the reader's network namespace:
 * for each socket, the options sock_diag does not report (SO_REUSEADDR, SO_REUSEPORT, and
 * IPV6_V6ONLY and the bound device of timewait sockets, which keep them in sock_common).
 * It only reads kernel memory (CO-RE, against the running kernel's BTF) and writes its
 * records to the iterator's seq_file; it changes no socket. */
#include "observe/vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "observe/sockopts_rec.h"

/* bpf_seq_write() is offered to GPL programs only. */
char LICENSE[] SEC("license") = "GPL";

static __always_inline int emit(struct seq_file *seq, struct sock_common *skc, __u8 proto)
{
	struct sockopt_rec r = {};

	r.cookie = BPF_CORE_READ(skc, skc_cookie.counter);
	r.family = BPF_CORE_READ(skc, skc_family);
	r.lport = BPF_CORE_READ(skc, skc_num);
	r.proto = proto;
	r.state = BPF_CORE_READ(skc, skc_state);
	r.reuse = BPF_CORE_READ_BITFIELD_PROBED(skc, skc_reuse);
	r.reuseport = BPF_CORE_READ_BITFIELD_PROBED(skc, skc_reuseport);
	r.ipv6only = BPF_CORE_READ_BITFIELD_PROBED(skc, skc_ipv6only);
	r.bound_dev_if = BPF_CORE_READ(skc, skc_bound_dev_if);
	bpf_seq_write(seq, &r, sizeof(r));
	return 0;
}

SEC("iter/tcp")
int sockopts_tcp(struct bpf_iter__tcp *ctx)
{
	struct sock_common *skc = ctx->sk_common;

	if (!skc)
		return 0;
	return emit(ctx->meta->seq, skc, 6 /* IPPROTO_TCP */);
}

SEC("iter/udp")
int sockopts_udp(struct bpf_iter__udp *ctx)
{
	struct udp_sock *udp = ctx->udp_sk;

	if (!udp)
		return 0;
	/* struct udp_sock begins with struct inet_sock, which begins with struct sock. */
	return emit(ctx->meta->seq, (struct sock_common *)udp, 17 /* IPPROTO_UDP */);
}
