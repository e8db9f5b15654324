/* SPDX-License-Identifier: GPL-2.0 */
/* sgstress_opts.h - sgstress's command line. */
#ifndef SGSTRESS_OPTS_H
#define SGSTRESS_OPTS_H

#include "sgstress.h"

/*
 * Fills @cfg from the command line. Prints help and exits 0 for --help; prints what is wrong
 * and the usage, and exits SGS_EXIT_USAGE, for a bad option or value.
 */
void sgs_parse_args(int argc, char **argv, struct sgs_config *cfg);

/* Names of the layout and direction choices, as the command line spells them. */
const char *sgs_layout_name(enum sgs_layout layout);
const char *sgs_dir_name(enum sgs_dir dir);

#endif /* SGSTRESS_OPTS_H */
