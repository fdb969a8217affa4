/* endpoint.c - placeholder until implemented. */
#include "config.h"
#include "endpoint.h"
int endpoint_placeholder_(void);
int endpoint_placeholder_(void) { return 0; }
