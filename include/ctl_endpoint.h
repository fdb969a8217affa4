#ifndef MH_CTL_ENDPOINT_H
#define MH_CTL_ENDPOINT_H
#endif
