/*
 * commands.h - the subcommands of the postern admin command.
 *
 * Each takes the arguments after its own name (argv[0] is the subcommand
 * name) and returns the process exit status (0 ok, 1 failure found,
 * 64 usage, 78 config error), so main() only dispatches.
 */
#ifndef POSTERN_COMMANDS_H
#define POSTERN_COMMANDS_H

/* postern run [-c FILE] [-n]: start every enabled component, supervise. */
int cmd_run(int argc, char **argv);

/* postern check [-c FILE]: validate the config file; 0 or 78. */
int cmd_check(int argc, char **argv);

/* postern audit verify FILE...: check the audit log hash chain. */
int cmd_audit(int argc, char **argv);

/* postern why [options] [QUEUEID]: the steps of a message from the
 * audit log, and the outcome. */
int cmd_why(int argc, char **argv);

/* postern stats [-c FILE]: metrics of the running components. */
int cmd_stats(int argc, char **argv);

/* postern policyd status [-c FILE] [-l LIMIT -k KEY | -t N]: ask the
 * running policy daemon. */
int cmd_policyd(int argc, char **argv);

/* postern dkim keygen|check-dns ...: make a DKIM key and print its DNS
 * record; check that the published record matches the private key. */
int cmd_dkim(int argc, char **argv);
/* postern dmarc report [-c FILE] [--period P] [--out DIR] [--receiver D]
 * [--send]: RFC 7489 aggregate reports from the DMARC history.
 * postern dmarc lookup [-c FILE] DOMAIN: the DMARC policy of DOMAIN. */
int cmd_dmarc(int argc, char **argv);

#endif
