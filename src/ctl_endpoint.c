/* ctl_endpoint.c - placeholder. */
#include "config.h"
#include "ctl_endpoint.h"
int ctl_endpoint_placeholder_(void);
int ctl_endpoint_placeholder_(void) { return 0; }
