/* ssrf.c - placeholder until implemented. */
#include "config.h"
#include "ssrf.h"
int ssrf_placeholder_(void);
int ssrf_placeholder_(void) { return 0; }
