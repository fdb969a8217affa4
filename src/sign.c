/* sign.c - placeholder until implemented. */
#include "config.h"
#include "sign.h"
int sign_placeholder_(void);
int sign_placeholder_(void) { return 0; }
