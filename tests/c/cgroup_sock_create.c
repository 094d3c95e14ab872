/* At socket creation: refuse raw IPv6 sockets, mark the others by type and protocol, and bind
 * UDP ones to interface 1. */
#include "lab.h"

SEC("cgroup/sock_create")
int cgroup_sock_create(struct bpf_sock *sk)
{
	if (sk->family == 10 /* AF_INET6 */ && sk->type == 3 /* SOCK_RAW */)
		return 0;
	sk->mark = (sk->type << 8) | (sk->protocol & 0xff);
	if (sk->protocol == 17)
		sk->bound_dev_if = 1;
	return 1;
}

char LICENSE[] SEC("license") = "GPL";
