/*
 * preq.h - the requests policy-load sends: Postfix 3.7's attribute set
 * with keys drawn from a seeded hash, built without formatting calls so
 * the generator costs the server under test as little CPU as it can.
 *
 * NAME
 *	preq - build synthetic Postfix policy requests
 *
 * SYNOPSIS
 *	preq_space_t sp = {.senders = 100, .clients = 100, .recipients = 100,
 *	                   .seed = 1};
 *	char buf[PREQ_MAX];
 *	size_t len = preq_build(buf, &sp, n, &(preq_conn_t){worker, conn, txn});
 *
 * DESCRIPTION
 *	Request number N carries the attributes Postfix 3.7 sends
 *	(SMTPD_POLICY_README), in its order, ended by the empty line. Its
 *	keys are preq_key(SP, N, K) modulo the size of each key space:
 *	sender user<i>@example.org, recipient rcpt<i>@example.com, client
 *	10.x.y.z / client<i>.example.net (i from 1), SASL user sasl<i>
 *	(none when sasl_users is 0), a size of 1000 + (key % 100000) bytes.
 *	The request is the same whatever thread or connection sends it,
 *	except for "instance" (worker, connection and transaction counters
 *	in hex, as Postfix formats them), queue_id (worker and N) and
 *	client_port (from N).
 *
 *	preq_build writes at most PREQ_MAX bytes (every field is bounded:
 *	key indexes are 32-bit) and NUL-terminates them; it never fails.
 *	Pure: no allocation, no I/O, no locale.
 */
#ifndef POSTERN_PREQ_H
#define POSTERN_PREQ_H

#include <stddef.h>
#include <stdint.h>

#define PREQ_MAX 1024

/* The key kinds preq_key() draws (their order is part of the sequence). */
enum { PREQ_SENDER, PREQ_CLIENT, PREQ_RCPT, PREQ_SASL, PREQ_SIZE, PREQ_NKEYS };

typedef struct {
    unsigned senders, clients, recipients;      /* each >= 1 */
    unsigned sasl_users;                        /* 0: no SASL */
    unsigned long seed;
    int eom;                    /* END-OF-MESSAGE instead of RCPT */
} preq_space_t;

/* Who sends: Postfix's instance attribute and the queue id. */
typedef struct {
    unsigned worker;
    unsigned long conn;         /* connections opened by the worker */
    unsigned txn;               /* requests sent on the connection */
} preq_conn_t;

/* Key K (PREQ_SENDER...) of request N: SplitMix64's finaliser of
 * (seed << 40) + N * PREQ_NKEYS + K, before the modulo. */
uint64_t preq_key(const preq_space_t *sp, uint64_t n, unsigned k);

/* Writes request N to BUF (PREQ_MAX bytes); its length, without the NUL. */
size_t preq_build(char *buf, const preq_space_t *sp, uint64_t n, const preq_conn_t *who);

#endif
