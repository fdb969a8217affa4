/* SPDX-License-Identifier: MIT */
/*
 * daemon.h - mailhookd's life (daemon.c): the one place that makes every
 * subsystem, hands each what it uses and calls them; no subsystem calls it.
 *
 *   daemon_run(conf, config_path, foreground)  the daemon's life; takes over
 *                                              the caller's reference to conf;
 *                                              returns the exit code
 *   daemon_check_conf(conf, err)               what conf_load cannot check:
 *                                              endpoints, the SSRF allow-list;
 *                                              err reads "FILE[:LINE]: ..."
 *                                              like conf_load's
 */
#ifndef MH_DAEMON_H
#define MH_DAEMON_H

#include <stdbool.h>

#include "conf.h"

int daemon_run(mh_conf_t *conf, const char *config_path, bool foreground);
int daemon_check_conf(const mh_conf_t *conf, mh_err_t *err);

#endif
