/* fleetyard-sim: the state directory (sim_state.c). Not thread-safe. */
#ifndef FY_TOOLS_SIM_STATE_H
#define FY_TOOLS_SIM_STATE_H

#include <stdbool.h>
#include <stddef.h>

#include "tools/sim.h"

/* A growable list of thing names. */
struct sim_names {
    char (*v)[SIM_NAME_MAX];
    size_t n, cap;
};

/* "<dir>/certs/<name>.<ext>" (or "<dir>/<name>" when ext is NULL) into out; -1 if too long. */
int sim_state_path(const char *dir, const char *name, const char *ext, char *out, size_t size);
/* Creates dir and dir/certs (0700) when missing; 0 or -1 (message printed). */
int sim_state_open(const char *dir);
/* Loads devices.txt into l (empty when the file does not exist); 0 or -1. */
int sim_state_load(const char *dir, struct sim_names *l);
/* Appends name (shorter than SIM_NAME_MAX); 0 or -1 (no memory). */
int sim_names_add(struct sim_names *l, const char *name);
bool sim_names_has(const struct sim_names *l, const char *name);
void sim_names_free(struct sim_names *l);
/* Appends name to devices.txt. */
int sim_state_mark_done(const char *dir, const char *name);
/* Replaces devices.txt with keep (atomically). */
int sim_state_rewrite(const char *dir, const struct sim_names *keep);
/* Writes text to path through a temp file and rename; mode for the new file. */
int sim_write_file(const char *path, const char *text, int mode);
/* First line of path (without the newline) into out; -1 when unreadable. */
int sim_read_line(const char *path, char *out, size_t size);

#endif
