/* `fleetyard-server keys`: manage operator access keys (operators/operators.h) on a data dir's
 * database, while the server runs or not. */
#ifndef FY_SERVER_KEYS_H
#define FY_SERVER_KEYS_H

/* Runs the command with the arguments after "keys"; prints JSON on stdout, errors on stderr.
 * Returns the process exit code: 0 done, 1 refused (error type and message printed), 2 usage. */
int fy_keys_main(int argc, char **argv);

#endif
